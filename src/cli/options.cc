#include "cli/options.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

namespace seek::cli {
namespace {

template <typename T>
struct FlagSpec {
  const char* names;
  const char* help;
  std::optional<T> SamplingOptions::*field;
};

// The sampling flags, in one table. Defaults shown in help are seek's; a model's generation_config.json wins
// over them, and a flag given on the command line wins over both.
const FlagSpec<float> kFloatFlags[] = {
    {"--temp", "temperature; 0 = greedy (default 0.8)", &SamplingOptions::temp},
    {"--top-p", "top-p (nucleus) sampling; 1 = off (default 0.95)", &SamplingOptions::top_p},
    {"--min-p", "min-p sampling; 0 = off (default 0.05)", &SamplingOptions::min_p},
    {"--repeat-penalty", "penalise repeated tokens; 1 = off (default 1.0)", &SamplingOptions::repeat_penalty},
    {"--presence-penalty", "presence penalty; 0 = off (default 0)", &SamplingOptions::presence_penalty},
    {"--frequency-penalty", "frequency penalty; 0 = off (default 0)", &SamplingOptions::frequency_penalty},
};
const FlagSpec<int32_t> kIntFlags[] = {
    {"--top-k", "top-k sampling; 0 = off (default 40)", &SamplingOptions::top_k},
    {"--repeat-last-n", "tokens the penalties look back over; -1 = all (default 64)",
     &SamplingOptions::repeat_last_n},
};

void PrintProgress(uint64_t done, uint64_t total) {
  static int last = -1;
  if (total == 0) return;
  int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
  if (pct == last) return;
  last = pct;
  std::fprintf(stderr, "\rloading model: %3d%% (%.1f / %.1f MB)", pct, done / 1e6, total / 1e6);
  if (done >= total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

void AddModelOptions(CLI::App* app, ModelOptions& o, bool model_required) {
  auto* m = app->add_option("-m,--model", o.model, "model: a GGUF file, a Hugging Face folder, or a llama2.c checkpoint");
  if (model_required) m->required();
  app->add_option("--tokenizer", o.tokenizer, "tokenizer to use instead of the model's (tokenizer.json, HF folder, GGUF, llama2.c tokenizer.bin)");
  app->add_option("-t,--threads", o.threads, "threads (default: all cores)")->check(CLI::Range(0, 1024));
  app->add_option("-c,--ctx-size,--ctx", o.ctx, "context size in tokens (default: the model's, at most 4096)")
      ->check(CLI::Range(0, 1 << 24));
  app->add_option("--kv-type", o.kv_type,
                  "KV cache element type: f16 (default, half the memory of f32), q8_0 (8.5 bits per value; needs "
                  "head sizes that are multiples of 32) or f32 (exact)")
      ->check(CLI::IsMember({"f16", "q8_0", "f32"}, CLI::ignore_case));
  app->add_flag("-v,--verbose", o.verbose, "print what is being done");
}

void AddServeOptions(CLI::App* app, ServeOptions& o) {
  app->add_option("--host", o.host, "address to listen on (default 127.0.0.1; 0.0.0.0 exposes the server)");
  app->add_option("--port", o.port, "port to listen on; 0 = any free port (default 8080)")->check(CLI::Range(0, 65535));
  app->add_option("--parallel", o.parallel, "slots: requests decoded concurrently, one KV cache each (default 1)")
      ->check(CLI::Range(1, 256));
  app->add_option("--queue", o.queue, "queued sequences before answering 429 (default 64)")->check(CLI::Range(1, 1 << 16));
  app->add_option("--api-key", o.api_keys, "require Authorization: Bearer KEY (repeatable)");
  app->add_option("--api-key-file", o.api_key_file, "file with API keys, one per line");
  app->add_option("--cors-origin", o.cors_origin, "allow browser requests from this origin (default: no CORS)");
  app->add_option("--chat-template-file", o.chat_template_file, "Jinja chat template to use instead of the model's");
  app->add_option("-a,--alias", o.alias, "model name reported by /v1/models (default: the model file's name)");
  app->add_option("--timeout", o.timeout, "socket read/write timeout in seconds (default 60)")->check(CLI::Range(1, 86400));
  app->add_option("--max-body-mb", o.max_body_mb, "largest request body in MiB (default 8)")->check(CLI::Range(1, 1024));
  app->add_option("--http-threads", o.http_threads, "HTTP worker threads; 0 = automatic")->check(CLI::Range(0, 1024));
}

void AddSamplingOptions(CLI::App* app, SamplingOptions& o) {
  for (const auto& f : kFloatFlags) app->add_option(f.names, o.*(f.field), f.help);
  for (const auto& f : kIntFlags) app->add_option(f.names, o.*(f.field), f.help);
  app->add_option("-s,--seed", o.seed, "random seed (default: random)");
}

void AddDraftOptions(CLI::App* app, DraftOptions& o) {
  app->add_option("--draft", o.kind,
                  "speculative decoding: none, or ngram (prompt lookup: guesses tokens by copying from the prompt "
                  "and output so far; fastest when the answer quotes its input), or mtp (DeepSeek-V3's "
                  "multi-token-prediction layer drafts one token per step). Greedy output is unchanged "
                  "(default none)")
      ->check(CLI::IsMember({"none", "ngram", "mtp"}));
  app->add_option("--draft-max", o.n_draft, "most draft tokens checked per step (default 8)")
      ->check(CLI::Range(1, 64));
  app->add_option("--ngram", o.ngram_max, "longest n-gram the ngram drafter matches, 1..16 (default 3)")
      ->check(CLI::Range(1, NgramDrafter::kMaxN));
}

SpeculativeOptions ResolveDraft(const DraftOptions& o) {
  SpeculativeOptions s;
  s.kind = ParseDraftKind(o.kind);
  s.n_draft = o.n_draft;
  s.ngram_max = o.ngram_max;
  s.ngram_min = 1;
  // One MTP draft per step, checked with a 2-row Eval: cheap enough that DraftBudget's back-off after a
  // rejection would only lose drafts.
  if (s.kind == DraftKind::kMtp) s.adaptive = false;
  return s;
}

SamplingParams ResolveSampling(const SamplingOptions& o, const SamplingParams& model_defaults) {
  SamplingParams p = model_defaults;
  if (o.temp) p.temperature = *o.temp;
  if (o.top_p) p.top_p = *o.top_p;
  if (o.min_p) p.min_p = *o.min_p;
  if (o.repeat_penalty) p.repeat_penalty = *o.repeat_penalty;
  if (o.presence_penalty) p.presence_penalty = *o.presence_penalty;
  if (o.frequency_penalty) p.frequency_penalty = *o.frequency_penalty;
  if (o.top_k) p.top_k = *o.top_k;
  if (o.repeat_last_n) p.penalty_last_n = *o.repeat_last_n;
  if (o.seed) p.seed = *o.seed;
  return p;
}

std::string ReadFileOrFail(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) Fail("%s: cannot read the %s", path.c_str(), what);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

KvType KvTypeOf(const ModelOptions& o) { return ParseKvType(o.kv_type); }

int32_t ThreadCount(const ModelOptions& o) { return o.threads > 0 ? o.threads : ThreadPool::HardwareThreads(); }

std::unique_ptr<Model> LoadModel(const ModelOptions& o) {
  if (o.verbose) SetLogLevel(LogLevel::kInfo);
  LoadOptions lo;
  lo.tokenizer_path = o.tokenizer;
  if (::isatty(STDERR_FILENO)) lo.progress = PrintProgress;
  return Model::Load(o.model, lo);
}

}  // namespace seek::cli
