// seek perplexity: PPL of a model over a text, and KL-divergence against a base model or saved base log-probs
// (runtime/perplexity.h describes the method and the saved-file format).
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "runtime/perplexity.h"

namespace seek::cli {
namespace {

constexpr int32_t kDefaultPplCtx = 512;

struct PerplexityCliOptions {
  ModelOptions model;
  std::string text_file, kl_base, save_logits;
  int32_t chunks = -1;
};

int Perplexity(const PerplexityCliOptions& o) {
  // Base log-probs from a file fix the tokens and n_ctx; otherwise the text is tokenized as the model does.
  std::unique_ptr<LogProbsFile> base_file;
  if (!o.kl_base.empty() && LogProbsFile::Sniff(o.kl_base)) base_file = LogProbsFile::Open(o.kl_base);
  if (o.text_file.empty() && !base_file) Fail("give the text to score with -f FILE");
  auto model = LoadModel(o.model);
  const int32_t n_vocab = model->config().n_vocab;

  PerplexityOptions po;
  po.n_ctx = o.model.ctx > 0 ? o.model.ctx : kDefaultPplCtx;
  po.kv_type = KvTypeOf(o.model);
  std::vector<int32_t> text_tokens;
  if (!o.text_file.empty()) {
    const std::string text = ReadFileOrFail(o.text_file, "text file");
    const Tokenizer& tok = model->tokenizer();
    text_tokens = tok.Encode(text, /*add_special=*/true);
    po.bos_id = tok.add_bos() ? tok.bos_id() : -1;
  }
  if (base_file) {
    if (o.model.ctx > 0 && o.model.ctx != base_file->n_ctx())
      Fail("%s was saved with n_ctx %d, not %d: drop -c or use the same value", o.kl_base.c_str(),
           base_file->n_ctx(), o.model.ctx);
    if (base_file->n_vocab() != n_vocab)
      Fail("%s has n_vocab %d but the model has %d", o.kl_base.c_str(), base_file->n_vocab(), n_vocab);
    po.n_ctx = base_file->n_ctx();
  }
  if (po.n_ctx < 4) Fail("the context size must be at least 4 tokens");

  // The tokens exactly as evaluated: whole chunks, BOS replacement applied.
  std::vector<int32_t> tokens;
  if (base_file) {
    const auto saved = base_file->tokens();
    const int32_t n_chunks = o.chunks > 0 ? std::min(o.chunks, base_file->n_chunks()) : base_file->n_chunks();
    tokens.assign(saved.begin(), saved.begin() + static_cast<size_t>(n_chunks) * po.n_ctx);
    if (!text_tokens.empty()) {
      for (int32_t c = 0; c < n_chunks; ++c) {
        if (static_cast<size_t>(c + 1) * po.n_ctx > text_tokens.size() ||
            ChunkTokens(text_tokens, c, po) !=
                std::vector<int32_t>(tokens.begin() + c * po.n_ctx, tokens.begin() + (c + 1) * po.n_ctx))
          Fail("the text of -f does not tokenize to the tokens saved in %s (chunk %d differs)",
               o.kl_base.c_str(), c);
      }
    }
  } else {
    const int32_t available = static_cast<int32_t>(text_tokens.size() / po.n_ctx);
    if (available == 0)
      Fail("%s has %zu tokens, fewer than one chunk of %d: use a longer text or a smaller -c",
           o.text_file.c_str(), text_tokens.size(), po.n_ctx);
    const int32_t n_chunks = o.chunks > 0 ? std::min(o.chunks, available) : available;
    for (int32_t c = 0; c < n_chunks; ++c) {
      const std::vector<int32_t> chunk = ChunkTokens(text_tokens, c, po);
      tokens.insert(tokens.end(), chunk.begin(), chunk.end());
    }
  }
  po.bos_id = -1;  // already applied

  ThreadPool pool(ThreadCount(o.model));
  po.pool = &pool;
  std::unique_ptr<Model> base_model;
  BaseLogProbsFn base;
  if (base_file) {
    base = BaseFromFile(*base_file);
  } else if (!o.kl_base.empty()) {
    ModelOptions bo = o.model;
    bo.model = o.kl_base;
    base_model = LoadModel(bo);
    if (base_model->config().n_vocab != n_vocab)
      Fail("the base model has n_vocab %d but the model has %d", base_model->config().n_vocab, n_vocab);
    base = BaseFromModel(*base_model, po);
  }
  std::unique_ptr<LogProbsWriter> save;
  if (!o.save_logits.empty())
    save = std::make_unique<LogProbsWriter>(o.save_logits, n_vocab, po.n_ctx, tokens);

  std::fprintf(stderr, "perplexity: %zu tokens, %zu chunks of %d, scoring the last %d positions of each\n",
               tokens.size(), tokens.size() / po.n_ctx, po.n_ctx, ScoredPerChunk(po.n_ctx));
  const PerplexityResult r =
      ComputePerplexity(*model, tokens, po, base, save.get(), [&](const ChunkReport& c) {
        if (base)
          std::fprintf(stderr, "[%d/%d] PPL %.4f, base PPL %.4f, mean KL %.6f\n", c.chunk + 1, c.n_chunks,
                       c.ppl, c.base_ppl, c.kl_mean);
        else
          std::fprintf(stderr, "[%d/%d] PPL %.4f\n", c.chunk + 1, c.n_chunks, c.ppl);
      });
  if (save) save->Finish();

  std::printf("chunks: %d, scored tokens: %lld, n_ctx: %d\n", r.n_chunks, static_cast<long long>(r.n_scored),
              po.n_ctx);
  std::printf("PPL = %.4f +/- %.4f\n", r.ppl, r.ppl_se);
  if (r.has_base) {
    std::printf("base PPL = %.4f +/- %.4f\n", r.base_ppl, r.base_ppl_se);
    std::printf("ln(PPL / base PPL) = %.6f\n", std::log(r.ppl / r.base_ppl));
    std::printf("KL(base || model): mean %.6f +/- %.6f, median %.6f, 99%% %.6f, 99.9%% %.6f, max %.6f\n",
                r.kl_mean, r.kl_se, r.kl_median, r.kl_p99, r.kl_p999, r.kl_max);
    std::printf("top-1 agreement = %.2f%%\n", 100.0 * r.top1_agreement);
  }
  if (save) std::printf("saved log-probs to %s\n", o.save_logits.c_str());
  return 0;
}

}  // namespace

void RegisterPerplexity(CLI::App& app, Runner& run) {
  auto o = std::make_shared<PerplexityCliOptions>();
  CLI::App* cmd =
      app.add_subcommand("perplexity", "perplexity of a model over a text; KL-divergence against a base");
  AddModelOptions(cmd, o->model);
  // -c / --ctx-size / --ctx (from AddModelOptions) are the tokens per chunk here (default 512).
  cmd->add_option("-f,--file", o->text_file, "the text to score");
  cmd->add_option("--chunks", o->chunks, "score at most this many chunks (default: all)")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option(
      "--kl-base", o->kl_base,
      "base for KL-divergence: a model (e.g. the F16 GGUF) or a log-probs file from --save-logits");
  cmd->add_option("--save-logits", o->save_logits, "save this model's log-probs for a later --kl-base");
  cmd->callback([o, &run] { run = [o] { return Perplexity(*o); }; });
}

}  // namespace seek::cli
