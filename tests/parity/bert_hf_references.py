"""Hugging Face BERT folders and their outputs, for finfuse's BERT-style encoder.

A small BertModel is built from a BertConfig with random weights (nothing is downloaded) and saved four ways, each a
folder with config.json and vocab.txt:
  safetensors/          save_pretrained: model.safetensors, names without a prefix
  bin/                  pytorch_model.bin (torch.save of the state dict, as transformers 4 wrote it)
  prefixed/             model.safetensors with the "bert." prefix of the task models (BertForMaskedLM, ...) and their
                        MLM head, which finfuse skips
  gamma_beta/           pytorch_model.bin with "bert." and the LayerNorm.gamma / LayerNorm.beta names of old checkpoints
Every folder is loaded back with transformers' from_pretrained where it can be, and must give the same outputs.

io.safetensors holds the inputs (input_ids, attention_mask with padding, token_type_ids of a sentence pair) and
last_hidden_state, the expected output.

Usage: python3 bert_hf_references.py OUT_DIR
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForMaskedLM, BertModel


def main():
    out = sys.argv[1]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=24, type_vocab_size=2,
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12)
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=True).eval()
    # Random LayerNorm parameters too, so that a swapped weight and bias would show.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(config.vocab_size - 5)]

    def folder(name):
        path = os.path.join(out, name)
        os.makedirs(path, exist_ok=True)
        config.to_json_file(os.path.join(path, "config.json"))
        with open(os.path.join(path, "vocab.txt"), "w") as f:
            f.write("\n".join(vocab) + "\n")
        return path

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    model.save_pretrained(folder("safetensors"))
    torch.save(state, os.path.join(folder("bin"), "pytorch_model.bin"))
    mlm = BertForMaskedLM(config).eval()
    mlm.bert.load_state_dict(model.state_dict(), strict=False)
    mlm_state = {k: v.contiguous() for k, v in mlm.state_dict().items()}
    # The task model has no pooler; the pooler of the base model goes with it under the same prefix.
    mlm_state.update({"bert." + k: v for k, v in state.items() if k.startswith("pooler.")})
    save_file({k: v.clone() for k, v in mlm_state.items()}, os.path.join(folder("prefixed"), "model.safetensors"))
    old = {}
    for k, v in state.items():
        k = "bert." + k
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        old[k] = v
    torch.save(old, os.path.join(folder("gamma_beta"), "pytorch_model.bin"))

    # A batch of three: a sentence pair (token types 0 then 1), a padded single text, a full-length text.
    length = 12
    input_ids = torch.randint(5, config.vocab_size, (3, length))
    attention_mask = torch.ones(3, length, dtype=torch.int64)
    token_type_ids = torch.zeros(3, length, dtype=torch.int64)
    input_ids[0, 0], input_ids[0, 5], input_ids[0, 9] = 2, 3, 3
    token_type_ids[0, 6:10] = 1
    attention_mask[0, 10:] = 0
    input_ids[0, 10:] = 0
    input_ids[1, 0], input_ids[1, 6] = 2, 3
    attention_mask[1, 7:] = 0
    input_ids[1, 7:] = 0
    with torch.no_grad():
        expected = model(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids).last_hidden_state
        checks = {}
        for name in ("safetensors", "bin", "prefixed", "gamma_beta"):
            try:
                again = BertModel.from_pretrained(os.path.join(out, name)).eval()
            except Exception as error:  # transformers may no longer read some old layouts
                checks[name] = f"not loadable by transformers {__import__('transformers').__version__}: {error}"
                continue
            got = again(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=token_type_ids).last_hidden_state
            difference = float((got - expected).abs().max())
            checks[name] = f"transformers reads it back: max abs difference {difference:.3g}"
            assert difference < 1e-6, (name, difference)
    save_file({"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
               "last_hidden_state": expected.contiguous()}, os.path.join(out, "io.safetensors"))
    with open(os.path.join(out, "checks.json"), "w") as f:
        json.dump(checks, f, indent=2)
    print(json.dumps(checks, indent=2))


if __name__ == "__main__":
    main()
