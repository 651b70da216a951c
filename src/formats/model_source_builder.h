// Internal: the per-format loaders that fill a ModelSource (friend of ModelSource). Not part of the API.
#pragma once
#include <string>

#include "formats/model_source.h"

namespace seek {

class ModelSourceBuilder {
 public:
  static void LoadGguf(ModelSource& s, const std::string& path, const ProgressFn& progress);
  // A Hugging Face folder: config.json + model.safetensors or sharded model.safetensors.index.json.
  static void LoadHfFolder(ModelSource& s, const std::string& dir, const ProgressFn& progress);
  // A bare .safetensors file (no config.json): tensors only, renamed to GGUF names.
  static void LoadSafetensorsFile(ModelSource& s, const std::string& path, const ProgressFn& progress);
  static void LoadLlama2c(ModelSource& s, const std::string& path, const ProgressFn& progress);

  // Appends a tensor; throws on a duplicate name (`origin` names the file for the message).
  static void AddTensor(ModelSource& s, TensorView t, const std::string& origin);
};

}  // namespace seek
