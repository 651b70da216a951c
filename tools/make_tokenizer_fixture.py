#!/usr/bin/env python3
"""Builds the HF-tokenizers reference fixture for seek's byte-level BPE tests (tests/testdata/tokenizer/).

Run by hand with the reference environment (tokenizers 0.22.1, transformers 4.57.1):
    /work/refvenv/bin/python tools/make_tokenizer_fixture.py [--shared ../shared] [--smollm2 PATH.gguf]

Writes
  corpus.json            {"texts": [...]}: >= 2000 deterministic strings (English, CJK, code, emoji, numbers,
                         whitespace runs, control characters, combining marks, ZWJ, RTL, special tokens in text,
                         code points newer than Unicode 13, random code points)
  <name>.ids             one line of space-separated ids per text: encode(text, add_special_tokens=False)
  <name>.decode.json     {"index": decoded} for the texts whose decode(ids) differs from the text (NFC etc.)
for name in deepseek-v3, qwen3, deepseek-r1-distill-qwen, llama3-style, smollm2.

llama3-style: the Qwen vocabulary with the Llama-3 pre-tokenizer regex (\p{N}{1,3}), ignore_merges=true and no
normaliser; the C++ test rebuilds the same tokenizer from ../shared/tokenizers/qwen3/tokenizer.json at test time.
smollm2: transformers converts the GGUF's vocabulary, but its GGUF converter drops SmolLM2's pre-tokenizer, so the
reference puts back the one of HuggingFaceTB/SmolLM2's tokenizer.json: Sequence[Digits(individual_digits=true),
ByteLevel(add_prefix_space=false, use_regex=true)], with a ByteLevel decoder, no post-processor and no unk token
(the GGUF's vocabulary lacks a few byte-level characters; like llama.cpp, seek drops such bytes).
"""
import argparse
import json
import os
import random

from tokenizers import Tokenizer

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")

SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
            "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<|fim_prefix|>", "<|fim_middle|>",
            "<tool_call>", "<|vision_start|>", "<｜tool▁calls▁begin｜>", "<|im_start", "im_end|>", "<｜User",
            "<<|im_end|>>", "<|im_end|><|im_end|>", "<｜fim▁hole｜>"]

ENGLISH = ("the quick brown fox jumps over lazy dog it's we're they've I'm you'll he'd DON'T WON'T Can't "
           "tokenizer inference engine DeepSeek mixture of experts attention rotary embedding cache hello world "
           "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis naïve café résumé "
           "coöperate façade Zürich straße Ångström ſ ǅ ﬁ").split()
CHINESE = ["你好，世界！", "深度求索人工智能", "我们今天去北京天安门广场。", "机器学习模型的推理速度很重要",
           "《红楼梦》是中国古典小说", "龥龦鿿㐀𠀀𪚥", "中文，标点。符号！？：；“引号”（括号）"]
JAPANESE = ["こんにちは世界", "カタカナとひらがなと漢字", "東京都渋谷区", "ｶﾀｶﾅ半角", "ゟ゠ヿ・ー", "私は猫が好きです。"]
KOREAN = ["안녕하세요 세계", "한국어 토크나이저 테스트", "각 자모", "대한민국 서울특별시"]
CODE = ["def f(x):\n    return x**2 + 1\n", "int main() { printf(\"%d\\n\", 42); return 0; }",
        "for (size_t i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}", "{\"key\": [1, 2.5, null, true]}",
        "x = [i for i in range(10) if i % 2 == 0]", "SELECT * FROM users WHERE id = 'abc';",
        "<div class=\"a\">&nbsp;</div>", "#include <vector>\n#define MAX(a,b) ((a)>(b)?(a):(b))",
        "    if (x) {\n        y();\n    }\n\n\n", "a->b::c<<d>>e||f&&g!=h", "$HOME/.cache/~user @@ -1,3 +1,4 @@",
        "https://example.com/path?q=1&r=%20#frag", "`code` **bold** _it_ ~~s~~ [l](u)"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇯🇵", "❤️", "🤖🚀✨", "👩🏻‍💻", "©®™", "☃︎☃️", "🫠🫨🪿"]
NUMBERS = ["0", "7", "42", "123", "1234", "12345", "3.14159", "1,000,000", "-17", "1e-9", "0x1F", "２０２４",
           "٣٤٥", "१२३", "²³¹", "½¾", "ⅫⅣ", "①②③", "10000000000000000000000", "v1.2.3", "9.99$", "100%"]
WHITESPACE = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\n \n", "    \n\n    ",
              "\u00a0", "\u3000", "\u2003", "\u2028", "\u0085", "\x0b", "\x0c", " \t \n\r\n  "]
CONTROL = ["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\x1f", "\u200b", "\u200c", "\u200d", "\ufeff", "\u2066",
           "\u202e", "\ufffd", "\U000e0001", "\ue000", "\U0010ffff"]
