// GgufWriter: write a file with every metadata type, arrays, custom alignment and tensors streamed in pieces,
// then read it back with formats/gguf (an independent parser: it was written and fuzzed against the spec and
// gguf-py-made files). tools/check_gguf_with_gguf_py.py validates a written file with gguf-py by hand.
#include "formats/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace seek {
namespace {

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("seek_gguf_writer_") + name)).string();
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  const std::string path = TempPath("roundtrip.gguf");
  const int64_t ne_a[2] = {64, 3}, ne_b[1] = {5}, ne_c[3] = {32, 2, 2};
  std::vector<float> a(64 * 3), b(5);
  std::iota(a.begin(), a.end(), 0.5f);
  std::iota(b.begin(), b.end(), -2.0f);
  std::vector<uint8_t> c(34 * 4);  // 4 Q8_0 blocks
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(i * 7);
  {
    GgufWriter w(path);
    w.SetString("general.architecture", "llama");
    w.SetU32("general.alignment", 64);
    w.SetU8("t.u8", 200);
    w.SetI8("t.i8", -100);
    w.SetU16("t.u16", 60000);
    w.SetI16("t.i16", -30000);
    w.SetU32("t.u32", 4000000000u);
    w.SetI32("t.i32", -2000000000);
    w.SetU64("t.u64", 1ull << 40);
    w.SetI64("t.i64", -(1ll << 40));
    w.SetF32("t.f32", 0.25f);
    w.SetF64("t.f64", -1e-300);
    w.SetBool("t.bool", true);
    w.SetString("t.str", std::string("a\0b", 3));
    w.SetStringArray("t.strs", {"x", "", "\xe4\xb8\xad"});
    w.SetIntArray("t.ints", GgufType::kInt32, {1, -2, 3});
    w.SetIntArray("t.u8s", GgufType::kUint8, {0, 255});
    w.SetIntArray("t.bools", GgufType::kBool, {1, 0, 1});
    w.SetFloatArray("t.floats", GgufType::kFloat32, {0.5, -1.5});
    w.SetFloatArray("t.doubles", GgufType::kFloat64, {1e-300});
    w.SetString("t.str", "overwritten");  // keeps its position, takes the last value
    w.AddTensor("a", DType::kF32, 2, ne_a);
    w.AddTensor("b", DType::kF32, 1, ne_b);
    w.AddTensor("c", DType::kQ8_0, 3, ne_c);
    EXPECT_EQ(w.TensorBytes(2), c.size());
    // Streamed in uneven pieces.
    w.WriteTensorData(a.data(), 100);
    w.WriteTensorData(reinterpret_cast<const uint8_t*>(a.data()) + 100, a.size() * 4 - 100);
    w.WriteTensorData(b.data(), b.size() * 4);
    w.WriteTensorData(c.data(), 1);
    w.WriteTensorData(c.data() + 1, c.size() - 1);
    w.Finish();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  auto f = GgufFile::Open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->GetString("general.architecture"), "llama");
  EXPECT_EQ(f->GetInt("t.u8"), 200);
  EXPECT_EQ(f->GetInt("t.i8"), -100);
  EXPECT_EQ(f->GetInt("t.u16"), 60000);
  EXPECT_EQ(f->GetInt("t.i16"), -30000);
  EXPECT_EQ(f->GetInt("t.u32"), 4000000000ll);
  EXPECT_EQ(f->GetInt("t.i32"), -2000000000);
  EXPECT_EQ(f->GetInt("t.u64"), 1ll << 40);
  EXPECT_EQ(f->GetInt("t.i64"), -(1ll << 40));
  EXPECT_EQ(f->GetFloat("t.f32"), 0.25);
  EXPECT_EQ(f->GetFloat("t.f64"), -1e-300);
  EXPECT_EQ(f->GetBool("t.bool"), true);
  EXPECT_EQ(f->GetString("t.str"), "overwritten");
  EXPECT_EQ(f->Find("t.u8")->type, GgufType::kUint8);
  EXPECT_EQ(f->Find("t.f64")->type, GgufType::kFloat64);
  ASSERT_NE(f->GetStringArray("t.strs"), nullptr);
  EXPECT_EQ(*f->GetStringArray("t.strs"), (std::vector<std::string>{"x", "", "\xe4\xb8\xad"}));
  EXPECT_EQ(f->GetIntArray("t.ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f->GetIntArray("t.u8s"), (std::vector<int64_t>{0, 255}));
  EXPECT_EQ(f->Find("t.u8s")->elem_type, GgufType::kUint8);
  EXPECT_EQ(f->GetIntArray("t.bools"), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(f->GetFloatArray("t.floats"), (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(f->GetFloatArray("t.doubles"), (std::vector<double>{1e-300}));
  // Key order is the order of first Set.
  EXPECT_EQ(f->keys()[0], "general.architecture");
  EXPECT_EQ(f->keys()[13], "t.str");

  ASSERT_EQ(f->tensors().size(), 3u);
  const TensorView* ta = f->FindTensor("a");
  const TensorView* tb = f->FindTensor("b");
  const TensorView* tc = f->FindTensor("c");
  ASSERT_TRUE(ta && tb && tc);
  EXPECT_EQ(ta->n_dims, 2);
  EXPECT_EQ(ta->ne[1], 3);
  EXPECT_EQ(tc->type, DType::kQ8_0);
  EXPECT_EQ(tc->n_dims, 3);
  EXPECT_EQ(tc->ne[2], 2);
  EXPECT_EQ(std::memcmp(ta->data, a.data(), a.size() * 4), 0);
  EXPECT_EQ(std::memcmp(tb->data, b.data(), b.size() * 4), 0);
  EXPECT_EQ(std::memcmp(tc->data, c.data(), c.size()), 0);
  for (const TensorView* t : {ta, tb, tc}) {
    const auto* base = static_cast<const uint8_t*>(f->FindTensor("a")->data);
    EXPECT_EQ((static_cast<const uint8_t*>(t->data) - base) % 64, 0) << t->name;
  }
  std::remove(path.c_str());
}

// Copies every key of a reader's file into a new one (the quantizer's metadata path).
TEST(GgufWriter, CopiesReaderValues) {
  const std::string src = TempPath("src.gguf"), dst = TempPath("dst.gguf");
  {
    GgufWriter w(src);
    w.SetStringArray("tokenizer.ggml.tokens", {"<s>", "a", "b"});
    w.SetFloatArray("tokenizer.ggml.scores", GgufType::kFloat32, {0, -1, -2});
    w.SetIntArray("tokenizer.ggml.token_type", GgufType::kInt32, {3, 1, 1});
    w.SetU32("llama.block_count", 2);
    w.SetBool("x", false);
    w.Finish();
  }
  auto in = GgufFile::Open(src);
  {
    GgufWriter w(dst);
    for (const std::string& k : in->keys()) w.Set(k, *in->Find(k));
    w.Finish();
  }
  auto out = GgufFile::Open(dst);
  EXPECT_EQ(out->keys(), in->keys());
  for (const std::string& k : in->keys()) {
    const GgufValue *a = in->Find(k), *b = out->Find(k);
    EXPECT_EQ(a->type, b->type) << k;
    EXPECT_EQ(a->elem_type, b->elem_type) << k;
    EXPECT_EQ(a->i, b->i) << k;
    EXPECT_EQ(a->u, b->u) << k;
    EXPECT_EQ(a->strs, b->strs) << k;
    EXPECT_EQ(a->ints, b->ints) << k;
    EXPECT_EQ(a->floats, b->floats) << k;
  }
  std::remove(src.c_str());
  std::remove(dst.c_str());
}

TEST(GgufWriter, Errors) {
  EXPECT_THROW(GgufWriter("/nonexistent-dir/x.gguf"), Error);
  const std::string path = TempPath("err.gguf");
  {
    GgufWriter w(path);
    const int64_t ne[2] = {33, 1};
    EXPECT_THROW(w.AddTensor("q", DType::kQ4_0, 2, ne), Error);  // 33 is not a multiple of 32
    const int64_t ok[1] = {4};
    w.AddTensor("t", DType::kF32, 1, ok);
    EXPECT_THROW(w.AddTensor("t", DType::kF32, 1, ok), Error);
    const int64_t empty[2] = {32, 0};
    EXPECT_THROW(w.AddTensor("e", DType::kF32, 2, empty), Error);
    EXPECT_THROW(w.SetU32("general.alignment", 48), Error);
    float x[2] = {1, 2};
    w.WriteTensorData(x, sizeof(x));
    EXPECT_THROW(w.Finish(), Error);  // half of "t" missing
  }
  // The failed writer leaves neither the file nor the .part behind.
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
}

}  // namespace
}  // namespace seek
