"""Writes the Parquet files of the Parquet input tests with pandas and pyarrow, next to CSV files of the same data.

    python parquet_references.py OUT_DIR

prices.csv / prices.parquet          two symbols' daily bars (pandas datetime64 dates: Parquet timestamps)
prices_groups.parquet                the same in row groups of three rows, dates as Parquet date32
table.csv / table.parquet            a numeric table with a missing value and a pandas categorical column
texts.jsonl / texts.parquet          four texts (tz-aware timestamps; texts_naive.parquet: the same without time zone)
bad_*.parquet                        texts with an empty text and a bad time, a price column of strings with a non-number, a NaN, a tz-aware date,
                                     a list column, a truncated file
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(7)
dates = pd.bdate_range("2020-01-02", periods=6)
rows = []
for symbol in ["AAA", "BBB"]:
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(dates))))
    for date, c in zip(dates, close):
        o = c * (1 + rng.normal(0, 0.002))
        rows.append({"symbol": symbol, "date": date, "open": o, "high": max(o, c) * 1.01, "low": min(o, c) * 0.99,
                     "close": c, "adj_close": c * 0.98, "volume": int(rng.integers(1000, 100000))})
prices = pd.DataFrame(rows)
prices.to_parquet(os.path.join(out, "prices.parquet"), index=False)
# The CSV twin with every double written in its shortest exact form (repr), so both files hold the same numbers.
csv = prices.copy()
csv["date"] = csv["date"].dt.strftime("%Y-%m-%d")
with open(os.path.join(out, "prices.csv"), "w") as f:
    f.write(",".join(csv.columns) + "\n")
    for r in csv.itertuples(index=False):
        f.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in r) + "\n")

groups = pa.Table.from_pandas(prices.assign(date=prices["date"].dt.date), preserve_index=False)
assert groups.schema.field("date").type == pa.date32()
pq.write_table(groups, os.path.join(out, "prices_groups.parquet"), row_group_size=3)

table = pd.DataFrame({"entity": ["AAA", "AAA", "BBB", "BBB"],
                      "date": pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-02", "2020-01-03"]),
                      "pe": [12.5, np.nan, 30.25, 31.0],
                      "sector": pd.Categorical(["tech", "tech", "energy", "energy"])})
table.to_parquet(os.path.join(out, "table.parquet"), index=False)
with open(os.path.join(out, "table.csv"), "w") as f:
    f.write("entity,date,pe,sector\n")
    for r in table.itertuples(index=False):
        pe = "" if np.isnan(r.pe) else repr(r.pe)
        f.write(f"{r.entity},{r.date:%Y-%m-%d},{pe},{r.sector}\n")

# Row 3: a price column stored as strings, one of them not a number.
bad = prices.copy()
bad["close"] = bad["close"].map(repr)
bad.loc[2, "close"] = "abc"
bad.to_parquet(os.path.join(out, "bad_string_close.parquet"), index=False)
# Row 4: NaN as a value (not a null).
bad = prices.copy()
bad.loc[3, "close"] = np.nan
pq.write_table(pa.Table.from_pandas(bad, preserve_index=False).set_column(
    5, "close", pa.array(bad["close"].to_numpy(), from_pandas=False)), os.path.join(out, "bad_nan_close.parquet"))
# Row 5: a null close, a missing observation (skipped and counted, as an empty field in a CSV).
bad = prices.copy()
bad.loc[4, "close"] = None
bad.to_parquet(os.path.join(out, "null_close.parquet"), index=False)
# Dates as instants in New York: midnight there is 05:00 UTC, not a date.
bad = prices.copy()
bad["date"] = bad["date"].dt.tz_localize("America/New_York")
bad.to_parquet(os.path.join(out, "bad_zoned_date.parquet"), index=False)
# A column of lists.
bad = prices.copy()
bad["volume"] = [[v] for v in bad["volume"]]
bad.to_parquet(os.path.join(out, "bad_list_volume.parquet"), index=False)
# Texts, flat: tz-aware and naive UTC timestamps, a categorical entity column; the JSON Lines twin.
texts = pd.DataFrame({"symbol": pd.Categorical(["AAA", "BBB", "AAA", "AAA"]),
                      "created_at": pd.to_datetime(["2020-01-02 14:30:00", "2020-01-02 15:00:00.250",
                                                    "2020-01-01 09:00:00", "2020-01-03 20:00:00"], utc=True,
                                                   format="ISO8601"),
                      "text": ["$AAA beats estimates", "guidance cut \u2014 $BBB", "pre-market: $AAA", "$AAA déjà vu"]})
texts.to_parquet(os.path.join(out, "texts.parquet"), index=False)
texts.assign(created_at=texts["created_at"].dt.tz_localize(None)).to_parquet(
    os.path.join(out, "texts_naive.parquet"), index=False)
with open(os.path.join(out, "texts.jsonl"), "w", encoding="utf-8") as f:
    for r in texts.itertuples(index=False):
        when = r.created_at.strftime("%Y-%m-%dT%H:%M:%S") + (".250" if r.created_at.microsecond else "") + "Z"
        f.write(json.dumps({"symbol": r.symbol, "created_at": when, "text": r.text}, ensure_ascii=False) + "\n")
# Row 2: an empty text; row 3: a time that is not one.
bad = texts.astype({"created_at": str})
bad.loc[1, "text"] = "  "
bad.loc[2, "created_at"] = "yesterday"
bad.to_parquet(os.path.join(out, "bad_texts.parquet"), index=False)
# The first half of a valid file.
with open(os.path.join(out, "prices.parquet"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "bad_truncated.parquet"), "wb") as f:
    f.write(data[: len(data) // 2])
print(f"parquet references: {len(os.listdir(out))} files in {out} (pandas {pd.__version__}, pyarrow {pa.__version__})")
