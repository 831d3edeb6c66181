"""The data path of finfuse_bench_data done the way a Python user would do it with pandas and numpy, on the real
StockNet files: parse prices and tweets, assemble the point-in-time samples (labels from the next close, 5-day
windows, dead zone dropped, date split), and build the dataset (price windows as returns, the newest 10 tweets
published between the close 5 trading days before the window's end and the decision, a word vocabulary from the
training samples' tweets, token ids [N, 10, 32]). Prints "step seconds" lines and the sample count.

Usage: python3 data_bench.py DATA_DIR [--repeat N]
"""
import argparse
import collections
import json
import os
import re
import statistics
import time

import numpy as np
import pandas as pd

WINDOW, MAX_TEXTS, MAX_LENGTH, LOOKBACK = 5, 10, 32, 5
TOKEN = re.compile(r"[a-z0-9_]+|[^\sa-z0-9_]")


def parse_prices(path):
    prices = pd.read_csv(path, parse_dates=["date"])
    prices = prices.dropna(subset=["open", "high", "low", "close", "adj_close", "volume"])
    return prices.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


def parse_tweets(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            for tweet in record["tweets"]:
                rows.append((record["symbol"], tweet["created_at"], tweet["text"]))
    tweets = pd.DataFrame(rows, columns=["symbol", "created_at", "text"])
    tweets["time"] = pd.to_datetime(tweets["created_at"], format="%a %b %d %H:%M:%S %z %Y", utc=True)
    return tweets.sort_values(["symbol", "time"], kind="stable").reset_index(drop=True)


def assemble(prices):
    p = prices.copy()
    g = p.groupby("symbol", sort=False)
    p["bar"] = g.cumcount()
    p["movement"] = p["adj_close"] / g["adj_close"].shift(1) - 1.0
    day = p["date"]
    keep = (day >= "2014-01-01") & (day <= "2015-12-31") & (p["bar"] >= WINDOW + 1)
    keep &= (p["movement"] <= -0.005) | (p["movement"] > 0.0055)
    samples = p.loc[keep, ["symbol", "date", "bar", "movement"]].copy()
    samples["label"] = (samples["movement"] > 0).astype(np.int64)
    # The decision is before the open of the target day (09:30 New York), the inputs end with the previous bar.
    opens = (samples["date"] + pd.Timedelta(hours=9, minutes=30)).dt.tz_localize("America/New_York")
    samples["decision"] = opens.dt.tz_convert("UTC")
    samples = samples.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    split = np.where(samples["date"] < "2015-08-01", "train", np.where(samples["date"] < "2015-10-01", "valid", "test"))
    samples["split"] = split
    return samples


def build(prices, tweets, samples):
    # Price windows: adjusted open/high/low/close over the previous adjusted close, log1p volume demeaned.
    factor = prices["adj_close"] / prices["close"]
    previous = prices.groupby("symbol", sort=False)["adj_close"].shift(1).fillna(prices["adj_close"])
    features = np.stack([prices["open"] * factor / previous - 1, prices["high"] * factor / previous - 1,
                         prices["low"] * factor / previous - 1, prices["adj_close"] / previous - 1,
                         np.log1p(prices["volume"])], axis=1)
    start_row = prices.groupby("symbol", sort=False).cumcount().to_numpy()
    first_of_symbol = np.arange(len(prices)) - start_row
    rows = {s: r for s, r in zip(prices["symbol"].unique(), np.unique(first_of_symbol))}
    last = np.array([rows[s] for s in samples["symbol"]]) + samples["bar"].to_numpy() - 1
    index = last[:, None] - np.arange(WINDOW - 1, -1, -1)[None, :]
    windows = features[index]
    windows[:, :, 4] -= windows[:, :, 4].mean(axis=1, keepdims=True)

    # Tweet windows: after the close (16:00 New York) of the bar LOOKBACK bars before the window's end, before the
    # decision; the newest MAX_TEXTS.
    dates = prices["date"].to_numpy()
    closes = (pd.DatetimeIndex(dates[last - LOOKBACK]) + pd.Timedelta(hours=16)).tz_localize("America/New_York")
    starts = closes.tz_convert(None).to_numpy()
    cutoffs = samples["decision"].dt.tz_convert(None).to_numpy()
    by_symbol = {s: (g["time"].dt.tz_convert(None).to_numpy(), g["text"].to_numpy())
                 for s, g in tweets.groupby("symbol", sort=False)}
    texts = []
    for symbol, start, cutoff in zip(samples["symbol"], starts, cutoffs):
        times, values = by_symbol.get(symbol, (np.array([], dtype="datetime64[ns]"), np.array([])))
        lo = np.searchsorted(times, start, side="right")
        hi = np.searchsorted(times, cutoff, side="left")
        texts.append(values[max(lo, hi - MAX_TEXTS):hi][::-1])

    # Vocabulary from the tweets training samples can see (each tweet once), minimum frequency 2.
    counts, seen = collections.Counter(), set()
    for sample_texts, split in zip(texts, samples["split"]):
        if split != "train":
            continue
        for text in sample_texts:
            if id(text) not in seen:
                seen.add(id(text))
                counts.update(TOKEN.findall(text.lower()))
    vocabulary = {"[PAD]": 0, "[UNK]": 1}
    for word, n in counts.most_common(30000):
        if n >= 2:
            vocabulary[word] = len(vocabulary)
    ids = np.zeros((len(samples), MAX_TEXTS, MAX_LENGTH), dtype=np.int64)
    for i, sample_texts in enumerate(texts):
        for k, text in enumerate(sample_texts):
            tokens = [vocabulary.get(t, 1) for t in TOKEN.findall(text.lower())[:MAX_LENGTH]]
            ids[i, k, :len(tokens)] = tokens
    return windows.astype(np.float32), ids, len(vocabulary)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stocknet = os.path.join(args.data_dir, "stocknet")
    timings = collections.defaultdict(list)
    for _ in range(args.repeat):
        start = time.perf_counter()
        prices = parse_prices(os.path.join(stocknet, "prices.csv"))
        timings["parse_prices"].append(time.perf_counter() - start)
        start = time.perf_counter()
        tweets = parse_tweets(os.path.join(stocknet, "tweets.jsonl"))
        timings["parse_tweets"].append(time.perf_counter() - start)
        start = time.perf_counter()
        samples = assemble(prices)
        timings["assemble"].append(time.perf_counter() - start)
        start = time.perf_counter()
        windows, ids, vocabulary = build(prices, tweets, samples)
        timings["build"].append(time.perf_counter() - start)
    for step, values in timings.items():
        print(f"{step} {statistics.median(values):.4f}")
    print(f"total {sum(statistics.median(v) for v in timings.values()):.4f}")
    print(f"samples {len(samples)}")
    print(f"vocabulary {vocabulary}")
    print(f"texts_present {float((ids[:, 0, 0] != 0).mean()):.4f}")


if __name__ == "__main__":
    main()
