#include "formats/gguf.h"

#include <gtest/gtest.h>


#include "core/error.h"
#include "formats/gguf_builder.h"
#include "test_util.h"

namespace seek {
namespace {

using test::GgufBuilder;

std::vector<uint8_t> F32Bytes(std::vector<float> v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A small valid GGUF with every metadata type and three tensor types.
GgufBuilder SmallBuilder() {
  GgufBuilder b;
  b.AddString("general.architecture", "llama");
  b.AddU8("t.u8", 200);
  b.AddI8("t.i8", -100);
  b.AddU16("t.u16", 60000);
  b.AddI16("t.i16", -30000);
  b.AddU32("t.u32", 4000000000u);
  b.AddI32("t.i32", -2000000000);
  b.AddF32("t.f32", 1.5f);
  b.AddBool("t.bool", true);
  b.AddU64("t.u64", 1ull << 40);
  b.AddI64("t.i64", -(1ll << 40));
  b.AddF64("t.f64", 2.25);
  b.AddStringArray("t.strs", {"a", "", "hello"});
  b.AddArray<int32_t>("t.i32s", 5, {1, -2, 3});
  b.AddArray<float>("t.f32s", 6, {0.5f, -1.0f});
  b.AddArray<uint8_t>("t.bools", 7, {1, 0});
  b.AddTensor("a.weight", 0, {4, 2}, F32Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  b.AddTensor("b.weight", 1, {8}, std::vector<uint8_t>(16, 0x3c));
  std::vector<uint8_t> q(34 * 2, 0);  // q8_0: 2 blocks of 32
  q[2] = 7;
  b.AddTensor("c.weight", 8, {32, 2}, q);
  return b;
}

std::unique_ptr<GgufFile> Parse(const std::vector<uint8_t>& img) {
  return GgufFile::FromMemory(img.data(), img.size(), "model.gguf");
}

TEST(Gguf, RoundTripsEveryMetadataType) {
  const auto img = SmallBuilder().Build();
  auto g = Parse(img);
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), 32u);
  EXPECT_EQ(g->keys().size(), 16u);
  EXPECT_EQ(g->keys()[0], "general.architecture");
  EXPECT_EQ(g->GetString("general.architecture"), "llama");
  EXPECT_EQ(g->GetInt("t.u8"), 200);
  EXPECT_EQ(g->GetInt("t.i8"), -100);
  EXPECT_EQ(g->GetInt("t.u16"), 60000);
  EXPECT_EQ(g->GetInt("t.i16"), -30000);
  EXPECT_EQ(g->GetInt("t.u32"), 4000000000ll);
  EXPECT_EQ(g->GetInt("t.i32"), -2000000000);
  EXPECT_EQ(g->GetFloat("t.f32"), 1.5);
  EXPECT_EQ(g->GetBool("t.bool"), true);
  EXPECT_EQ(g->GetInt("t.u64"), 1ll << 40);
  EXPECT_EQ(g->GetInt("t.i64"), -(1ll << 40));
  EXPECT_EQ(g->GetFloat("t.f64"), 2.25);
  EXPECT_EQ(g->GetFloat("t.u32"), 4e9);  // ints widen to float
  ASSERT_NE(g->GetStringArray("t.strs"), nullptr);
  EXPECT_EQ(*g->GetStringArray("t.strs"), (std::vector<std::string>{"a", "", "hello"}));
  EXPECT_EQ(g->GetIntArray("t.i32s"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(g->GetFloatArray("t.f32s"), (std::vector<double>{0.5, -1.0}));
  EXPECT_EQ(g->GetFloatArray("t.i32s"), (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(g->GetIntArray("t.bools"), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(g->Find("t.strs")->array_len, 3u);
  EXPECT_FALSE(g->GetInt("missing").has_value());
  EXPECT_EQ(g->GetStringArray("missing"), nullptr);
  // Wrong types name the key.
  try {
    g->GetInt("general.architecture");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g->GetString("t.u8"), Error);
  EXPECT_THROW(g->GetStringArray("t.i32s"), Error);
  EXPECT_THROW(g->GetIntArray("t.f32s"), Error);
}

TEST(Gguf, TensorsViewTheImage) {
  const auto img = SmallBuilder().Build();
  auto g = Parse(img);
  ASSERT_EQ(g->tensors().size(), 3u);
  const TensorView* a = g->FindTensor("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, DType::kF32);
  EXPECT_EQ(a->n_dims, 2);
  EXPECT_EQ(a->ne[0], 4);
  EXPECT_EQ(a->ne[1], 2);
  EXPECT_EQ(a->nbytes, 32u);
  EXPECT_EQ(static_cast<const float*>(a->data)[5], 6.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data) - reinterpret_cast<uintptr_t>(img.data()),
            (reinterpret_cast<uintptr_t>(a->data) - reinterpret_cast<uintptr_t>(img.data())) / 32 * 32);
  const TensorView* c = g->FindTensor("c.weight");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type, DType::kQ8_0);
  EXPECT_EQ(c->nbytes, 68u);
  EXPECT_EQ(static_cast<const uint8_t*>(c->data)[2], 7);
  EXPECT_EQ(g->FindTensor("b.weight")->type, DType::kF16);
  EXPECT_EQ(g->FindTensor("nope"), nullptr);
}

TEST(Gguf, VersionTwoAndCustomAlignment) {
  GgufBuilder b = SmallBuilder();
  b.version = 2;
  b.alignment = 64;
  b.AddU32("general.alignment", 64);
  const auto img = b.Build();
  auto g = Parse(img);
  EXPECT_EQ(g->version(), 2u);
  EXPECT_EQ(g->alignment(), 64u);
  EXPECT_EQ((static_cast<const uint8_t*>(g->FindTensor("c.weight")->data) - img.data()) % 64, 0);
}

TEST(Gguf, NestedArraysKeepCountOnly) {
  GgufBuilder b;
  test::ByteWriter w;
  w.Put<uint32_t>(9);  // array
  w.Put<uint32_t>(9);  // of arrays
  w.Put<uint64_t>(2);
  w.Put<uint32_t>(4);  // [u32 x 2]
  w.Put<uint64_t>(2);
  w.Put<uint32_t>(1);
  w.Put<uint32_t>(2);
  w.Put<uint32_t>(8);  // [string x 1]
  w.Put<uint64_t>(1);
  w.PutStr("xy");
  b.AddRawKv("nested", w.bytes());
  b.AddU32("after", 5);
  auto g = Parse(b.Build());
  EXPECT_EQ(g->Find("nested")->array_len, 2u);
  EXPECT_EQ(g->Find("nested")->elem_type, GgufType::kArray);
  EXPECT_EQ(g->GetInt("after"), 5);
}

void ExpectError(const std::vector<uint8_t>& img, const std::string& fragment) {
  try {
    Parse(img);
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.gguf"), std::string::npos) << e.what();
  }
}

TEST(Gguf, RejectsBadHeaders) {
  ExpectError({'G', 'G', 'U'}, "bad magic");
  ExpectError({'G', 'G', 'M', 'L', 0, 0, 0, 0}, "bad magic");
  GgufBuilder b = SmallBuilder();
  b.version = 1;
  ExpectError(b.Build(), "unsupported GGUF version 1");
  b.version = 0x03000000;
  ExpectError(b.Build(), "big-endian");
  b = SmallBuilder();
  b.n_tensors_override = 1ull << 60;
  ExpectError(b.Build(), "tensor count");
  b = SmallBuilder();
  b.n_kv_override = ~0ull - 1;
  ExpectError(b.Build(), "metadata count");
}

TEST(Gguf, RejectsHostileMetadata) {
  GgufBuilder b;
  test::ByteWriter w;
  w.Put<uint32_t>(8);
  w.Put<uint64_t>(1ull << 62);  // huge string length
  b.AddRawKv("s", w.bytes());
  ExpectError(b.Build(), "string length");

  for (uint32_t elem : {0u, 6u, 8u, 9u, 12u}) {
    GgufBuilder b2;
    test::ByteWriter a;
    a.Put<uint32_t>(9);
    a.Put<uint32_t>(elem);
    a.Put<uint64_t>(1ull << 61);  // huge array count
    b2.AddRawKv("arr", a.bytes());
    ExpectError(b2.Build(), "array count");
  }
  GgufBuilder b3;
  b3.AddScalar<uint32_t>("x", 13, 0);
  ExpectError(b3.Build(), "unknown value type 13");
  GgufBuilder b4;
  b4.AddU32("k", 1);
  b4.AddU32("k", 2);
  ExpectError(b4.Build(), "duplicate metadata key 'k'");
  // Deep nesting is bounded.
  GgufBuilder b5;
  test::ByteWriter d;
  d.Put<uint32_t>(9);
  for (int i = 0; i < 100; ++i) {
    d.Put<uint32_t>(9);
    d.Put<uint64_t>(1);
  }
  d.Put<uint32_t>(0);
  d.Put<uint64_t>(0);
  b5.AddRawKv("deep", d.bytes());
  ExpectError(b5.Build(), "nested too deeply");
}

TEST(Gguf, RejectsBadAlignment) {
  for (uint32_t al : {0u, 3u, 48u}) {
    GgufBuilder b = SmallBuilder();
    b.AddU32("general.alignment", al);
    ExpectError(b.Build(), "general.alignment");
  }
  GgufBuilder b = SmallBuilder();
  b.AddString("general.alignment", "32");
  ExpectError(b.Build(), "general.alignment");
}

TEST(Gguf, RejectsBadTensors) {
  auto one = [](std::vector<uint64_t> ne, uint32_t type, size_t bytes) {
    GgufBuilder b;
    b.AddTensor("blk.0.attn_q.weight", type, std::move(ne), std::vector<uint8_t>(bytes, 0));
    return b;
  };
  ExpectError(one({1ull << 62, 4}, 0, 16).Build(), "too large");
  ExpectError(one({1ull << 31, 1ull << 31, 1ull << 31}, 0, 16).Build(), "too large");
  ExpectError(one({0, 4}, 0, 16).Build(), "dimension 0 = 0");
  ExpectError(one({1, 1, 1, 1, 1}, 0, 4).Build(), "5 dimensions");
  ExpectError(one({}, 0, 4).Build(), "0 dimensions");
  ExpectError(one({4}, 99, 16).Build(), "unknown or unsupported type id 99");
  ExpectError(one({16}, 8, 34).Build(), "not a multiple of the block size 32");
  // Data past the end: declare more elements than the bytes written.
  GgufBuilder b = one({64}, 0, 16);
  auto img = b.Build();
  ExpectError(img, "'blk.0.attn_q.weight' data");
  ExpectError(img, "extends past end of file");
  // Misaligned offset.
  b = one({4}, 0, 16);
  b.SetLastOffset(4);
  ExpectError(b.Build(), "not a multiple of the alignment");
  // Overlap.
  b = one({8}, 0, 32);
  b.AddTensor("second", 0, {8}, std::vector<uint8_t>(32, 0));
  b.SetLastOffset(0);
  ExpectError(b.Build(), "overlaps");
  // Duplicate name.
  b = one({8}, 0, 32);
  b.AddTensor("blk.0.attn_q.weight", 0, {8}, std::vector<uint8_t>(32, 0));
  ExpectError(b.Build(), "duplicate tensor name");
}

// Every prefix of a valid file must fail cleanly (the full file parses).
TEST(Gguf, TruncatedAtEveryOffset) {
  const auto img = SmallBuilder().Build();
  for (size_t n = 0; n < img.size(); ++n) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + n);
    EXPECT_THROW(Parse(cut), Error) << "prefix " << n;
  }
  EXPECT_NO_THROW(Parse(img));
}

// Deterministic bit flips: each must either parse or throw seek::Error (ASan/UBSan builds catch the rest).
TEST(Gguf, BitFlipsNeverCrash) {
  const auto img = SmallBuilder().Build();
  uint64_t state = 0x9e3779b97f4a7c15ull;
  int errors = 0;
  for (size_t pos = 0; pos < img.size(); ++pos) {
    for (int k = 0; k < 3; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      auto m = img;
      m[pos] ^= static_cast<uint8_t>(1u << ((state >> 33) % 8));
      try {
        auto g = Parse(m);
        for (const TensorView& t : g->tensors()) {
          const auto* p = static_cast<const uint8_t*>(t.data);
          ASSERT_GE(p, m.data());
          ASSERT_LE(p + t.nbytes, m.data() + m.size());
        }
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(Gguf, FileErrorsNameThePath) {
  try {
    GgufFile::Open("/nonexistent/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

// The committed fixture written by gguf-py's GGUFWriter (tools/make_formats_fixture.py).
TEST(Gguf, ReadsGgufPyFixture) {
  auto g = GgufFile::Open(test::TestdataDir() + "/formats/gguf_py_fixture.gguf");
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->GetString("general.architecture"), "llama");
  EXPECT_EQ(g->GetInt("fx.u8"), 250);
  EXPECT_EQ(g->GetInt("fx.i8"), -7);
  EXPECT_EQ(g->GetInt("fx.u16"), 65000);
  EXPECT_EQ(g->GetInt("fx.i16"), -32000);
  EXPECT_EQ(g->GetInt("fx.u32"), 4000000000ll);
  EXPECT_EQ(g->GetInt("fx.i32"), -123456789);
  EXPECT_FLOAT_EQ(*g->GetFloat("fx.f32"), 0.125f);
  EXPECT_EQ(g->GetBool("fx.bool"), true);
  EXPECT_EQ(g->GetInt("fx.u64"), 1ll << 50);
  EXPECT_EQ(g->GetInt("fx.i64"), -(1ll << 50));
  EXPECT_EQ(g->GetFloat("fx.f64"), 3.141592653589793);
  EXPECT_EQ(g->GetString("fx.str"), "héllo wörld");
  EXPECT_EQ(*g->GetStringArray("fx.strs"), (std::vector<std::string>{"<s>", "</s>", "▁the", ""}));
  EXPECT_EQ(g->GetIntArray("fx.i32s"), (std::vector<int64_t>{1, -2, 3, 2147483647}));
  EXPECT_EQ(g->GetFloatArray("fx.f32s"), (std::vector<double>{0.5, -0.25}));
  EXPECT_EQ(g->GetIntArray("fx.bools"), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(g->Find("fx.nested")->array_len, 2u);
  ASSERT_EQ(g->tensors().size(), 4u);
  const TensorView* w = g->FindTensor("w.f32");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->ShapeString(), "[3, 2]");  // numpy (2, 3) -> ne {3, 2}
  const float* f = static_cast<const float*>(w->data);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f[i], static_cast<float>(i) - 2.5f);
  EXPECT_EQ(g->FindTensor("w.f16")->type, DType::kF16);
  EXPECT_EQ(g->FindTensor("w.f16")->ShapeString(), "[8]");
  EXPECT_EQ(g->FindTensor("w.q8_0")->type, DType::kQ8_0);
  EXPECT_EQ(g->FindTensor("w.q8_0")->ShapeString(), "[64, 2]");
  EXPECT_EQ(g->FindTensor("w.q8_0")->nbytes, 4u * 34);
  EXPECT_EQ(g->FindTensor("w.i32")->type, DType::kI32);
  EXPECT_EQ(static_cast<const int32_t*>(g->FindTensor("w.i32")->data)[3], 30);
}

TEST(Gguf, ReadsRealVocabFiles) {
  SEEK_REQUIRE_SHARED();
  const std::string dir = test::SharedDir() + "/vocab-gguf/";
  auto g = GgufFile::Open(dir + "ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(g->GetString("general.architecture"), "gpt2");
  EXPECT_EQ(g->GetStringArray("tokenizer.ggml.tokens")->size(), 50257u);
  EXPECT_EQ(g->GetIntArray("tokenizer.ggml.token_type")->size(), 50257u);
  EXPECT_GT(g->GetStringArray("tokenizer.ggml.merges")->size(), 40000u);
  EXPECT_TRUE(g->tensors().empty());
  auto spm = GgufFile::Open(dir + "ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(spm->GetStringArray("tokenizer.ggml.tokens")->size(), 32000u);
  EXPECT_EQ(spm->GetFloatArray("tokenizer.ggml.scores")->size(), 32000u);
  EXPECT_EQ(spm->GetBool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(spm->GetInt("llama.vocab_size"), 32000);
  auto ds = GgufFile::Open(dir + "ggml-vocab-deepseek-llm.gguf");
  EXPECT_GT(ds->GetStringArray("tokenizer.ggml.tokens")->size(), 100000u);
}

TEST(Gguf, ReadsSmolLM2) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 GGUF not present";
  auto g = GgufFile::Open(path);
  EXPECT_EQ(g->tensors().size(), 272u);
  EXPECT_EQ(g->GetInt("llama.block_count"), 30);
  EXPECT_EQ(g->GetStringArray("tokenizer.ggml.tokens")->size(), 49152u);
  const TensorView* e = g->FindTensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, DType::kQ8_0);
  EXPECT_EQ(e->ne[0], 576);
  EXPECT_EQ(e->ne[1], 49152);
  EXPECT_EQ(g->FindTensor("blk.0.attn_q.weight")->type, DType::kQ4_1);
}

}  // namespace
}  // namespace seek