ODD = ["e\u0301", "A\u030a", "\u1100\u1161\u11a8", "a\u0308\u0304", "\u0915\u094d\u0937", "ก่", "مرحبا بالعالم",
       "שלום עולם", "Ελληνικά ΑΒΓ", "Русский текст", "Ǆ ǅ ǆ", "ﬀﬁﬂ", "ℌℍℎ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Ꭰ Ꮳ", "ꭰ",
       "\u0897", "\u1c89\u1c8a", "\ua7cb", "\u2427", "\U0001fae9", "\U00010d40", "̃", "्", "ٌ", "'ſ", "'S'T'RE"]
FRAG_SETS = [ENGLISH, CHINESE, JAPANESE, KOREAN, CODE, EMOJI, NUMBERS, WHITESPACE, CONTROL, ODD, SPECIALS]


def random_codepoints(rng, n):
    out = []
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x52f), (0x590, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
              (0x1100, 0x11ff), (0x2000, 0x2bff), (0x3000, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3),
              (0xfb00, 0xffff), (0x10000, 0x1ffff), (0x20000, 0x2ffff), (0xe0000, 0xe01ef), (0, 0x1f)]
    for _ in range(n):
        lo, hi = rng.choice(blocks)
        c = rng.randint(lo, hi)
        if 0xd800 <= c <= 0xdfff:
            c = 0x41
        out.append(chr(c))
    return "".join(out)


def make_corpus():
    rng = random.Random(20250214)
    texts = []
    for frags in FRAG_SETS:  # every fragment alone, and with a space or newline around it
        for f in frags:
            texts += [f, " " + f, f + " ", "x" + f + "y", "\n" + f + "\n", f + f]
    for w in ENGLISH:
        texts += [w.capitalize(), w.upper(), " " + w, "'" + w, w + "'s"]
    while len(texts) < 1700:  # random mixes of fragments
        k = rng.randint(2, 6)
        parts = []
        for _ in range(k):
            parts.append(rng.choice(rng.choice(FRAG_SETS)))
            parts.append(rng.choice(["", " ", "", "\n", "  ", ""]))
        texts.append("".join(parts))
    while len(texts) < 2000:  # random code points
        texts.append(random_codepoints(rng, rng.randint(1, 24)))
    texts += [" " * 300, "\n" * 50, " \n" * 40, "a" * 500, "1" * 200, "你" * 100, "😀" * 40,
              "The year 2024 had 366 days; 1234567 is 1,234,567.", "   leading", "trailing   ", "",
              "Hello\u00a0World\u3000!", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
              "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>2+2?<｜Assistant｜><think>\n4\n</think>\n\n4<｜end▁of▁sentence｜>"]
    return texts


def write(outdir, name, tok, texts):
    with open(os.path.join(outdir, name + ".ids"), "w") as f:
        diffs = {}
        for i, t in enumerate(texts):
            ids = tok.encode(t, add_special_tokens=False).ids
            f.write(" ".join(map(str, ids)) + "\n")
            d = tok.decode(ids, skip_special_tokens=False)
            if d != t:
                diffs[str(i)] = d
    with open(os.path.join(outdir, name + ".decode.json"), "w") as f:
        json.dump(diffs, f, ensure_ascii=False, indent=0)
    print(name, "written;", len(diffs), "decodes differ from the text")


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared"))
    ap.add_argument("--smollm2", default=os.path.expanduser("~/.cache/seek/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "testdata", "tokenizer"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    texts = make_corpus()
    with open(os.path.join(args.out, "corpus.json"), "w") as f:
        json.dump({"texts": texts}, f, ensure_ascii=False, indent=0)
    print(len(texts), "texts")
    tk = os.path.join(args.shared, "tokenizers")
    for name in ["deepseek-v3", "qwen3", "deepseek-r1-distill-qwen"]:
        write(args.out, name, Tokenizer.from_file(os.path.join(tk, name, "tokenizer.json")), texts)

    j = json.load(open(os.path.join(tk, "qwen3", "tokenizer.json")))
    j["normalizer"] = None
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = LLAMA3_REGEX
    j["model"]["ignore_merges"] = True
    write(args.out, "llama3-style", Tokenizer.from_str(json.dumps(j)), texts)

    if os.path.exists(args.smollm2):
        from transformers import AutoTokenizer
        t = AutoTokenizer.from_pretrained(os.path.dirname(args.smollm2), gguf_file=os.path.basename(args.smollm2))
        j = json.loads(t.backend_tokenizer.to_str())
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
        j["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
        j["post_processor"] = None
        j["model"]["byte_fallback"] = False
        j["model"]["unk_token"] = None  # a byte missing from the vocabulary is dropped (as llama.cpp does)
        write(args.out, "smollm2", Tokenizer.from_str(json.dumps(j)), texts)


if __name__ == "__main__":
    main()
