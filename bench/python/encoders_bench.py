"""The modules of finfuse_bench_encoders, written in Python PyTorch, timed the same way: forward + backward of the
pooled output's mean square, per batch, one intra-op thread, training mode.

Usage: python3 encoders_bench.py [--seconds S]   (prints "name milliseconds" lines)
"""
import argparse
import os
import sys
import time

import torch
from torch import nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "parity"))
from make_references import BertModel  # noqa: E402  (the BERT built from torch.nn layers)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())

    def forward(self, x):
        return self.net(x)


def attention_pool(outputs, score):
    weights = torch.softmax(score(torch.tanh(outputs)).squeeze(-1), dim=1)
    return (weights.unsqueeze(-1) * outputs).sum(1)


class LstmPrice(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 64, batch_first=True)
        self.attention = nn.Linear(64, 1)

    def forward(self, x):
        return attention_pool(self.lstm(x)[0], self.attention)


class GruTweets(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(5000, 64)
        self.gru = nn.GRU(64, 64, batch_first=True)
        self.text_attention = nn.Linear(64, 1)

    def forward(self, ids):
        b, n, t = ids.shape
        outputs = self.gru(self.embedding(ids.reshape(b * n, t)))[0]
        texts = outputs[:, -1].reshape(b, n, -1)
        return attention_pool(texts, self.text_attention)


class CausalBlock(nn.Module):
    def __init__(self, cin, cout, kernel, dilation):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(cout, cout, kernel, dilation=dilation)
        self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0))))
        h = torch.relu(self.conv2(nn.functional.pad(h, (self.pad, 0))))
        return torch.relu(h + (self.downsample(x) if self.downsample is not None else x))


class Tcn(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(CausalBlock(5, 32, 3, 1), CausalBlock(32, 32, 3, 2), CausalBlock(32, 32, 3, 4))

    def forward(self, x):
        return self.blocks(x.transpose(1, 2))[:, :, -1]


class ChartCnn(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 1
        for cout in (64, 128, 256):
            layers += [nn.Conv2d(cin, cout, (5, 3), padding=(2, 1)), nn.BatchNorm2d(cout), nn.LeakyReLU(0.01),
                       nn.MaxPool2d((2, 1))]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.5)
        self.projection = nn.Linear(256 * 8 * 60, 128)

    def forward(self, x):
        return self.projection(self.dropout(self.features(x).flatten(1)))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = BertModel(vocab=5000, hidden=128, layers=2, heads=4, intermediate=512, positions=512)

    def forward(self, ids):
        return self.bert(ids, torch.ones_like(ids))[:, 0]


def resnet18():
    model = torchvision.models.resnet18(weights=None)
    model.fc = nn.Identity()
    return model


CASES = [
    ("BM_MlpEncoder", Mlp, lambda: torch.randn(64, 20)),
    ("BM_LstmPriceEncoder", LstmPrice, lambda: torch.randn(64, 5, 5)),
    ("BM_GruTweetsEncoder", GruTweets, lambda: torch.randint(1, 5000, (64, 10, 32))),
    ("BM_TcnEncoder", Tcn, lambda: torch.randn(64, 20, 5)),
    ("BM_TransformerTextEncoder", Bert, lambda: torch.randint(1, 5000, (32, 64))),
    ("BM_ChartCnnEncoder", ChartCnn, lambda: torch.rand(32, 1, 64, 60)),
    ("BM_ResNet18Encoder", resnet18, lambda: torch.rand(16, 3, 64, 64)),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for name, make, data in CASES:
        if args.filter and args.filter not in name:
            continue
        model, x = make(), data()

        def step():
            model.zero_grad()
            model(x).pow(2).mean().backward()

        step()
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < args.seconds or len(times) < 3:
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        print(f"{name} {1000 * sum(times) / len(times):.4f}")


if __name__ == "__main__":
    main()
