"""Reference modules for finfuse's encoder parity tests, built with Python PyTorch.

Writes into OUT_DIR:
  resnet18.pth        torchvision resnet18 state dict as a plain dict (random weights, classifier included)
  resnet18_io.pth     {"input": [2, 3, 64, 64], "expected": [2, 512]} -- features before the classifier, eval mode
  bert.pth            state dict of a small BERT built from torch.nn layers, with Hugging Face names ("bert." prefix,
                      pooler included)
  bert_io.pth         {"input_ids", "attention_mask", "expected_cls", "expected_hidden"}

Usage: python3 make_references.py OUT_DIR
"""
import math
import os
import sys

import torch
from torch import nn
import torchvision


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x, additive_mask):
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        context = torch.softmax(scores, dim=-1) @ v
        return context.transpose(1, 2).reshape(b, t, h)


class BertSelfOutput(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, context, x):
        return self.LayerNorm(x + self.dense(context))


class BertAttention(nn.Module):
    def __init__(self, hidden, heads, eps):
        super().__init__()
        self.self = BertSelfAttention(hidden, heads)
        self.output = BertSelfOutput(hidden, eps)

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, hidden, intermediate):
        super().__init__()
        self.dense = nn.Linear(hidden, intermediate)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, hidden, intermediate, eps):
        super().__init__()
        self.dense = nn.Linear(intermediate, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, f, x):
        return self.LayerNorm(x + self.dense(f))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, intermediate, eps):
        super().__init__()
        self.attention = BertAttention(hidden, heads, eps)
        self.intermediate = BertIntermediate(hidden, intermediate)
        self.output = BertOutput(hidden, intermediate, eps)

    def forward(self, x, additive_mask):
        h = self.attention(x, additive_mask)
        return self.output(self.intermediate(h), h)


class BertEmbeddings(nn.Module):
    def __init__(self, vocab, hidden, positions, types, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(positions, hidden)
        self.token_type_embeddings = nn.Embedding(types, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions)
                              + self.token_type_embeddings(torch.zeros_like(positions)))


class BertEncoder(nn.Module):
    def __init__(self, layers, hidden, heads, intermediate, eps):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(hidden, heads, intermediate, eps) for _ in range(layers)])

    def forward(self, x, additive_mask):
        for layer in self.layer:
            x = layer(x, additive_mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)


class BertModel(nn.Module):
    def __init__(self, vocab=100, hidden=32, layers=2, heads=4, intermediate=64, positions=16, types=2, eps=1e-12):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab, hidden, positions, types, eps)
        self.encoder = BertEncoder(layers, hidden, heads, intermediate, eps)
        self.pooler = BertPooler(hidden)

    def forward(self, ids, mask):
        additive = (1.0 - mask[:, None, None, :].float()) * -10000.0
        return self.encoder(self.embeddings(ids), additive)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)

    resnet = torchvision.models.resnet18(weights=None)
    # Non-trivial batch-norm statistics, so eval mode is really tested.
    with torch.no_grad():
        for module in resnet.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    resnet.eval()
    # LibTorch 1.13 cannot unpickle the OrderedDict that state_dict() returns: save it as a plain dict.
    torch.save(dict(resnet.state_dict()), os.path.join(out_dir, "resnet18.pth"))
    torch.save(resnet.state_dict(), os.path.join(out_dir, "resnet18_ordered.pth"))
    x = torch.randn(2, 3, 64, 64)
    resnet.fc = nn.Identity()
    with torch.no_grad():
        expected = resnet(x)
    torch.save({"input": x, "expected": expected}, os.path.join(out_dir, "resnet18_io.pth"))

    bert = BertModel()
    with torch.no_grad():
        for name, p in bert.named_parameters():
            if "LayerNorm" in name:
                p.uniform_(0.8, 1.2) if name.endswith("weight") else p.uniform_(-0.1, 0.1)
            else:
                p.normal_(0.0, 0.05)
    bert.eval()
    torch.save({"bert." + k: v for k, v in bert.state_dict().items()}, os.path.join(out_dir, "bert.pth"))
    ids = torch.randint(1, 100, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.int64)
    mask[1, 6:] = 0
    ids[1, 6:] = 0
    with torch.no_grad():
        hidden = bert(ids, mask)
    torch.save({"input_ids": ids, "attention_mask": mask, "expected_cls": hidden[:, 0].contiguous(),
                "expected_hidden": hidden}, os.path.join(out_dir, "bert_io.pth"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
