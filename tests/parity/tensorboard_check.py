"""TensorBoard's own event reader finds every value finfuse wrote, exactly.

RUN_DIR is the output folder of `finfuse train --out RUN_DIR --tensorboard TB_DIR`. For every seed, TB_DIR/seed-<n>
is read with TensorBoard's EventAccumulator: each epoch value in RUN_DIR/runs/seed-<n>/history.jsonl must be the
scalar "epoch/<name>" at that epoch (as float32, which is how TensorBoard keeps scalars), the step scalars
("train/loss", "train/lr", "train/samples_per_second") must be there, and the HParams plugin's session must hold the
run's hyper-parameters, its final values (those of metrics.json for the seed) and a successful end; TB_DIR itself must
hold the HParams experiment naming them.

Usage: python3 tensorboard_check.py RUN_DIR TB_DIR
"""
import json
import math
import os
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2


def f32(value):
    return struct.unpack("f", struct.pack("f", value))[0]


def same(got, expected):
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(got)
    return got == f32(expected)


def accumulate(path):
    accumulator = EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def plugin_data(accumulator, tag):
    content = accumulator.PluginTagToContent("hparams")[tag]
    data = plugin_data_pb2.HParamsPluginData()
    data.ParseFromString(content)
    return data


def main(run_dir, tb_dir):
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    finals = {run["seed"]: run for run in metrics["seeds"]["runs"]}
    checked = 0
    seeds = sorted(d for d in os.listdir(tb_dir) if d.startswith("seed-"))
    assert seeds, f"no seed folders in {tb_dir}"
    for seed_dir in seeds:
        seed = int(seed_dir.split("-")[1])
        accumulator = accumulate(os.path.join(tb_dir, seed_dir))
        tags = set(accumulator.Tags()["scalars"])
        for line in open(os.path.join(run_dir, "runs", seed_dir, "history.jsonl")):
            record = json.loads(line)
            for name, value in record["values"].items():
                events = [e for e in accumulator.Scalars("epoch/" + name) if e.step == record["epoch"]]
                assert len(events) == 1, (seed_dir, name, record["epoch"], events)
                assert same(events[0].value, value), (seed_dir, name, events[0].value, value)
                checked += 1
        for tag in ("train/loss", "train/lr", "train/samples_per_second"):
            assert tag in tags and accumulator.Scalars(tag), (seed_dir, tag, sorted(tags))
        start = plugin_data(accumulator, "_hparams_/session_start_info").session_start_info
        assert start.hparams["seed"].number_value == seed, start.hparams["seed"]
        assert "training/optimizer/lr" in start.hparams, sorted(start.hparams)
        end = plugin_data(accumulator, "_hparams_/session_end_info").session_end_info
        assert end.status == api_pb2.STATUS_SUCCESS, end
        for part in ("valid", "test"):
            for name, value in finals[seed][part].items():
                if not isinstance(value, (int, float)):
                    continue
                events = accumulator.Scalars(f"final/{part}.{name}")
                assert len(events) == 1 and same(events[0].value, float(value)), (seed_dir, part, name, events, value)
                checked += 1
    experiment = plugin_data(accumulate(tb_dir), "_hparams_/experiment").experiment
    hparams = {h.name for h in experiment.hparam_infos}
    assert {"seed", "training/optimizer/lr"} <= hparams, sorted(hparams)
    metric_tags = {m.name.tag for m in experiment.metric_infos}
    assert any(t.startswith("final/test.") for t in metric_tags), sorted(metric_tags)
    print(f"tensorboard reads back {checked} values of {len(seeds)} seed(s) exactly; HParams experiment with "
          f"{len(hparams)} hyper-parameters and {len(metric_tags)} metrics")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
