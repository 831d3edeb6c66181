"""Writes the seed corpora of the binary fuzz targets from the Python libraries that write these files for users:
state dicts saved by torch.save, safetensors files, and a Hugging Face BERT config.json. The outputs are stored under
tests/fuzz/corpus/ (a few KiB in all); rerun this only to change them.

    python tests/fuzz/make_seeds.py     (in an environment with torch, safetensors and transformers)
"""
import io
import os
import zipfile

import torch
from safetensors.torch import save_file
from transformers import BertConfig

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def folder(target):
    path = os.path.join(root, target)
    os.makedirs(path, exist_ok=True)
    return path


def state_dicts():
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    batch_norm = torch.nn.BatchNorm1d(2)  # an int64 buffer (num_batches_tracked) next to float tensors
    embedding = torch.nn.Embedding(5, 4)
    shared = torch.arange(12, dtype=torch.float32)
    return {
        "linear": linear.state_dict(),
        "batch_norm": batch_norm.state_dict(),
        "half": {k: v.half() for k, v in embedding.state_dict().items()},
        "bfloat16": {k: v.bfloat16() for k, v in embedding.state_dict().items()},
        # views sharing one storage, one of them transposed (not contiguous) and one at an offset
        "views": {"a": shared[:6].view(2, 3), "b": shared[6:].view(3, 2).t(), "c": shared[2:5]},
        "nested": {"model": linear.state_dict(), "epoch": 3, "name": "checkpoint", "scores": [0.5, 0.25]},
        "scalars": {"zero_dim": torch.tensor(2.5), "empty": torch.zeros(0, 3), "int8": torch.arange(4, dtype=torch.int8)},
    }


def main():
    save_dir, pickle_dir, safetensors_dir = folder("torch_save"), folder("torch_save_pickle"), folder("safetensors")
    for name, state in state_dicts().items():
        path = os.path.join(save_dir, name + ".pt")
        torch.save(state, path)
        with zipfile.ZipFile(path) as archive:  # the pickle program alone, for the target that fuzzes the interpreter
            pickle = [n for n in archive.namelist() if n.endswith("/data.pkl")][0]
            records = [(n.rsplit("/", 1)[1], archive.getinfo(n).file_size) for n in archive.namelist()
                       if n.rsplit("/", 2)[-2:-1] == ["data"]]
            with open(os.path.join(pickle_dir, name + ".pkl"), "wb") as out:  # the harness's record list follows
                out.write(archive.read(pickle) + b"\n--finfuse-records--\n")
                out.write("".join(f"{key} {size}\n" for key, size in records).encode())
        tensors = {k: v.clone().contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)}
        if tensors:
            save_file(tensors, os.path.join(safetensors_dir, name + ".safetensors"), metadata={"format": "pt"})
    # the legacy (non-zip) format, which the reader refuses with a message
    buffer = io.BytesIO()
    torch.save(state_dicts()["linear"], buffer, _use_new_zipfile_serialization=False)
    with open(os.path.join(save_dir, "legacy.pt"), "wb") as out:
        out.write(buffer.getvalue())
    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
                        max_position_embeddings=16)
    with open(os.path.join(folder("huggingface_config"), "config.json"), "w") as out:
        out.write(config.to_json_string())


if __name__ == "__main__":
    main()
