"""Small generated data and run configurations for the finfuse command-line tests.

Writes into OUT_DIR: credit.csv (a static table of 400 applicants), applicants.csv (the same without the label),
prices.csv (5 stocks over 220 weekdays with autocorrelated returns), credit.json and prices.json (run
configurations), credit_search.json (a search over credit.json for `finfuse tune`), headlines.jsonl and
pretrain.json (a corpus and options for `finfuse pretrain`), prices2015.csv and headlines_run.json (a prices-and-headlines
run whose text encoder starts from the pre-trained model as a Hugging Face folder, fine-tuned by layer), credit_tb.json
(the credit run with two seeds, tracked in TensorBoard).

Usage: python3 make_data.py OUT_DIR
"""
import datetime
import json
import os
import random
import shutil
import sys


def main(out):
    os.makedirs(out, exist_ok=True)
    # Each test run starts afresh: a search's state from an earlier build's run is refused by `finfuse tune` (another
    # configuration), and a pre-training output would be overwritten anyway.
    for earlier in ("credit-tune", "headlines-bert", "headlines-bert-moved", "headlines-run", "credit-tb",
                    "credit-tb-run", "prices-tb"):
        shutil.rmtree(os.path.join(out, earlier), ignore_errors=True)
    rng = random.Random(3)
    with open(os.path.join(out, "credit.csv"), "w") as labelled, open(os.path.join(out, "applicants.csv"), "w") as new:
        labelled.write("id,income,debt,grade,defaulted\n")
        new.write("id,income,debt,grade\n")
        for i in range(400):
            income, debt = rng.gauss(0, 1), rng.gauss(0, 1)
            grade = "ABC"[i % 3]
            y = int(debt - income + 0.5 * rng.gauss(0, 1) > 0)
            labelled.write(f"{i},{income:.5f},{debt:.5f},{grade},{y}\n")
            new.write(f"{i},{income:.5f},{debt:.5f},{grade}\n")
    with open(os.path.join(out, "prices.csv"), "w") as f:
        f.write("symbol,date,open,high,low,close,adj_close,volume\n")
        for symbol in ["AAA", "BBB", "CCC", "DDD", "EEE"]:
            p, r, day, n = 30.0, 0.0, datetime.date(2018, 1, 1), 0
            while n < 220:
                if day.weekday() < 5:
                    r = 0.3 * r + rng.gauss(0, 0.01)
                    p *= 1 + r
                    f.write(f"{symbol},{day.isoformat()},{p:.4f},{p * 1.01:.4f},{p * 0.99:.4f},{p:.4f},{p:.4f},1000\n")
                    n += 1
                day += datetime.timedelta(days=1)
    credit = {
        "runtime": {"seed": 1},
        "data": {"tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                                       "categorical": ["grade"], "label_column": "defaulted"}},
                 "samples_from_table": "credit",
                 "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1},
                 "dataset": {"modalities": ["numeric"]}},
        "model": {"encoders": {"numeric": {"type": "mlp", "layers": [16]},
                               "categorical": {"type": "mlp", "layers": [4]}},
                  "heads": {"default": {"type": "classification"}}},
        "training": {"epochs": 5, "optimizer": {"type": "adam", "lr": 0.02}, "monitor": "valid.roc_auc",
                     "progress": "log"}}
    prices = {
        "runtime": {"seed": 2},
        "data": {"prices": {"path": "prices.csv"},
                 "assembly": {"price_window": 5},
                 "split": {"kind": "walk_forward", "walk_forward": {"train_days": 100, "valid_days": 20,
                                                                   "test_days": 40, "embargo_days": 1}},
                 "dataset": {"modalities": ["price"]}},
        "model": {"encoders": {"price": {"type": "rnn", "cell": "gru", "hidden": 8}},
                  "heads": {"direction": {"type": "classification"}}},
        "training": {"epochs": 2, "metrics": ["accuracy", "mcc", "ic"], "progress": "none"}}
    # A search over the credit run: a Sobol draw of learning rates and hidden widths, halving after 2 epochs.
    search = {"search": "sobol", "trials": 4, "halving": {"min_epochs": 2, "reduction": 2},
              "parameters": {"/training/optimizer/lr": {"low": 0.001, "high": 0.05, "scale": "log"},
                             "/model/encoders/numeric/layers/0": {"values": [8, 16, 32]}},
              "final_seeds": [1, 2]}
    # Headlines for `finfuse pretrain`: the verb follows from the adjective; the last 50 come after "until".
    with open(os.path.join(out, "headlines.jsonl"), "w") as f:
        for i in range(400):
            up = rng.random() < 0.5
            day = datetime.date(2015, 1, 1) + datetime.timedelta(days=i // 3)
            f.write(json.dumps({"symbol": rng.choice(["AAA", "BBB", "CCC"]), "created_at": day.isoformat() + "T14:00:00Z",
                                "text": "$%s shares %s on %s %s" % (rng.choice(["aaa", "bbb", "ccc"]),
                                                                    "rise" if up else "fall", "strong" if up else "weak",
                                                                    rng.choice(["demand", "sales", "earnings"]))}) + "\n")
    pretrain = {"texts": {"path": "headlines.jsonl"}, "until": "2015-05-01",
                "tokenizer": {"kind": "wordpiece", "max_vocab": 200, "max_length": 12, "add_special_tokens": True},
                "encoder": {"type": "transformer", "hidden": 32, "layers": 1, "heads": 2, "intermediate": 64,
                            "max_positions": 16},
                "epochs": 2, "batch_size": 32, "deduplicate": False}
    # Prices of the headlines' stocks over their days, and a run that reads both, starting its text encoder from
    # the pre-trained folder (architecture, weights and tokenizer from it) with layer-wise rates and gradual unfreezing.
    with open(os.path.join(out, "prices2015.csv"), "w") as f:
        f.write("symbol,date,open,high,low,close,adj_close,volume\n")
        for symbol in ["AAA", "BBB", "CCC"]:
            p, day = 50.0, datetime.date(2014, 12, 1)
            while day <= datetime.date(2015, 6, 30):
                if day.weekday() < 5:
                    p *= 1 + rng.gauss(0, 0.01)
                    f.write(f"{symbol},{day.isoformat()},{p:.4f},{p * 1.01:.4f},{p * 0.99:.4f},{p:.4f},{p:.4f},1000\n")
                day += datetime.timedelta(days=1)
    headlines_run = {
        "runtime": {"seed": 4},
        "data": {"prices": {"path": "prices2015.csv"}, "texts": {"path": "headlines.jsonl"},
                 "assembly": {"start": "2015-01-05", "price_window": 5, "text": {"lookback_days": 3}},
                 "split": {"valid_start": "2015-04-01", "test_start": "2015-05-01"},
                 "dataset": {"modalities": ["price", "text"], "max_texts": 3}},
        "model": {"encoders": {"price": {"type": "rnn", "cell": "gru", "hidden": 8},
                               "text": {"type": "transformer", "pooling": "mean",
                                        "pretrained": {"path": "headlines-bert", "format": "huggingface"}}},
                  "heads": {"direction": {"type": "classification"}}},
        "training": {"epochs": 2, "progress": "log",
                     "fine_tuning": [{"module": "encoders.text", "lr": 1e-4, "layer_decay": 0.5, "frozen_layers": 1,
                                      "unfreeze_every": 1}]}}
    # The credit run with two seeds and its curves in TensorBoard (the "tracking" section).
    credit_tb = json.loads(json.dumps(credit))
    credit_tb["experiment"] = {"seeds": [1, 2]}
    credit_tb["tracking"] = {"tensorboard": "credit-tb"}
    credit_tb["training"]["log_every"] = 2
    for name, config in (("credit.json", credit), ("prices.json", prices), ("credit_search.json", search),
                         ("pretrain.json", pretrain), ("headlines_run.json", headlines_run),
                         ("credit_tb.json", credit_tb)):
        with open(os.path.join(out, name), "w") as f:
            json.dump(config, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
