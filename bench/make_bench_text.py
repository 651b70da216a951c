#!/usr/bin/env python3
"""Writes the tokenizer benchmark text: a deterministic mixed-language document of about 1 MB.

The document is built from hand-written paragraphs (English prose, Chinese, Japanese, Korean, Russian, code,
numbers, emoji, whitespace runs) and the llama.cpp vocabulary test inputs in ../shared/vocab-gguf/*.inp when
present. Pieces are drawn with a fixed seed and lightly varied (numbers, identifiers, whitespace), so the same
arguments always give the same bytes. Nothing large is committed: the file goes under the build directory.

  python3 bench/make_bench_text.py OUT [--bytes N] [--seed S] [--shared DIR]
"""
import argparse
import pathlib
import random

PROSE_EN = [
    "The quick brown fox jumps over the lazy dog, and then it runs back into the forest before anyone notices.",
    "In the early morning the harbour was quiet; only a few fishing boats were heading out past the lighthouse.",
    "She opened the letter slowly, read it twice, and put it back in the drawer without saying a word.",
    "A tokenizer turns text into a sequence of integers. Byte-level BPE merges frequent pairs of symbols until "
    "no listed merge applies, so common words become single tokens and rare words split into pieces.",
    "It's not that we didn't try. We'd been working on the problem for months, and they've all seen the results.",
    "Mixture-of-experts models route each token to a small number of experts, which keeps the compute per token "
    "low while the total number of parameters stays very large.",
    "The committee will meet on Tuesday at 10:30 a.m. in room B-204 to review the budget for fiscal year 2025.",
    "\"Where are you going?\" he asked. \"Nowhere in particular,\" she replied, \"just out for a walk.\"",
    "Rain fell all afternoon. By evening the streets were rivers, and the old bridge creaked under the weight "
    "of water rushing toward the sea.",
    "Researchers measured throughput in tokens per second, repeating every run five times and reporting the "
    "median, because the machine was shared and noisy.",
]

PROSE_OTHER = [
    # Chinese
    "今天天气很好，我们一起去公园散步吧。公园里有很多人在跑步、打太极拳，还有孩子们在放风筝。",
    "大型语言模型的推理引擎需要高效地处理矩阵乘法、注意力计算以及分词。分词器把文本切分成词元，再映射成整数编号。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "北京时间2024年3月15日，会议在上海举行，来自12个国家的300多名代表参加了讨论。",
    # Japanese
    "今日はとても良い天気ですね。午後から友達と一緒に映画を見に行く予定です。",
    "トークナイザーはテキストをトークンに分割します。カタカナ、ひらがな、漢字が混ざった文章も正しく処理する必要があります。",
    "東京駅から新幹線に乗って、京都まで約2時間15分かかりました。",
    # Korean
    "안녕하세요. 오늘은 날씨가 정말 좋네요. 주말에 가족과 함께 바닷가에 갈 계획입니다.",
    "토크나이저는 텍스트를 토큰으로 나누고 각 토큰을 정수 번호로 바꿉니다.",
    # Russian, Greek, Arabic, Hindi, Vietnamese, German, French
    "Москва — столица России, крупнейший по численности населения город страны.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "مرحبا بالعالم، هذا نص تجريبي لاختبار سرعة المحلل اللغوي.",
    "नमस्ते दुनिया, यह एक परीक्षण वाक्य है।",
    "Tiếng Việt có nhiều dấu thanh: sắc, huyền, hỏi, ngã, nặng.",
    "Der Führer des Teams erklärte die Größe der Änderungen in fünf Minuten.",
    "L'été dernier, nous sommes allés à la plage près de Marseille ; c'était magnifique !",
]

