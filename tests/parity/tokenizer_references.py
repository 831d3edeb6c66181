"""Reference token ids from Hugging Face's tokenizers library (the BertWordPiece pipeline behind transformers'
BertTokenizer) for finfuse's WordPiece tokenizer.

Writes into OUT_DIR:
  vocab.txt          a WordPiece vocabulary of 6,000 pieces that tokenizers' own trainer learns from the texts below
  references.jsonl   one line per (case, text or sentence pair): the settings (lowercase, strip_accents, max_length),
                     the text(s), and the ids, token types and tokens that tokenizers gives
  summary.json       the number of cases per source, and which real data sets were present

The texts: every sentence of the Financial PhraseBank (Sentences_50Agree.txt, read as Latin-1 like finfuse reads
it) and the first 20,000 StockNet tweets, where DATA_DIR holds them, and a list of edge cases (accents, emoji with
joiners, CJK, control characters, Unicode punctuation and spaces, very long words, sentence pairs with truncation).

Usage: python3 tokenizer_references.py OUT_DIR [DATA_DIR]
"""
import json
import os
import sys

from tokenizers import BertWordPieceTokenizer

EDGE_CASES = [
    "Café, naïve résumé; Ångström's façade — déjà vu!",
    "İstanbul İŞÇİ ΟΔΥΣΣΕΥΣ Straße ǅemal Ⅻ ﬁnance",
    "Apple 苹果公司 reported 收入 of ¥1,000億 (東京) and 삼성 / サムスン earnings",
    "emoji 📈📉 🚀🚀 👨‍👩‍👧 flags 🇺🇸 skin 👍🏽 keycap 1️⃣",
    "control\x00chars\x01here\x7f and\x0bvertical\x0cfeed\u0085next\u200bzero\u200dwidth\ufeffbom",
    "tabs\tnew\nlines\r\nand\u00a0nbsp\u2003em\u3000ideographic\u2028line",
    "«quoted» “smart” ‘single’ ¿qué? ¡sí! …ellipsis… 【brackets】 「corner」 ・dot",
    "$AAPL +3.5% vs. $GOOG -1.2% @user #earnings http://t.co/abc123 A&P's Q3/Q4",
    "x" * 99,
    "y" * 100,
    "z" * 101 + " short",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "",
    "   ",
    "\u0301 leading combining mark and trailing one e\u0301\u0302",
    "Ǆ ǅ ǆ Σ σ ς ΣΑΣ ﬀ ﬃ Ⓐ ⓐ Å Å",
    "half-width ｶﾀｶﾅ full-width ＡＢＣ１２３ ！",
    "\ufffd replacement and \ue000 private use \U000f0000 plane 15",
    "numbers 1,234.56 ٣٤٥ १२३ and fractions ½ ¾",
    "𠀀 𪜀 𫝀 𫠠 𬺰 丽 (CJK extensions B to F and compatibility)",
]

PAIRS = [
    ("Operating profit rose to EUR 13.1 mn from EUR 8.7 mn", "Net sales decreased by 5 %"),
    ("Short one", "A much longer second sentence that will have to be truncated by the longest-first rule"),
    ("An equally long first sentence of many many words here", "and an equally long second sentence of words"),
    ("Café déjà vu", "苹果 📈 İ"),
]

SETTINGS = [
    {"lowercase": True, "strip_accents": None},
    {"lowercase": False, "strip_accents": None},
    {"lowercase": True, "strip_accents": False},
    {"lowercase": False, "strip_accents": True},
]


def phrasebank(data_dir):
    path = os.path.join(data_dir, "phrasebank", "Sentences_50Agree.txt")
    if not os.path.exists(path):
        return None
    texts = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("latin-1").rstrip("\r\n")
            sentence, _, _ = line.rpartition("@")
            if sentence:
                texts.append(sentence)
    return texts


def tweets(data_dir, limit=20000):
    path = os.path.join(data_dir, "stocknet", "tweets.jsonl")
    if not os.path.exists(path):
        return None
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            for tweet in json.loads(line).get("tweets", []):
                texts.append(tweet["text"])
                if len(texts) >= limit:
                    return texts
    return texts


def main():
    out_dir = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 else ""
    os.makedirs(out_dir, exist_ok=True)
    sources = {"edge": EDGE_CASES}
    present = {}
    for name, reader in (("phrasebank", phrasebank), ("tweets", tweets)):
        texts = reader(data_dir) if data_dir else None
        present[name] = texts is not None
        if texts is not None:
            sources[name] = texts

    # The vocabulary: tokenizers' trainer on every text, lower-cased and not, so that both settings find pieces.
    corpus = [t for texts in sources.values() for t in texts] + [a + " " + b for a, b in PAIRS]
    trainer_tokenizer = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    trainer_tokenizer.train_from_iterator(corpus + [t.lower() for t in corpus], vocab_size=6000, min_frequency=2,
                                          limit_alphabet=2000)
    vocab_path = os.path.join(out_dir, "vocab.txt")
    vocab = trainer_tokenizer.get_vocab()
    with open(vocab_path, "w", encoding="utf-8") as f:
        for token, _ in sorted(vocab.items(), key=lambda item: item[1]):
            f.write(token + "\n")

    counts = {}
    with open(os.path.join(out_dir, "references.jsonl"), "w", encoding="utf-8") as out:
        for setting in SETTINGS:
            tokenizer = BertWordPieceTokenizer(vocab_path, lowercase=setting["lowercase"],
                                               strip_accents=setting["strip_accents"])
            for source, texts in sources.items():
                for text in texts:
                    encoding = tokenizer.encode(text)
                    out.write(json.dumps({"source": source, **setting, "max_length": 0, "text": text,
                                          "ids": encoding.ids, "types": encoding.type_ids,
                                          "tokens": encoding.tokens}, ensure_ascii=False) + "\n")
                    counts[source] = counts.get(source, 0) + 1
            # Truncation of single texts and of pairs (longest first), with token types.
            for max_length in (8, 12, 512):
                tokenizer.enable_truncation(max_length)
                for first, second in PAIRS:
                    encoding = tokenizer.encode(first, second)
                    out.write(json.dumps({"source": "pairs", **setting, "max_length": max_length, "text": first,
                                          "pair": second, "ids": encoding.ids, "types": encoding.type_ids,
                                          "tokens": encoding.tokens}, ensure_ascii=False) + "\n")
                    counts["pairs"] = counts.get("pairs", 0) + 1
                for text in EDGE_CASES[:8]:
                    encoding = tokenizer.encode(text)
                    out.write(json.dumps({"source": "truncated", **setting, "max_length": max_length,
                                          "text": text, "ids": encoding.ids, "types": encoding.type_ids,
                                          "tokens": encoding.tokens}, ensure_ascii=False) + "\n")
                    counts["truncated"] = counts.get("truncated", 0) + 1
                tokenizer.no_truncation()
    with open(os.path.join(out_dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": counts, "present": present}, f, indent=2)
    print(f"tokenizer references: {counts} in {out_dir}")


if __name__ == "__main__":
    main()
