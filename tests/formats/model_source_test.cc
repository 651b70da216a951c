#include "formats/model_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "formats/gguf_builder.h"
#include "test_util.h"

namespace seek {
namespace {

namespace fs = std::filesystem;
using test::BuildSafetensors;
using test::WriteFile;

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "seek_formats_XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& f) const { return path_ + "/" + f; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ErrorOf(const std::string& path) {
  try {
    ModelSource::Open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_OPEN_ERROR(path, fragment)                                     \
  do {                                                                        \
    const std::string msg_ = ErrorOf(path);                                   \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_; \
  } while (0)

std::vector<uint8_t> Shard(const std::vector<std::string>& names) {
  std::string h = "{";
  std::vector<uint8_t> data;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) h += ",";
    h += "\"" + names[i] + "\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[" +
         std::to_string(data.size()) + "," + std::to_string(data.size() + 16) + "]}";
    data.resize(data.size() + 16, static_cast<uint8_t>(i));
  }
  return BuildSafetensors(h + "}", data);
}

void WriteConfigs(const TempDir& d) {
  WriteFile(d / "config.json", std::string(R"({"model_type":"llama","hidden_size":4})"));
  WriteFile(d / "generation_config.json", std::string(R"({"eos_token_id":2})"));
  WriteFile(d / "tokenizer.json", std::string("{}"));
}

TEST(HfFolder, SingleFile) {
  TempDir d;
  WriteConfigs(d);
  WriteFile(d / "model.safetensors",
            Shard({"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "custom.thing"}));
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto s = ModelSource::Open(d.path(), [&](uint64_t a, uint64_t b) { calls.push_back({a, b}); });
  EXPECT_EQ(s->format(), ModelFormat::kHfFolder);
  EXPECT_EQ(s->hf_config()["model_type"], "llama");
  EXPECT_EQ(s->hf_generation_config()["eos_token_id"], 2);
  EXPECT_TRUE(s->hf_tokenizer_config().is_object());
  EXPECT_TRUE(s->hf_tokenizer_config().empty());
  EXPECT_EQ(s->hf_tokenizer_json_path(), d / "tokenizer.json");
  ASSERT_EQ(s->tensors().size(), 3u);
  const TensorView* q = s->FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ShapeString(), "[4, 2]");
  EXPECT_EQ(static_cast<const uint8_t*>(q->data)[0], 1);
  EXPECT_NE(s->FindTensor("token_embd.weight"), nullptr);
  EXPECT_NE(s->FindTensor("custom.thing"), nullptr);  // unknown names are kept
  EXPECT_EQ(s->file_bytes(), fs::file_size(d / "model.safetensors"));
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().first, calls.back().second);
}

TEST(HfFolder, ShardedIndex) {
  TempDir d;
  WriteConfigs(d);
  WriteFile(d / "a.safetensors", Shard({"model.layers.0.mlp.up_proj.weight", "model.norm.weight"}));
  WriteFile(d / "b.safetensors", Shard({"lm_head.weight"}));
  WriteFile(d / "model.safetensors.index.json",
            std::string(R"({"metadata":{},"weight_map":{"model.layers.0.mlp.up_proj.weight":"a.safetensors",)"
                        R"("model.norm.weight":"a.safetensors","lm_head.weight":"b.safetensors"}})"));
  auto s = ModelSource::Open(d.path());
  EXPECT_EQ(s->tensors().size(), 3u);
  EXPECT_NE(s->FindTensor("blk.0.ffn_up.weight"), nullptr);
  EXPECT_NE(s->FindTensor("output_norm.weight"), nullptr);
  EXPECT_NE(s->FindTensor("output.weight"), nullptr);
  EXPECT_EQ(s->file_bytes(), fs::file_size(d / "a.safetensors") + fs::file_size(d / "b.safetensors"));

  // A tensor listed but missing from its shard.
  WriteFile(d / "model.safetensors.index.json",
            std::string(R"({"weight_map":{"model.norm.weight":"a.safetensors","ghost":"b.safetensors"}})"));
  EXPECT_OPEN_ERROR(d.path(), "tensor 'ghost' is listed");
  // A missing shard, a path escape, a bad index.
  WriteFile(d / "model.safetensors.index.json", std::string(R"({"weight_map":{"x":"c.safetensors"}})"));
  EXPECT_OPEN_ERROR(d.path(), "does not exist");
  WriteFile(d / "model.safetensors.index.json", std::string(R"({"weight_map":{"x":"../a.safetensors"}})"));
  EXPECT_OPEN_ERROR(d.path(), "not a file name");
  WriteFile(d / "model.safetensors.index.json", std::string(R"({"weight_map":[]})"));
  EXPECT_OPEN_ERROR(d.path(), "weight_map");
  WriteFile(d / "model.safetensors.index.json", std::string("{oops"));
  EXPECT_OPEN_ERROR(d.path(), "model.safetensors.index.json: invalid JSON");
}

TEST(HfFolder, BadFolders) {
  TempDir d;
  EXPECT_OPEN_ERROR(d.path(), "config.json is missing");
  WriteFile(d / "config.json", std::string("{\"a\": [1,"));
  EXPECT_OPEN_ERROR(d.path(), "config.json: invalid JSON");
  WriteFile(d / "config.json", std::string("[]"));
  EXPECT_OPEN_ERROR(d.path(), "expected a JSON object");
  WriteFile(d / "config.json", std::string("{}"));
  EXPECT_OPEN_ERROR(d.path(), "no model.safetensors");
  WriteFile(d / "tokenizer_config.json", std::string("{,}"));
  EXPECT_OPEN_ERROR(d.path(), "tokenizer_config.json: invalid JSON");
  fs::remove(d / "tokenizer_config.json");
  WriteFile(d / "model.safetensors", std::vector<uint8_t>{1, 2, 3});
  EXPECT_OPEN_ERROR(d.path(), "model.safetensors: offset 0");
  // Two HF names mapping to one GGUF name.
  WriteFile(d / "model.safetensors", Shard({"lm_head.weight", "output.weight"}));
  EXPECT_OPEN_ERROR(d.path(), "duplicate tensor 'output.weight'");
}

TEST(ModelSource, BareSafetensorsAndGguf) {
  TempDir d;
  WriteFile(d / "w.safetensors", Shard({"model.norm.weight"}));
  auto s = ModelSource::Open(d / "w.safetensors");
  EXPECT_NE(s->FindTensor("output_norm.weight"), nullptr);

  test::GgufBuilder b;
  b.AddString("general.architecture", "llama");
  b.AddTensor("output_norm.weight", 0, {4}, std::vector<uint8_t>(16, 0));
  WriteFile(d / "m.gguf", b.Build());
  auto g = ModelSource::Open(d / "m.gguf");
  EXPECT_EQ(g->format(), ModelFormat::kGguf);
  ASSERT_NE(g->gguf(), nullptr);
  EXPECT_EQ(g->gguf()->GetString("general.architecture"), "llama");
  EXPECT_NE(g->FindTensor("output_norm.weight"), nullptr);
  EXPECT_EQ(g->file_bytes(), fs::file_size(d / "m.gguf"));
}

TEST(ModelSource, RejectsUnknownFiles) {
  TempDir d;
  EXPECT_OPEN_ERROR(d / "missing.bin", "no such file");
  WriteFile(d / "text.txt", std::string("hello, this is not a model at all\n"));
  EXPECT_OPEN_ERROR(d / "text.txt", "llama2.c header field dim");
  WriteFile(d / "tiny", std::string("abc"));
  EXPECT_OPEN_ERROR(d / "tiny", "unknown model format");
  WriteFile(d / "pt.bin", std::string("PK\x03\x04 zip zip zip zip zip zip"));
  EXPECT_OPEN_ERROR(d / "pt.bin", "PyTorch");
  WriteFile(d / "v1.bin", std::string("24ka\x01\0\0\0 and more bytes here", 28));
  EXPECT_OPEN_ERROR(d / "v1.bin", "ak42");
  WriteFile(d / "trunc.gguf", std::string("GGUF\x03\0\0\0", 8));
  EXPECT_OPEN_ERROR(d / "trunc.gguf", "trunc.gguf: offset 8");
}

// A llama2.c checkpoint with recognisable values: each float is its own index.
std::vector<uint8_t> Llama2c(std::vector<int32_t> h, size_t n_floats) {
  test::ByteWriter w;
  for (int32_t v : h) w.Put<int32_t>(v);
  for (size_t i = 0; i < n_floats; ++i) w.Put<float>(static_cast<float>(i));
  return w.bytes();
}

TEST(Llama2c, SyntheticLayoutAndUnsharedClassifier) {
  // dim 8, hidden 12, 2 layers, 4 heads, 2 kv heads (kv_dim 4), vocab 10 (unshared), seq 3, head_size 2.
  const size_t per_layer = 8 + 64 + 2 * 32 + 64 + 8 + 3 * 96;
  const size_t n = 80 + 2 * per_layer + 8 + 3 * 1 * 2 + 80;
  TempDir d;
  WriteFile(d / "m.bin", Llama2c({8, 12, 2, 4, 2, -10, 3}, n));
  WriteFile(d / "tokenizer.bin", std::string("x"));
  auto s = ModelSource::Open(d / "m.bin");
  EXPECT_EQ(s->format(), ModelFormat::kLlama2c);
  EXPECT_EQ(s->llama2c().vocab_size, 10);
  EXPECT_FALSE(s->llama2c().shared_classifier);
  EXPECT_EQ(s->llama2c_tokenizer_path(), d / "tokenizer.bin");
  auto first = [&](const char* name) { return static_cast<const float*>(s->FindTensor(name)->data)[0]; };
  EXPECT_EQ(first("token_embd.weight"), 0);
  EXPECT_EQ(first("blk.0.attn_norm.weight"), 80);
  EXPECT_EQ(first("blk.1.attn_norm.weight"), 88);
  EXPECT_EQ(first("blk.0.attn_q.weight"), 96);
  EXPECT_EQ(first("blk.1.attn_q.weight"), 160);
  EXPECT_EQ(first("blk.0.attn_k.weight"), 224);
  EXPECT_EQ(s->FindTensor("blk.0.attn_k.weight")->ShapeString(), "[8, 4]");
  EXPECT_EQ(s->FindTensor("blk.1.ffn_down.weight")->ShapeString(), "[12, 8]");
  EXPECT_EQ(s->FindTensor("blk.1.ffn_gate.weight")->ShapeString(), "[8, 12]");
  EXPECT_EQ(first("output_norm.weight"), 80 + 2 * per_layer);
  EXPECT_EQ(first("output.weight"), 80 + 2 * per_layer + 8 + 6);
  EXPECT_EQ(s->tensors().size(), 1 + 2 * 9 + 2u);

  // One float short -> truncated; bad headers -> named field.
  WriteFile(d / "short.bin", Llama2c({8, 12, 2, 4, 2, -10, 3}, n - 1));
  EXPECT_OPEN_ERROR(d / "short.bin", "truncated");
  WriteFile(d / "h.bin", Llama2c({8, 12, 2, 3, 3, 10, 3}, n));
  EXPECT_OPEN_ERROR(d / "h.bin", "does not divide dim");
  WriteFile(d / "h.bin", Llama2c({8, 12, 2, 4, 3, 10, 3}, n));
  EXPECT_OPEN_ERROR(d / "h.bin", "does not divide n_heads");
  WriteFile(d / "h.bin", Llama2c({8, 12, 2, 4, 2, 10, 0}, n));
  EXPECT_OPEN_ERROR(d / "h.bin", "seq_len = 0");
  WriteFile(d / "h.bin", Llama2c({1 << 30, 12, 2, 4, 2, 10, 3}, n));
  EXPECT_OPEN_ERROR(d / "h.bin", "dim = 1073741824");
  WriteFile(d / "h.bin", Llama2c({8, 12, 2, 4, 2, INT32_MIN, 3}, n));
  EXPECT_OPEN_ERROR(d / "h.bin", "vocab_size");
}

TEST(Llama2c, Stories260K) {
  SEEK_REQUIRE_SHARED();
  const std::string path = test::SharedDir() + "/models/stories260K/stories260K.bin";
  auto s = ModelSource::Open(path);
  const Llama2cHeader& h = s->llama2c();
  EXPECT_EQ(h.dim, 64);
  EXPECT_EQ(h.hidden_dim, 172);
  EXPECT_EQ(h.n_layers, 5);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);
  EXPECT_EQ(h.seq_len, 512);
  EXPECT_TRUE(h.shared_classifier);
  EXPECT_EQ(s->llama2c_tokenizer_path(), test::SharedDir() + "/models/stories260K/tok512.bin");
  EXPECT_EQ(s->tensors().size(), 1 + 5 * 9 + 1u);
  EXPECT_EQ(s->FindTensor("output.weight"), nullptr);
  EXPECT_EQ(s->FindTensor("blk.4.attn_v.weight")->ShapeString(), "[64, 32]");
  EXPECT_EQ(s->FindTensor("token_embd.weight")->ShapeString(), "[64, 512]");
  EXPECT_EQ(s->file_bytes(), 1056540u);
  // The rms norm weights of a trained model are positive and O(1).
  const float* norm = static_cast<const float*>(s->FindTensor("output_norm.weight")->data);
  for (int i = 0; i < 64; ++i) EXPECT_GT(norm[i], 0.0f);
}

TEST(ModelSource, SmolLM2) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 GGUF not present";
  auto s = ModelSource::Open(path);
  EXPECT_EQ(s->format(), ModelFormat::kGguf);
  EXPECT_EQ(s->tensors().size(), 272u);
  EXPECT_EQ(s->FindTensor("token_embd.weight")->ShapeString(), "[576, 49152]");
}

}  // namespace
}  // namespace seek