CODE = [
    "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    a, b = 0, 1\n    for _ in range(n - 1):\n"
    "        a, b = b, a + b\n    return b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += x[i] * w[i];\n\tif (sum > limit) break;\n}\n",
    "#include <vector>\n\nstd::vector<float> Softmax(const std::vector<float>& x) {\n  float m = *std::max_element("
    "x.begin(), x.end());\n  std::vector<float> y(x.size());\n  float s = 0.f;\n  for (size_t i = 0; i < x.size(); "
    "++i) s += (y[i] = std::exp(x[i] - m));\n  for (float& v : y) v /= s;\n  return y;\n}\n",
    "SELECT name, COUNT(*) AS n FROM users WHERE created_at >= '2024-01-01' GROUP BY name ORDER BY n DESC LIMIT 10;\n",
    "{\"model\": \"deepseek-v3\", \"temperature\": 0.7, \"max_tokens\": 1024, \"stop\": [\"</s>\", \"\\n\\n\"]}\n",
    "const add = (a, b) => a + b;\nconsole.log(`result: ${add(40, 2)}`);\n",
    "fn main() {\n    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
    "    <div class=\"container\">\n        <p>Hello, &amp; welcome!</p>\n    </div>\n",
    "$ cmake -S . -B build -G Ninja && cmake --build build -j2 2>&1 | tee build.log\n",
]

EMOJI = ["😀", "🦙", "🚀", "👍🏽", "❤️", "🇯🇵", "👨‍👩‍👧‍👦", "✨", "🔥", "🎉", "😂", "🤖", "☕"]
WHITESPACE = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n", "\r\n", "        "]


def read_inp_pieces(shared: pathlib.Path):
    pieces = []
    for path in sorted((shared / "vocab-gguf").glob("*.inp")):
        for piece in path.read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n"):
            if piece.strip() and piece not in pieces:
                pieces.append(piece)
    return pieces


def numbers(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return str(rng.randrange(10 ** rng.randrange(1, 12)))
    if kind == 1:
        return f"{rng.uniform(-1000, 1000):.{rng.randrange(1, 6)}f}"
    if kind == 2:
        return f"{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == 3:
        return f"0x{rng.getrandbits(32):08x}"
    return f"{rng.randrange(1000):,}{rng.randrange(1000):03d},{rng.randrange(1000):03d}"


def vary(piece: str, rng: random.Random) -> str:
    # Insert a number or an emoji now and then, so repeated pieces are not byte-identical.
    if rng.random() < 0.3:
        words = piece.split(" ")
        if len(words) > 2:
            words.insert(rng.randrange(len(words)), numbers(rng))
            piece = " ".join(words)
    if rng.random() < 0.2:
        piece += " " + rng.choice(EMOJI)
    return piece


def make_text(n_bytes: int, seed: int, shared: pathlib.Path) -> str:
    rng = random.Random(seed)
    inp = read_inp_pieces(shared)
    groups = [(PROSE_EN, 35), (PROSE_OTHER, 30), (CODE, 15), (inp, 10), (None, 10)]
    weights = [w for g, w in groups if g is None or g]
    pools = [g for g, _ in groups if g is None or g]
    out, size = [], 0
    while size < n_bytes:
        pool = rng.choices(pools, weights)[0]
        if pool is None:  # a line of numbers, emoji and whitespace runs
            parts = [rng.choice([numbers(rng), rng.choice(EMOJI) * rng.randrange(1, 4), rng.choice(WHITESPACE)])
                     for _ in range(rng.randrange(3, 12))]
            piece = " ".join(parts)
        else:
            piece = vary(rng.choice(pool), rng)
        piece += rng.choice(WHITESPACE)
        out.append(piece)
        size += len(piece.encode("utf-8"))
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--seed", type=int, default=20240615)
    here = pathlib.Path(__file__).resolve().parent
    ap.add_argument("--shared", default=str(here.parent.parent / "shared"))
    args = ap.parse_args()
    text = make_text(args.bytes, args.seed, pathlib.Path(args.shared))
    data = text.encode("utf-8")
    pathlib.Path(args.out).write_bytes(data)
    print(f"wrote {args.out}: {len(data)} bytes, {len(text)} characters, seed {args.seed}")


if __name__ == "__main__":
    main()
