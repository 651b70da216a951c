// Hugging Face model folders: config.json (required), tokenizer_config.json / generation_config.json
// (optional), tokenizer.json (path only: the tokenizer module parses it), and weights in model.safetensors
// or in the shards named by model.safetensors.index.json ("weight_map": tensor -> shard file). Each shard is
// opened once; every tensor the index lists must be in its shard; tensor names are mapped to GGUF names.
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "formats/model_source_builder.h"
#include "formats/safetensors.h"
#include "formats/tensor_names.h"

namespace seek {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Parses a JSON file; throws seek::Error naming the file on I/O or syntax errors.
nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) Fail("%s: cannot open", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    Fail("%s: invalid JSON: %s", path.c_str(), e.what());
  }
}

nlohmann::json ReadOptionalObject(const std::string& path) {
  if (!IsFile(path)) return nlohmann::json::object();
  nlohmann::json j = ReadJsonFile(path);
  if (!j.is_object()) Fail("%s: expected a JSON object", path.c_str());
  return j;
}

// Adds all tensors of one safetensors file under GGUF names; returns the file's size.
uint64_t AddSafetensors(ModelSource& s, std::unique_ptr<SafetensorsFile> st,
                        std::vector<std::unique_ptr<MappedFile>>& maps) {
  for (const TensorView& t : st->tensors()) {
    TensorView g = t;
    g.name = HfToGgufName(t.name);
    ModelSourceBuilder::AddTensor(s, std::move(g), st->path());
  }
  const uint64_t size = st->file_size();
  maps.push_back(st->ReleaseMap());
  return size;
}

}  // namespace

void ModelSourceBuilder::LoadSafetensorsFile(ModelSource& s, const std::string& path,
                                             const ProgressFn& progress) {
  s.format_ = ModelFormat::kHfFolder;
  s.file_bytes_ = AddSafetensors(s, SafetensorsFile::Open(path), s.maps_);
  if (progress) progress(s.file_bytes_, s.file_bytes_);
}

void ModelSourceBuilder::LoadHfFolder(ModelSource& s, const std::string& dir, const ProgressFn& progress) {
  s.format_ = ModelFormat::kHfFolder;
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  const std::string config = base + "config.json";
  if (!IsFile(config)) Fail("%s: not a model folder (config.json is missing)", dir.c_str());
  s.hf_config_ = ReadJsonFile(config);
  if (!s.hf_config_.is_object()) Fail("%s: expected a JSON object", config.c_str());
  s.hf_tokenizer_config_ = ReadOptionalObject(base + "tokenizer_config.json");
  s.hf_generation_config_ = ReadOptionalObject(base + "generation_config.json");
  if (IsFile(base + "tokenizer.json")) s.hf_tokenizer_json_path_ = base + "tokenizer.json";

  const std::string index_path = base + "model.safetensors.index.json";
  const std::string single = base + "model.safetensors";
  if (IsFile(index_path)) {
    const nlohmann::json index = ReadJsonFile(index_path);
    auto wm = index.is_object() ? index.find("weight_map") : index.end();
    if (wm == index.end() || !wm->is_object() || wm->empty())
      Fail("%s: missing or empty \"weight_map\" object", index_path.c_str());
    // shard -> tensors it must hold
    std::map<std::string, std::vector<std::string>> shards;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string())
        Fail("%s: weight_map[\"%s\"] is not a string", index_path.c_str(), it.key().c_str());
      const std::string& shard = it.value().get_ref<const std::string&>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        Fail("%s: weight_map[\"%s\"] = \"%s\" is not a file name in the folder", index_path.c_str(),
             it.key().c_str(), shard.c_str());
      shards[shard].push_back(it.key());
    }
    std::vector<std::unique_ptr<SafetensorsFile>> opened;
    uint64_t total = 0;
    for (const auto& [shard, names] : shards) {
      const std::string shard_path = base + shard;
      if (!IsFile(shard_path))
        Fail("%s: shard '%s' listed in the index does not exist", index_path.c_str(), shard.c_str());
      struct stat st;
      ::stat(shard_path.c_str(), &st);
      total += static_cast<uint64_t>(st.st_size);
    }
    uint64_t done = 0;
    if (progress) progress(0, total);
    for (const auto& [shard, names] : shards) {
      auto st = SafetensorsFile::Open(base + shard);
      for (const std::string& n : names)
        if (!st->FindTensor(n))
          Fail("%s: tensor '%s' is listed in %s but missing from the shard", st->path().c_str(), n.c_str(),
               index_path.c_str());
      done += AddSafetensors(s, std::move(st), s.maps_);
      if (progress) progress(done, total);
    }
    s.file_bytes_ = done;
  } else if (IsFile(single)) {
    s.file_bytes_ = AddSafetensors(s, SafetensorsFile::Open(single), s.maps_);
    if (progress) progress(s.file_bytes_, s.file_bytes_);
  } else if (IsFile(base + "pytorch_model.bin")) {
    Fail("%s: only PyTorch .bin weights found; seek reads safetensors (convert with safetensors or to GGUF)",
         dir.c_str());
  } else {
    Fail("%s: no model.safetensors or model.safetensors.index.json", dir.c_str());
  }
}

}  // namespace seek
