#!/usr/bin/env python3
"""Independent plain-Python re-implementation of llama2.c run.c `encode` (karpathy/llama2.c), used to make
tests/testdata/tokenizer/spm/llama2c_expected.txt for seek's llama2.c tokenizer.

It follows run.c's loop literally (O(n^2) rescans, no heap) so it checks the C++ heap version independently.
One documented difference from run.c: a NUL byte does not end the text (it becomes byte token <0x00>).

Usage: tools/llama2c_tokenizer_ref.py [tok512.bin] [vocab_size] > tests/testdata/tokenizer/spm/llama2c_expected.txt
Output: one case per line: <escaped text>\t<ids with BOS, space separated>. The text is written with
Python's unicode_escape of its UTF-8 bytes (so tabs, newlines and invalid bytes survive); the C++ test
unescapes \\, \\n, \\t, \\r, \\xHH, \\uHHHH, \\UHHHHHHHH.
"""
import struct
import sys


def load(path, vocab_size):
    data = open(path, "rb").read()
    pos = 4
    vocab, scores = [], []
    for _ in range(vocab_size):
        score, n = struct.unpack_from("<fi", data, pos)
        pos += 8
        vocab.append(data[pos:pos + n])
        scores.append(score)
        pos += n
    return vocab, scores


def encode(vocab, scores, text: bytes, bos=True):
    lookup = {}
    for i, t in enumerate(vocab):
        lookup.setdefault(t, i)
    tokens = [1] if bos else []
    if text:
        tokens.append(lookup.get(b" ", ord(" ") + 3))
    buf = b""
    for i, c in enumerate(text):
        if c & 0xC0 != 0x80:
            buf = b""
        buf += bytes([c])
        nxt = text[i + 1] if i + 1 < len(text) else 0
        if nxt & 0xC0 == 0x80 and len(buf) < 4:
            continue
        if buf in lookup:
            tokens.append(lookup[buf])
        else:
            tokens.extend(b + 3 for b in buf)
        buf = b""
    f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
    while True:
        best_score, best_id, best_idx = f32(-1e10), -1, -1
        for i in range(len(tokens) - 1):
            merged = lookup.get(vocab[tokens[i]] + vocab[tokens[i + 1]], -1)
            if merged != -1 and scores[merged] > best_score:
                best_score, best_id, best_idx = scores[merged], merged, i
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    return tokens


CASES = [
    "", " ", "  ", "a", "Once upon a time", "Once upon a time, there was a little girl named Lily.",
    " leading space", "trailing space ", "double  space", "tab\there", "new\nline", "\n\n",
    "The quick brown fox jumps over the lazy dog.", "Tom and Sue went to the park. They played!",
    "12345 67890", "!!!???...", "Hello, World!", "café", "naïve résumé", "日本語のテキスト", "Привет мир",
    "emoji 🦙 and 🚀", "mixed: abc 中文 def", "\u200b zero width", "x\u2581y", "<s> not special </s>",
    "<0x41>", "\x00nul", "a" * 50, "the " * 20, "Lily's mom said, \"Don't worry!\"",
]
INVALID = [b"\xff\xfe bad", b"cut \xe2\x82", b"\x80\x80\x80\x80\x80\x80 conts", b"over\xc0\xaflong"]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/models/stories260K/tok512.bin"
    vocab_size = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    vocab, scores = load(path, vocab_size)
    for raw in [c.encode("utf-8") for c in CASES] + INVALID:
        ids = encode(vocab, scores, raw)
        escaped = raw.decode("latin-1").encode("unicode_escape").decode("ascii")
        print(escaped + "\t" + " ".join(map(str, ids)))


if __name__ == "__main__":
    main()
