#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "formats/gguf_builder.h"
#include "test_util.h"

namespace seek {
namespace {

using test::BuildSafetensors;

std::unique_ptr<SafetensorsFile> Parse(const std::vector<uint8_t>& img) {
  return SafetensorsFile::FromMemory(img.data(), img.size(), "model.safetensors");
}

void ExpectError(const std::vector<uint8_t>& img, const std::string& fragment) {
  try {
    Parse(img);
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
}

const char* kHeader = R"({"__metadata__":{"format":"pt"},)"
                      R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                      R"("h":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},)"
                      R"("s":{"dtype":"F8_E4M3","shape":[1,2,2,2],"data_offsets":[32,40]},)"
                      R"("i":{"dtype":"I64","shape":[],"data_offsets":[40,48]}})";

std::vector<uint8_t> Data() {
  std::vector<uint8_t> d(48);
  for (int i = 0; i < 6; ++i) {
    const float f = static_cast<float>(i);
    std::memcpy(d.data() + 4 * i, &f, 4);
  }
  d[40] = 42;
  return d;
}

TEST(Safetensors, ParsesDtypesShapesAndMetadata) {
  const auto img = BuildSafetensors(kHeader, Data());
  auto f = Parse(img);
  EXPECT_EQ(f->metadata().value("format", ""), "pt");
  ASSERT_EQ(f->tensors().size(), 4u);
  const TensorView* w = f->FindTensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, DType::kF32);
  EXPECT_EQ(w->n_dims, 2);
  EXPECT_EQ(w->ne[0], 3);  // HF [2, 3] -> ne {3, 2}
  EXPECT_EQ(w->ne[1], 2);
  EXPECT_EQ(static_cast<const float*>(w->data)[4], 4.0f);
  EXPECT_EQ(f->FindTensor("h")->type, DType::kBF16);
  const TensorView* s = f->FindTensor("s");
  EXPECT_EQ(s->type, DType::kF8_E4M3);
  EXPECT_EQ(s->ShapeString(), "[2, 2, 2, 1]");
  const TensorView* i = f->FindTensor("i");
  EXPECT_EQ(i->n_dims, 0);
  EXPECT_EQ(i->nbytes, 8u);
  EXPECT_EQ(*static_cast<const uint8_t*>(i->data), 42);
}

// Files written by the reference safetensors library (tools/make_formats_fixture.py).
TEST(Safetensors, ReadsReferenceFiles) {
  auto b = SafetensorsFile::Open(test::TestdataDir() + "/formats/basic.safetensors");
  EXPECT_EQ(b->metadata().value("format", ""), "pt");
  const TensorView* e = b->FindTensor("model.embed_tokens.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ShapeString(), "[4, 3]");
  EXPECT_EQ(static_cast<const float*>(e->data)[7], 7.0f);
  EXPECT_EQ(b->FindTensor("model.norm.weight")->type, DType::kBF16);
  EXPECT_EQ(*static_cast<const uint16_t*>(b->FindTensor("model.norm.weight")->data), 0x3f80);  // bf16 1.0
  auto m = SafetensorsFile::Open(test::TestdataDir() + "/formats/mixed.safetensors");
  ASSERT_EQ(m->tensors().size(), 4u);
  EXPECT_EQ(m->FindTensor("w")->type, DType::kF8_E4M3);
  EXPECT_EQ(m->FindTensor("w")->ShapeString(), "[2, 2, 2]");
  EXPECT_EQ(m->FindTensor("i")->type, DType::kI64);
  EXPECT_EQ(static_cast<const int64_t*>(m->FindTensor("i")->data)[1], 2);
  EXPECT_EQ(m->FindTensor("h")->type, DType::kF16);
  EXPECT_EQ(m->FindTensor("s")->type, DType::kF32);
}

TEST(Safetensors, RejectsBadFiles) {
  ExpectError({1, 2, 3}, "header length");
  ExpectError(BuildSafetensors("{}", {}, 1000), "header length");
  ExpectError(BuildSafetensors("{}", {}, 1ull << 63), "header length");
  ExpectError(BuildSafetensors("{\"a\": ", {}), "not valid JSON");
  ExpectError(BuildSafetensors("[1, 2]", {}), "not a JSON object");
  ExpectError(BuildSafetensors(std::string(5000, '[') + std::string(5000, ']'), {}), "nested too deeply");
  ExpectError(BuildSafetensors(R"({"__metadata__": 3})", {}), "__metadata__");
  ExpectError(BuildSafetensors(R"({"x": 3})", {}), "'x'");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {}),
              "outside the data area");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", Data()),
              "needs 12");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", Data()),
              "outside the data area");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[2],"data_offsets":[-1,7]}})", Data()),
              "data_offsets");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F4","shape":[2],"data_offsets":[0,8]}})", Data()),
              "unsupported dtype 'F4'");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", Data()),
              "non-negative");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[1,1,1,1,2],"data_offsets":[0,8]}})", Data()),
              "5 dimensions");
  ExpectError(BuildSafetensors(
                  R"({"x": {"dtype":"F32","shape":[4611686018427387904, 8],"data_offsets":[0,8]}})", Data()),
              "too large");
  ExpectError(BuildSafetensors(R"({"x": {"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("y": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               Data()),
              "overlaps");
  ExpectError(BuildSafetensors(R"({"x": {"shape":[2],"data_offsets":[0,8]}})", Data()), "dtype");
}

TEST(Safetensors, TruncatedAtEveryOffset) {
  const auto img = BuildSafetensors(kHeader, Data());
  for (size_t n = 0; n < img.size(); ++n) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + n);
    EXPECT_THROW(Parse(cut), Error) << "prefix " << n;
  }
}

TEST(Safetensors, BitFlipsNeverCrash) {
  const auto img = BuildSafetensors(kHeader, Data());
  for (size_t pos = 0; pos < img.size(); ++pos) {
    for (int bit = 0; bit < 8; bit += 3) {
      auto m = img;
      m[pos] ^= static_cast<uint8_t>(1u << bit);
      try {
        auto f = Parse(m);
        for (const TensorView& t : f->tensors())
          ASSERT_LE(static_cast<const uint8_t*>(t.data) + t.nbytes, m.data() + m.size());
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace seek
