"""transformers reads the Hugging Face folder finfuse wrote (write_huggingface_bert) to the same outputs.

After the HuggingFaceParity test, OUT_DIR/written holds the model of OUT_DIR/safetensors as finfuse writes it (config.json,
vocab.txt, tokenizer_config.json, model.safetensors); BertModel.from_pretrained must load every weight of it (no
newly initialised ones besides the pooler, which finfuse does not have) and give io.safetensors' last hidden states
on the real tokens to 1e-5, and BertTokenizer must read its vocabulary.

Usage: python3 bert_hf_written_check.py OUT_DIR
"""
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import BertModel, BertTokenizer


def main():
    out = sys.argv[1]
    folder = os.path.join(out, "written")
    io = load_file(os.path.join(out, "io.safetensors"))
    model, info = BertModel.from_pretrained(folder, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    assert not missing and not info["unexpected_keys"] and not info["mismatched_keys"], info
    model.eval()
    with torch.no_grad():
        got = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"],
                    token_type_ids=io["token_type_ids"]).last_hidden_state
    mask = io["attention_mask"].unsqueeze(-1).to(got.dtype)
    difference = float(((got - io["last_hidden_state"]).abs() * mask).max())
    tokenizer = BertTokenizer.from_pretrained(folder)
    assert tokenizer.vocab_size == model.config.vocab_size, (tokenizer.vocab_size, model.config.vocab_size)
    print(f"transformers {__import__('transformers').__version__} reads finfuse's folder: max abs difference "
          f"{difference:.3g}, {len(tokenizer)} tokens")
    assert difference < 1e-5, difference


if __name__ == "__main__":
    main()
