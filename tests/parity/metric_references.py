"""Reference metric values from scikit-learn for finfuse's metric tests.

Writes into OUT_DIR, for a binary, a three-class and a regression case:
  <case>.csv   one row per sample: target, then p0..p(C-1) (classification) or the predicted value
  <case>.json  scikit-learn's values of the metrics finfuse computes

Usage: python3 metric_references.py OUT_DIR
"""
import csv
import json
import os
import sys

import numpy as np
from sklearn import metrics


def classification(out_dir, name, classes, n, rng):
    y = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes)) + 1.2 * np.eye(classes)[y]  # informative, not perfect
    logits = np.round(logits, 2)  # ties in the scores, as real models produce
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    with open(os.path.join(out_dir, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        for t, row in zip(y, p):
            w.writerow([int(t)] + [repr(float(v)) for v in row])
    pred = p.argmax(axis=1)
    values = {
        "accuracy": metrics.accuracy_score(y, pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
        "mcc": metrics.matthews_corrcoef(y, pred),
        "log_loss": metrics.log_loss(y, p, labels=list(range(classes))),
    }
    for which, f in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                     ("f1", metrics.f1_score)):
        values[which + ".macro"] = f(y, pred, average="macro", zero_division=0)
        values[which + ".micro"] = f(y, pred, average="micro", zero_division=0)
        for c, v in enumerate(f(y, pred, average=None, zero_division=0)):
            values["%s.class_%d" % (which, c)] = v
    if classes == 2:
        values["roc_auc"] = metrics.roc_auc_score(y, p[:, 1])
        values["pr_auc"] = metrics.average_precision_score(y, p[:, 1])
        values["brier"] = metrics.brier_score_loss(y, p[:, 1])
        fpr, tpr, _ = metrics.roc_curve(y, p[:, 1])
        values["ks"] = float(np.max(np.abs(tpr - fpr)))
        values["gini"] = 2 * values["roc_auc"] - 1
    else:
        values["roc_auc"] = metrics.roc_auc_score(y, p, multi_class="ovr", average="macro")
        onehot = np.eye(classes)[y]
        values["pr_auc"] = metrics.average_precision_score(onehot, p, average="macro")
    values["confusion_matrix"] = metrics.confusion_matrix(y, pred, labels=list(range(classes))).tolist()
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(values, f, indent=1)


def regression(out_dir, n, rng):
    y = rng.normal(size=n)
    pred = 0.6 * y + 0.5 * rng.normal(size=n)
    with open(os.path.join(out_dir, "regression.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for t, v in zip(y, pred):
            w.writerow([repr(float(t)), repr(float(v))])
    values = {
        "mse": metrics.mean_squared_error(y, pred),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
        "mae": metrics.mean_absolute_error(y, pred),
        "r2": metrics.r2_score(y, pred),
        "mape": metrics.mean_absolute_percentage_error(y, pred),
    }
    with open(os.path.join(out_dir, "regression.json"), "w") as f:
        json.dump(values, f, indent=1)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(7)
    classification(out_dir, "binary", 2, 500, rng)
    classification(out_dir, "multiclass", 3, 600, rng)
    regression(out_dir, 400, rng)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
