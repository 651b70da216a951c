#!/usr/bin/env python3
"""Makes tests/testdata/tokenizer/spm/llama_spm_random.txt: random strings encoded by HF LlamaTokenizerFast
built (by transformers) from ../shared/vocab-gguf/ggml-vocab-llama-spm.gguf, add_special_tokens=False.

Usage: /work/refvenv/bin/python tools/make_spm_fixture.py > tests/testdata/tokenizer/spm/llama_spm_random.txt
Each line: <text as unicode_escape of its UTF-8 bytes read as latin-1>\t<ids>. Slow (~1-2 min: transformers
rebuilds the merges from the vocabulary scores).
"""
import os
import random
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

ALPHABET = list("aeinorst lhdcumwfgypbvkTAISxzqj0123456789  .,;:!?'\"()-\n\t") + [
    "é", "ü", "ß", "ñ", "ø", "Ж", "я", "ы", "中", "文", "字", "日", "本", "ア", "한", "国", "🦙", "🚀", "😀", "✅",
    "\u2581", "\u200b", "€", "½", "∑", "ก", "ា", "ं",
]
WORDS = ["the", "Hello", " world", "tokenizer", "  ", "   ", "333", "http://x.y/z", "can't", "<s>", "</s>", "<unk>",
         "<0x41>", "▁▁", "\n\n", "café", "naïve"]


def main():
    shared = os.path.join(os.path.dirname(__file__), "..", "..", "shared")
    src = os.path.join(shared, "vocab-gguf", "ggml-vocab-llama-spm.gguf")
    tmp = tempfile.mkdtemp()
    shutil.copy(src, tmp)
    tok = AutoTokenizer.from_pretrained(tmp, gguf_file="ggml-vocab-llama-spm.gguf")
    rng = random.Random(1234)
    for _ in range(120):
        parts = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.3:
                parts.append(rng.choice(WORDS))
            else:
                parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))))
        text = "".join(parts)
        ids = tok.encode(text, add_special_tokens=False)
        escaped = text.encode("utf-8").decode("latin-1").encode("unicode_escape").decode("ascii")
        print(escaped + "\t" + " ".join(map(str, ids)))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
