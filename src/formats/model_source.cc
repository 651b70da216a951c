// Format detection and the GGUF loader; HF folders live in hf_folder.cc, llama2.c checkpoints in llama2c.cc.
#include "formats/model_source.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "formats/model_source_builder.h"

namespace seek {
namespace {

// Reads up to 16 bytes from the start of a file (for format detection).
size_t ReadPrefix(const std::string& path, uint8_t* buf, size_t n) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) Fail("%s: cannot open: %s", path.c_str(), std::strerror(errno));
  const size_t got = std::fread(buf, 1, n, f);
  std::fclose(f);
  return got;
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

void ModelSourceBuilder::AddTensor(ModelSource& s, TensorView t, const std::string& origin) {
  if (s.tensor_index_.count(t.name)) Fail("%s: duplicate tensor '%s'", origin.c_str(), t.name.c_str());
  s.tensor_index_.emplace(t.name, s.tensors_.size());
  s.tensors_.push_back(std::move(t));
}

void ModelSourceBuilder::LoadGguf(ModelSource& s, const std::string& path, const ProgressFn& progress) {
  s.format_ = ModelFormat::kGguf;
  s.gguf_ = GgufFile::Open(path);
  s.file_bytes_ = s.gguf_->file_size();
  for (const TensorView& t : s.gguf_->tensors()) AddTensor(s, t, path);
  if (progress) progress(s.file_bytes_, s.file_bytes_);
}

std::unique_ptr<ModelSource> ModelSource::Open(const std::string& path, const ProgressFn& progress) {
  std::unique_ptr<ModelSource> s(new ModelSource());
  s->path_ = path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) Fail("%s: no such file or directory", path.c_str());
  if (S_ISDIR(st.st_mode)) {
    ModelSourceBuilder::LoadHfFolder(*s, path, progress);
    return s;
  }
  if (!S_ISREG(st.st_mode)) Fail("%s: not a regular file or directory", path.c_str());
  uint8_t head[16] = {};
  const size_t got = ReadPrefix(path, head, sizeof(head));
  if (got >= 4 && std::memcmp(head, "GGUF", 4) == 0) {
    ModelSourceBuilder::LoadGguf(*s, path, progress);
    return s;
  }
  // safetensors: u64 header length (< file size), then '{'. A llama2.c header read as a u64 is
  // dim | hidden_dim << 32, far larger than any file, so the two cannot be confused.
  uint64_t st_len = 0;
  std::memcpy(&st_len, head, sizeof(st_len));
  if (EndsWith(path, ".safetensors") ||
      (got >= 9 && head[8] == '{' && st_len < static_cast<uint64_t>(st.st_size))) {
    ModelSourceBuilder::LoadSafetensorsFile(*s, path, progress);
    return s;
  }
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0)
    Fail(
        "%s: looks like a PyTorch (zip) checkpoint, which seek does not load; convert it to safetensors or "
        "GGUF",
        path.c_str());
  if (got >= 4 && std::memcmp(head, "ggjt", 4) == 0)
    Fail("%s: legacy GGML/GGJT file; re-convert it to GGUF", path.c_str());
  ModelSourceBuilder::LoadLlama2c(*s, path, progress);
  return s;
}

const TensorView* ModelSource::FindTensor(std::string_view gguf_name) const {
  auto it = tensor_index_.find(gguf_name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace seek
