// Command-line options shared by the subcommands. Every flag's names, default and help text live in the tables
// in options.cc, so `run`, `chat` (and later `serve`, `bench`) cannot drift apart. Names follow llama.cpp's
// (-m, -p, -n, -c, -t, --temp, --top-k, --top-p, --min-p, --repeat-penalty, --seed ...) so habits carry over.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/speculative.h"

namespace seek::cli {

struct ModelOptions {
  std::string model;      // -m: GGUF file, HF folder or llama2.c checkpoint
  std::string tokenizer;  // --tokenizer: override
  int32_t threads = 0;    // -t: 0 = all hardware threads
  int32_t ctx = 0;        // -c: 0 = the model's training context, capped at 4096
  std::string kv_type = KvTypeName(kDefaultKvType);  // --kv-type: f16 | q8_0 | f32
  bool verbose = false;
};

// Sampling flags: unset ones fall back to the model's generation_config.json, then seek's defaults.
struct SamplingOptions {
  std::optional<float> temp, top_p, min_p, repeat_penalty, presence_penalty, frequency_penalty;
  std::optional<int32_t> top_k, repeat_last_n;
  std::optional<uint64_t> seed;
};

// `seek serve` flags (names as llama-server's where it has them).
struct ServeOptions {
  std::string host = "127.0.0.1";
  int32_t port = 8080;             // 0: any free port (printed at start-up)
  int32_t parallel = 1;            // slots: sequences decoded concurrently, one KV cache each
  int32_t queue = 64;              // queued sequences before 429
  std::vector<std::string> api_keys;
  std::string api_key_file;
  std::string cors_origin;
  std::string chat_template_file;
  std::string alias;               // model id reported by /v1/models
  int32_t timeout = 60;            // read / write timeout in seconds
  int32_t max_body_mb = 8;
  int32_t http_threads = 0;
};

// Speculative decoding flags (--draft, --draft-max, --ngram).
struct DraftOptions {
  std::string kind = "none";
  int32_t n_draft = SpeculativeOptions().n_draft;
  int32_t ngram_max = SpeculativeOptions().ngram_max;
};

void AddModelOptions(CLI::App* app, ModelOptions& o, bool model_required = true);
void AddServeOptions(CLI::App* app, ServeOptions& o);
void AddSamplingOptions(CLI::App* app, SamplingOptions& o);
void AddDraftOptions(CLI::App* app, DraftOptions& o);
SpeculativeOptions ResolveDraft(const DraftOptions& o);

SamplingParams ResolveSampling(const SamplingOptions& o, const SamplingParams& model_defaults);

// Loads the model with a progress bar on a terminal; applies -v.
std::unique_ptr<Model> LoadModel(const ModelOptions& o);
int32_t ThreadCount(const ModelOptions& o);
// The KV cache element type of --kv-type.
KvType KvTypeOf(const ModelOptions& o);

// The whole content of a file; throws seek::Error "PATH: cannot read the WHAT".
std::string ReadFileOrFail(const std::string& path, const char* what);

}  // namespace seek::cli
