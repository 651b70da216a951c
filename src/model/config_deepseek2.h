// DeepSeek2 (V2 / V2-Lite / V3 / R1) configuration readers, used by model/config.cc.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "model/config.h"

namespace seek {

class GgufFile;

// From a GGUF with general.architecture = "deepseek2" (both the pre- and post-llama.cpp#12801 key sets).
ModelConfig DeepSeek2ConfigFromGguf(const GgufFile& gguf);
// From an HF config.json with model_type deepseek_v2 / deepseek_v3.
ModelConfig DeepSeek2ConfigFromHf(const nlohmann::json& config, const std::string& path);
// The MLA / MoE fields; throws "FILE: config: FIELD ...".
void ValidateDeepSeek2(const ModelConfig& c);

}  // namespace seek
