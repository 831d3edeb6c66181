"""Reference files for finfuse's parity tests with Python PyTorch.

Writes into OUT_DIR:
  resnet18.pth        torchvision resnet18's state_dict() as torch.save writes it (an OrderedDict; random weights,
                      classifier included)
  resnet18_io.pth     {"input": [2, 3, 64, 64], "expected": [2, 512]} -- features before the classifier, eval mode
  bert.pth            a training checkpoint {"model": state dict of a small BERT built from torch.nn layers with
                      Hugging Face names ("bert." prefix, pooler included), "optimizer": ..., "epoch": 3}
  bert_io.pth         {"input_ids", "attention_mask", "expected_cls", "expected_hidden"}
  pickle_cases.pth    objects beyond state dicts (views, parameters, dtypes, numbers, nesting); also in protocol 4
  graph_reference.pth GraphSAGE (mean, max-pool) and GAT weights, a small graph and the outputs, computed edge by edge

Usage: python3 make_references.py OUT_DIR
"""
import collections
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
    # Exactly what users write: the OrderedDict that state_dict() returns, with its _metadata attribute.
    torch.save(resnet.state_dict(), os.path.join(out_dir, "resnet18.pth"))
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
    # A training checkpoint that holds the state dict under "model", as many training scripts save it.
    state = collections.OrderedDict(("bert." + k, v) for k, v in bert.state_dict().items())
    optimizer = torch.optim.Adam(bert.parameters())
    torch.save({"model": state, "optimizer": optimizer.state_dict(), "epoch": 3}, os.path.join(out_dir, "bert.pth"))
    ids = torch.randint(1, 100, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.int64)
    mask[1, 6:] = 0
    ids[1, 6:] = 0
    with torch.no_grad():
        hidden = bert(ids, mask)
    torch.save({"input_ids": ids, "attention_mask": mask, "expected_cls": hidden[:, 0].contiguous(),
                "expected_hidden": hidden}, os.path.join(out_dir, "bert_io.pth"))


def pickle_cases(out_dir):
    """Objects torch.save writes beyond plain state dicts; the C++ test knows their values independently."""
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    cases = collections.OrderedDict()
    cases["transposed"] = base.t()                      # a non-contiguous view
    cases["slice"] = base[1:3, 2:5]                     # a view with a storage offset
    cases["shared"] = base                              # the same storage as the two views above
    cases["parameter"] = nn.Parameter(torch.full((2, 3), 0.5, dtype=torch.float64))
    cases["int64"] = torch.tensor([-(2 ** 40), 7, 2 ** 62])
    cases["bool"] = torch.tensor([True, False, True])
    cases["half"] = torch.tensor([1.5, -2.25], dtype=torch.float16)
    cases["empty"] = torch.zeros(0, 3)
    cases["scalar"] = torch.tensor(3.25)
    cases["numbers"] = [1, -1, 300, -70000, 2 ** 40, -(2 ** 63), 2.5, True, None, "text \u00e9", b"\x00\xff"]
    cases["nested"] = {"tuple": (1, (2, 3)), 7: "int key"}
    torch.save(cases, os.path.join(out_dir, "pickle_cases.pth"))
    torch.save(cases, os.path.join(out_dir, "pickle_cases_protocol4.pth"), pickle_protocol=4)


def graph_reference(out_dir):
    """GraphSAGE (mean, max-pool) and GAT computed edge by edge with plain tensor ops, for finfuse's graph layers."""
    torch.manual_seed(1)
    n, f, out = 6, 5, 4
    x = torch.randn(n, f)
    # Directed edges source -> target, with a self-loop (2 -> 2), a duplicate-free fan-in and an isolated node (5).
    edges = [(0, 1), (2, 1), (3, 1), (1, 0), (2, 2), (4, 3), (0, 3), (1, 4)]
    edge_index = torch.tensor(edges, dtype=torch.int64).t().contiguous()
    edge_weight = torch.rand(len(edges)) + 0.5
    state = collections.OrderedDict()

    def param(name, *shape):
        state[name] = torch.randn(*shape) * 0.5
        return state[name]

    def incoming(i):
        return [(e, s) for e, (s, t) in enumerate(edges) if t == i]

    # GraphSAGE, mean aggregator, weighted by the edge weights.
    ws, bs, wn = param("sage_mean.self.weight", out, f), param("sage_mean.self.bias", out), \
        param("sage_mean.neighbour.weight", out, f)
    sage_mean = torch.zeros(n, out)
    for i in range(n):
        agg = torch.zeros(f)
        total = sum(float(edge_weight[e]) for e, _ in incoming(i))
        for e, j in incoming(i):
            agg += float(edge_weight[e]) * x[j] / total
        sage_mean[i] = ws @ x[i] + bs + wn @ agg

    # GraphSAGE, max-pool aggregator.
    ws, bs, wn = param("sage_max.self.weight", out, f), param("sage_max.self.bias", out), \
        param("sage_max.neighbour.weight", out, f)
    wp, bp = param("sage_max.pool.weight", f, f), param("sage_max.pool.bias", f)
    sage_max = torch.zeros(n, out)
    for i in range(n):
        agg = torch.zeros(f)
        for _, j in incoming(i):
            agg = torch.maximum(agg, torch.relu(wp @ x[j] + bp))
        sage_max[i] = ws @ x[i] + bs + wn @ agg

    # GAT, 2 heads of size 3: the input's self-loops replaced by one per node.
    heads, size = 2, 3
    w = param("gat.linear.weight", heads * size, f)
    a_src, a_dst = param("gat.attention_source", heads, size), param("gat.attention_target", heads, size)
    bias = param("gat.bias", heads * size)
    z = (x @ w.t()).view(n, heads, size)
    gat = torch.zeros(n, heads * size)
    for i in range(n):
        sources = [j for (j, t) in edges if t == i and j != i] + [i]
        for h in range(heads):
            logits = torch.stack([torch.nn.functional.leaky_relu(a_src[h] @ z[j, h] + a_dst[h] @ z[i, h], 0.2)
                                  for j in sources])
            alpha = torch.softmax(logits, 0)
            gat[i, h * size:(h + 1) * size] = sum(alpha[k] * z[j, h] for k, j in enumerate(sources))
        gat[i] += bias

    state["x"] = x
    state["edge_index"] = edge_index
    state["edge_weight"] = edge_weight
    state["expected.sage_mean"] = sage_mean
    state["expected.sage_max"] = sage_max
    state["expected.gat"] = gat
    torch.save(state, os.path.join(out_dir, "graph_reference.pth"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
    pickle_cases(sys.argv[1])
    graph_reference(sys.argv[1])
