"""Writes the golden bundles and checkpoints of the current format versions (tests/golden/format-<bundle>-<checkpoint>/):
two small models trained by the finfuse tool on data generated here, each with its bundle, the predictions the
bundle made on that data, and checkpoints (one at the end of training, one in the middle of an epoch) with the run's
test predictions. tests/golden/golden_test.cpp checks that every later finfuse loads them and predicts the same.

Run it only when a format version changes (io/format_version.h), into a new folder; never rewrite an old one.

    python3 tests/golden/make_golden.py BUILD/src/cli/finfuse [OUT (default tests/golden/format-1-1)]
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def credit(folder):
    rng = random.Random(11)
    with open(os.path.join(folder, "credit.csv"), "w") as out:
        out.write("id,limit,age,bill,paid,defaulted\n")
        for i in range(240):
            limit, age, bill, paid = rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)
            score = 0.9 * bill - 0.8 * paid - 0.5 * limit + 0.4 * rng.gauss(0, 1)
            out.write(f"{i},{50000 + 20000 * limit:.2f},{40 + 9 * age:.1f},{9000 + 4000 * bill:.2f},"
                      f"{3000 + 1500 * paid:.2f},{int(score > 0.3)}\n")
    return {
        "runtime": {"seed": 3},
        "data": {"tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                                       "label_column": "defaulted"}},
                 "samples_from_table": "credit",
                 "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1},
                 "dataset": {"modalities": ["numeric"]}},
        "model": {"encoders": {"numeric": {"type": "mlp", "layers": [16, 8], "dropout": 0.1}},
                  "heads": {"default": {"type": "classification"}}},
        "training": {"epochs": 4, "batch_size": 16, "optimizer": {"type": "adamw", "lr": 0.01},
                     "monitor": "valid.roc_auc", "checkpoint_every_steps": 5, "keep_checkpoints": 100,
                     "progress": "none"},
    }


def market(folder):
    """Four stocks over 120 NYSE sessions with a relation graph and headlines: prices through an LSTM, text through
    a small BERT-style transformer with its own WordPiece vocabulary, fused over the graph."""
    rng = random.Random(5)
    symbols = ["AAA", "BBB", "CCC", "DDD"]
    # NYSE's full-day holidays of the period (no early close falls in it): the bars are the exchange's sessions.
    holidays = {"2016-01-18", "2016-02-15", "2016-03-25", "2016-05-30"}
    days = []
    y, m, d = 2016, 1, 4
    day_number = 0  # 2016-01-04 is a Monday
    while len(days) < 120:
        if day_number % 7 < 5 and f"{y:04}-{m:02}-{d:02}" not in holidays:
            days.append(f"{y:04}-{m:02}-{d:02}")
        day_number += 1
        d += 1
        if d > [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]:
            d, m = 1, m + 1
    words = {1: ["beats", "raises", "upgrade", "record"], -1: ["misses", "cuts", "downgrade", "probe"]}
    with open(os.path.join(folder, "prices.csv"), "w") as prices, \
            open(os.path.join(folder, "texts.jsonl"), "w") as texts:
        prices.write("symbol,date,open,high,low,close,adj_close,volume\n")
        for s in symbols:
            p = 50.0
            for i, day in enumerate(days):
                move = rng.gauss(0, 0.015)
                sign = 1 if move > 0 else -1
                if rng.random() < 0.6:
                    texts.write(json.dumps({"symbol": s, "created_at": f"{day}T12:00:00Z",
                                            "text": f"{s} {rng.choice(words[sign])} on {rng.choice(['sales', 'outlook', 'margins'])}"}) + "\n")
                o = p
                p *= math.exp(move)
                hi, lo = max(o, p) * 1.004, min(o, p) * 0.996
                prices.write(f"{s},{day},{o:.4f},{hi:.4f},{lo:.4f},{p:.4f},{p:.4f},{rng.randint(100000, 200000)}\n")
    with open(os.path.join(folder, "edges.csv"), "w") as edges:
        edges.write("source,target,relation,weight,start,end\nAAA,BBB,supplier,1,,\nBBB,CCC,sector,0.5,,\n"
                    "CCC,DDD,sector,0.5,2016-03-01,\n")
    with open(os.path.join(folder, "vocab.txt"), "w") as vocab:
        tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "on", "sales", "outlook", "margins"]
        tokens += [w for ws in words.values() for w in ws] + [s.lower() for s in symbols]
        vocab.write("\n".join(tokens) + "\n")
    return {
        "runtime": {"seed": 4},
        "data": {"prices": {"path": "prices.csv"}, "texts": {"path": "texts.jsonl"}, "graph": {"path": "edges.csv"},
                 "assembly": {"price_window": 5, "label": {"horizon": 1}, "text": {"lookback_days": 3}},
                 "split": {"valid_start": "2016-04-18", "test_start": "2016-05-16"},
                 "dataset": {"modalities": ["price", "text"], "max_texts": 3, "graph": {"kind": "edges"},
                             "tokenizer": {"kind": "wordpiece", "vocab_file": "vocab.txt", "max_length": 8}}},
        "model": {"encoders": {"price": {"type": "rnn", "cell": "lstm", "hidden": 8},
                               "text": {"type": "transformer", "hidden": 8, "layers": 1, "heads": 2,
                                        "intermediate": 16, "max_positions": 8, "pooling": "cls"}},
                  "fusion": {"type": "graph", "hidden": 8, "layer": "sage"},
                  "heads": {"direction": {"type": "classification"}}},
        "training": {"epochs": 3, "batching": "cross_sectional", "optimizer": {"type": "adam", "lr": 0.005},
                     "monitor": "valid.loss", "mode": "min", "checkpoint_every_steps": 7, "keep_checkpoints": 100,
                     "progress": "none"},
    }


def run(cli, *args, cwd):
    subprocess.run([cli, *args], cwd=cwd, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def main():
    cli = os.path.abspath(sys.argv[1])
    out = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.join(HERE, "format-1-1")
    os.makedirs(out, exist_ok=True)
    for name, make in [("credit", credit), ("market", market)]:
        folder = os.path.join(out, name)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        config = make(folder)
        with open(os.path.join(folder, "run.json"), "w") as f:
            json.dump(config, f, indent=2)
        with open(os.path.join(folder, "data.json"), "w") as f:
            json.dump(config["data"], f, indent=2)
        work = os.path.join(folder, "work")
        run(cli, "train", "-c", "run.json", "-o", "work", "--quiet", cwd=folder)
        shutil.copytree(os.path.join(work, "bundle"), os.path.join(folder, "bundle"))
        shutil.copy(os.path.join(work, "test_predictions.csv"), os.path.join(folder, "test_predictions.csv"))
        run(cli, "predict", "--bundle", "bundle", "--data", "data.json", "--out", "predictions.csv", "--quiet",
            cwd=folder)
        # The first checkpoint (in the middle of the first epoch: every n steps, fewer than an epoch's) and the last
        # one (the end of training) with best.pt, the best epoch's weights it refers to.
        runs = os.path.join(work, "runs", f"seed-{config['runtime']['seed']}")
        checkpoints = sorted(c for c in os.listdir(runs) if c.startswith("checkpoint-"))
        middle, last = checkpoints[0], checkpoints[-1]
        for kind, files in (("middle", [middle]), ("last", [last, "best.pt"])):
            os.makedirs(os.path.join(folder, "checkpoints", kind))
            for c in files:
                shutil.copy(os.path.join(runs, c), os.path.join(folder, "checkpoints", kind, c))
        shutil.rmtree(work)
        print(name, "bundle, predictions, checkpoints", middle, last)


if __name__ == "__main__":
    main()
