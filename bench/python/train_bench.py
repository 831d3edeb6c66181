"""The reference multimodal model of finfuse_bench_train (bench/reference_model.json) written in Python PyTorch, with
the same computation (masks, the missing-modality embeddings, last real state of each tweet, attention pooling) and
timed the same way: training samples/s at batch 8 and 64 (forward, loss, backward, Adam step), single-sample latency
p50/p99 and batch-256 throughput under inference mode.

Usage: python3 train_bench.py [--steps N | --seconds S] [--threads N] [--device D]   (prints "name value" lines;
--seconds runs each timed phase for that long instead of a number of steps; --device cuda runs on a GPU, each timing
waiting for it)
"""
import argparse
import os
import time

import torch
from torch import nn


def attention_pool(outputs, mask, score):
    """Softmax over the real positions of a learned score of each state (finfuse's RnnEncoder::pool)."""
    scores = score(torch.tanh(outputs)).squeeze(-1).masked_fill(~mask, -1e9)
    weights = torch.softmax(scores, 1) * mask.to(outputs.dtype)
    anything = mask.any(1, keepdim=True).to(outputs.dtype)
    return (weights.unsqueeze(-1) * outputs).sum(1) * anything


class PriceEncoder(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.attention = nn.Linear(hidden, 1)

    def forward(self, x):
        outputs = self.lstm(x)[0]
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        return attention_pool(outputs, mask, self.attention)


class TextEncoder(nn.Module):
    def __init__(self, vocab, dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.gru = nn.GRU(dim, hidden, batch_first=True)
        self.text_attention = nn.Linear(hidden, 1)

    def forward(self, ids, mask):
        b, n, t = ids.shape
        ids, mask = ids.reshape(-1, t), mask.reshape(-1, t)
        lengths = mask.sum(1)
        outputs = self.gru(self.embedding(ids))[0]
        index = (lengths.clamp_min(1) - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))
        last = outputs.gather(1, index).squeeze(1) * (lengths > 0).unsqueeze(1).to(outputs.dtype)
        texts = last.reshape(b, n, -1)
        return attention_pool(texts, (lengths > 0).reshape(b, n), self.text_attention)


class ChartEncoder(nn.Module):
    def __init__(self, height, width, channels, output):
        super().__init__()
        blocks, c = [], 1
        for out in channels:
            blocks.append(nn.Sequential(nn.Conv2d(c, out, (5, 3), padding=(2, 1)), nn.BatchNorm2d(out),
                                        nn.LeakyReLU(0.01), nn.MaxPool2d((2, 1))))
            c, height = out, height // 2
        self.features = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(0.5)
        self.projection = nn.Linear(c * height * width, output)

    def forward(self, x):
        for block in self.features:
            x = block(x)
        return self.projection(self.dropout(x.flatten(1)))


class Mlp(nn.Module):
    def __init__(self, widths, activate_output=True):
        super().__init__()
        layers = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if activate_output or i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.price = PriceEncoder(11, 64)
        self.text = TextEncoder(5000, 64, 64)
        self.chart = ChartEncoder(32, 15, [32, 64], 64)
        self.numeric = Mlp([16, 64, 64])
        self.missing = nn.ParameterList([nn.Parameter(torch.zeros(64)) for _ in range(4)])
        self.head = Mlp([256, 64, 2], activate_output=False)

    def forward(self, batch):
        pooled = [self.price(batch["price"]), self.text(batch["text"], batch["text_mask"]),
                  self.chart(batch["chart"]), self.numeric(batch["numeric"])]
        parts = [torch.where(present.unsqueeze(1), p, missing.unsqueeze(0))
                 for p, present, missing in zip(pooled, batch["present"], self.missing)]
        return self.head(torch.cat(parts, 1))


def batch_of(b, device):
    present = torch.ones(b, dtype=torch.bool)
    batch = {"price": torch.randn(b, 5, 11), "text": torch.randint(1, 5000, (b, 5, 16)),
             "text_mask": torch.ones(b, 5, 16, dtype=torch.bool), "chart": torch.rand(b, 1, 32, 15),
             "numeric": torch.randn(b, 16), "present": [present] * 4, "target": torch.randint(0, 2, (b,))}
    return {k: [t.to(device) for t in v] if isinstance(v, list) else v.to(device) for k, v in batch.items()}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="run each timed phase for this long instead of a number of steps")
    args = parser.parse_args()
    device = torch.device(args.device)

    def wait():  # GPU work is asynchronous: a timing ends when the GPU is done
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Model().to(device)
    print(f"parameters {sum(p.numel() for p in model.parameters())}")
    print(f"threads {torch.get_num_threads()}")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for b in (8, 64):
        model.train()
        batch = batch_of(b, device)

        def step():
            optimizer.zero_grad()
            loss_fn(model(batch), batch["target"]).backward()
            optimizer.step()

        for _ in range(5):
            step()
        wait()
        target, n = args.steps * 4 if b == 8 else args.steps, 0
        start = time.perf_counter()
        while time.perf_counter() - start < args.seconds if args.seconds > 0 else n < target:
            step()
            n += 1
        wait()
        print(f"train_b{b}_samples_per_s {n * b / (time.perf_counter() - start):.1f}")

    model.eval()
    for b, runs, warmup in ((1, args.steps * 10, 20), (256, max(args.steps // 4, 5), 2)):
        batch, times = batch_of(b, device), []
        with torch.inference_mode():
            i, first = 0, None
            while (time.perf_counter() - (first or time.perf_counter()) < args.seconds if args.seconds > 0
                   else i < warmup + runs) or i < warmup + 1:
                start = time.perf_counter()
                model(batch)
                wait()
                if i >= warmup:
                    times.append(1000 * (time.perf_counter() - start))
                    first = first or start
                i += 1
        if b == 1:
            print(f"infer_b1_p50_ms {percentile(times, 0.5):.4f}\ninfer_b1_p99_ms {percentile(times, 0.99):.4f}")
        else:
            print(f"infer_b256_samples_per_s {256 / (percentile(times, 0.5) / 1000):.1f}")


if __name__ == "__main__":
    main()
