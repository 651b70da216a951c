// Perplexity / KL-divergence evaluation; see perplexity.h for the method and the file format.
#include "runtime/perplexity.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace seek {
namespace {

constexpr char kMagic[4] = {'S', 'K', 'L', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 5 * 4;

// Log-softmax of one row of logits into out (fp32), accumulated in double.
void LogSoftmax(const float* logits, int32_t n, float* out) {
  float max = logits[0];
  for (int32_t v = 1; v < n; ++v) max = std::max(max, logits[v]);
  double sum = 0;
  for (int32_t v = 0; v < n; ++v) sum += std::exp(static_cast<double>(logits[v]) - max);
  const double lse = max + std::log(sum);
  for (int32_t v = 0; v < n; ++v) out[v] = static_cast<float>(logits[v] - lse);
}

int32_t ArgMax(const float* x, int32_t n) {
  return static_cast<int32_t>(std::max_element(x, x + n) - x);
}

// Mean and standard error of the mean from sum and sum of squares.
void MeanSe(double sum, double sum2, int64_t n, double* mean, double* se) {
  *mean = sum / static_cast<double>(n);
  if (n < 2) {
    *se = 0;
    return;
  }
  const double var = std::max(0.0, (sum2 / static_cast<double>(n) - *mean * *mean) * n / (n - 1.0));
  *se = std::sqrt(var / static_cast<double>(n));
}

// Percentile p in [0, 1] of sorted values, linear interpolation between ranks.
double Percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double at = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

void CheckOptions(const PerplexityOptions& o) {
  if (o.n_ctx < 4) Fail("perplexity: the context size must be at least 4 tokens (got %d)", o.n_ctx);
}

// Evaluates one chunk in a fresh context and writes the log-softmax of its scored rows into rows.
void EvalScoredRows(Context& ctx, std::span<const int32_t> chunk, int32_t n_vocab, std::vector<float>* rows) {
  ctx.Truncate(0);
  std::span<const float> logits = ctx.Eval(chunk, /*all_logits=*/true);  // [n_ctx][n_vocab]
  const int32_t n_ctx = static_cast<int32_t>(chunk.size()), first = n_ctx / 2, n_rows = ScoredPerChunk(n_ctx);
  rows->resize(static_cast<size_t>(n_rows) * n_vocab);
  for (int32_t r = 0; r < n_rows; ++r)
    LogSoftmax(logits.data() + static_cast<size_t>(first + r) * n_vocab, n_vocab,
               rows->data() + static_cast<size_t>(r) * n_vocab);
}

}  // namespace

std::vector<int32_t> ChunkTokens(std::span<const int32_t> tokens, int32_t i, const PerplexityOptions& o) {
  const size_t start = static_cast<size_t>(i) * o.n_ctx;
  SEEK_CHECK(start + o.n_ctx <= tokens.size());
  std::vector<int32_t> chunk(tokens.begin() + start, tokens.begin() + start + o.n_ctx);
  if (o.bos_id >= 0) chunk[0] = o.bos_id;
  return chunk;
}

// ---- saved log-probs ------------------------------------------------------------------------------------

LogProbsWriter::LogProbsWriter(const std::string& path, int32_t n_vocab, int32_t n_ctx,
                               std::span<const int32_t> tokens)
    : path_(path), n_vocab_(n_vocab), n_ctx_(n_ctx), n_chunks_(static_cast<int32_t>(tokens.size() / n_ctx)) {
  SEEK_CHECK(tokens.size() % static_cast<size_t>(n_ctx) == 0);
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) Fail("%s: cannot create the log-probs file: %s", path.c_str(), std::strerror(errno));
  const uint32_t header[5] = {kVersion, static_cast<uint32_t>(n_vocab), static_cast<uint32_t>(n_ctx),
                              static_cast<uint32_t>(n_chunks_), static_cast<uint32_t>(tokens.size())};
  bool ok = std::fwrite(kMagic, 1, 4, file_) == 4 && std::fwrite(header, 4, 5, file_) == 5 &&
            std::fwrite(tokens.data(), 4, tokens.size(), file_) == tokens.size();
  if (!ok) Fail("%s: write failed: %s", path.c_str(), std::strerror(errno));
}

LogProbsWriter::~LogProbsWriter() {
  if (file_) std::fclose(file_);
}

void LogProbsWriter::AppendChunk(const float* rows) {
  SEEK_CHECK(file_ && written_ < n_chunks_);
  const size_t n = static_cast<size_t>(ScoredPerChunk(n_ctx_)) * n_vocab_;
  if (std::fwrite(rows, 4, n, file_) != n) Fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
  ++written_;
}

void LogProbsWriter::Finish() {
  if (written_ != n_chunks_)
    Fail("%s: only %d of %d chunks were written", path_.c_str(), written_, n_chunks_);
  const bool failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (failed) Fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
}

bool LogProbsFile::Sniff(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  const bool ok = std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, kMagic, 4) == 0;
  std::fclose(f);
  return ok;
}

std::unique_ptr<LogProbsFile> LogProbsFile::Open(const std::string& path) {
  auto f = std::unique_ptr<LogProbsFile>(new LogProbsFile());
  f->map_ = std::make_unique<MappedFile>(path);
  const uint8_t* p = f->map_->data();
  const size_t size = f->map_->size();
  if (size < kHeaderBytes || std::memcmp(p, kMagic, 4) != 0)
    Fail("%s: not a seek log-probs file", path.c_str());
  uint32_t h[5];
  std::memcpy(h, p + 4, sizeof(h));
  if (h[0] != kVersion)
    Fail("%s: log-probs file version %u is not supported (expected %u)", path.c_str(), h[0], kVersion);
  if (h[1] == 0 || h[1] > (1u << 24) || h[2] < 4 || h[2] > (1u << 24) || h[3] == 0 ||
      static_cast<uint64_t>(h[3]) * h[2] != h[4])
    Fail("%s: inconsistent log-probs header (n_vocab %u, n_ctx %u, n_chunks %u, n_tokens %u)", path.c_str(),
         h[1], h[2], h[3], h[4]);
  const uint64_t rows = static_cast<uint64_t>(h[3]) * ScoredPerChunk(static_cast<int32_t>(h[2]));
  const uint64_t need = kHeaderBytes + 4ull * h[4] + 4ull * rows * h[1];
  if (size != need)
    Fail("%s: size %zu does not match its header (expected %llu bytes)", path.c_str(), size,
         static_cast<unsigned long long>(need));
  f->n_vocab_ = static_cast<int32_t>(h[1]);
  f->n_ctx_ = static_cast<int32_t>(h[2]);
  f->n_chunks_ = static_cast<int32_t>(h[3]);
  // The header is 24 bytes, so the int32 tokens and fp32 rows that follow are 4-byte aligned in the mapping.
  f->tokens_ = std::span<const int32_t>(reinterpret_cast<const int32_t*>(p + kHeaderBytes), h[4]);
  f->rows_ = reinterpret_cast<const float*>(p + kHeaderBytes + 4ull * h[4]);
  for (int32_t t : f->tokens_)
    if (t < 0 || t >= f->n_vocab_)
      Fail("%s: token id %d is out of range [0, %d)", path.c_str(), t, f->n_vocab_);
  return f;
}

const float* LogProbsFile::chunk(int32_t i) const {
  SEEK_CHECK(i >= 0 && i < n_chunks_);
  return rows_ + static_cast<size_t>(i) * ScoredPerChunk(n_ctx_) * n_vocab_;
}

// ---- base providers --------------------------------------------------------------------------------------

BaseLogProbsFn BaseFromModel(const Model& base, const PerplexityOptions& o) {
  auto ctx = std::make_shared<Context>(base, o.n_ctx, o.pool, o.kv_type);
  auto rows = std::make_shared<std::vector<float>>();
  const int32_t n_vocab = base.config().n_vocab;
  return [ctx, rows, n_vocab](int32_t, std::span<const int32_t> chunk) {
    EvalScoredRows(*ctx, chunk, n_vocab, rows.get());
    return static_cast<const float*>(rows->data());
  };
}

BaseLogProbsFn BaseFromFile(const LogProbsFile& file) {
  const LogProbsFile* f = &file;
  return [f](int32_t i, std::span<const int32_t>) { return f->chunk(i); };
}

// ---- evaluation ------------------------------------------------------------------------------------------

PerplexityResult ComputePerplexity(const Model& model, std::span<const int32_t> tokens,
                                   const PerplexityOptions& o, const BaseLogProbsFn& base,
                                   LogProbsWriter* save,
                                   const std::function<void(const ChunkReport&)>& on_chunk) {
  CheckOptions(o);
  const int32_t n_vocab = model.config().n_vocab;
  const int32_t available = static_cast<int32_t>(tokens.size() / static_cast<size_t>(o.n_ctx));
  if (available == 0)
    Fail(
        "perplexity: %zu tokens are fewer than one chunk of n_ctx = %d; use a longer text or a smaller --ctx",
        tokens.size(), o.n_ctx);
  const int32_t n_chunks = o.n_chunks > 0 ? std::min(o.n_chunks, available) : available;
  const int32_t first = o.n_ctx / 2, n_rows = ScoredPerChunk(o.n_ctx);

  Context ctx(model, o.n_ctx, o.pool, o.kv_type);
  std::vector<float> rows;  // [n_rows][n_vocab] log-probs of the model
  std::vector<float> kls;
  double nll_sum = 0, nll_sum2 = 0, base_sum = 0, base_sum2 = 0, kl_sum = 0, kl_sum2 = 0;
  int64_t n_scored = 0, n_agree = 0;
  PerplexityResult res;
  res.has_base = static_cast<bool>(base);
  for (int32_t c = 0; c < n_chunks; ++c) {
    const std::vector<int32_t> chunk = ChunkTokens(tokens, c, o);
    EvalScoredRows(ctx, chunk, n_vocab, &rows);
    if (save) save->AppendChunk(rows.data());
    const float* base_rows = base ? base(c, chunk) : nullptr;
    for (int32_t r = 0; r < n_rows; ++r) {
      const int32_t next = chunk[static_cast<size_t>(first + r + 1)];
      const float* lm = rows.data() + static_cast<size_t>(r) * n_vocab;
      const double nll = -static_cast<double>(lm[next]);
      nll_sum += nll;
      nll_sum2 += nll * nll;
      if (base_rows) {
        const float* lb = base_rows + static_cast<size_t>(r) * n_vocab;
        const double bnll = -static_cast<double>(lb[next]);
        base_sum += bnll;
        base_sum2 += bnll * bnll;
        double kl = 0;
        for (int32_t v = 0; v < n_vocab; ++v)
          kl += std::exp(static_cast<double>(lb[v])) * (static_cast<double>(lb[v]) - lm[v]);
        kl = std::max(0.0, kl);  // exact KL is >= 0; rounding can leave -1e-9 for identical rows
        kl_sum += kl;
        kl_sum2 += kl * kl;
        kls.push_back(static_cast<float>(kl));
        n_agree += ArgMax(lb, n_vocab) == ArgMax(lm, n_vocab);
      }
      ++n_scored;
    }
    if (on_chunk) {
      ChunkReport rep;
      rep.chunk = c;
      rep.n_chunks = n_chunks;
      rep.ppl = std::exp(nll_sum / static_cast<double>(n_scored));
      if (base_rows) {
        rep.base_ppl = std::exp(base_sum / static_cast<double>(n_scored));
        rep.kl_mean = kl_sum / static_cast<double>(n_scored);
      }
      on_chunk(rep);
    }
  }
  res.n_chunks = n_chunks;
  res.n_scored = n_scored;
  double se = 0;
  MeanSe(nll_sum, nll_sum2, n_scored, &res.mean_nll, &se);
  res.ppl = std::exp(res.mean_nll);
  res.ppl_se = res.ppl * se;
  if (res.has_base) {
    double mean = 0;
    MeanSe(base_sum, base_sum2, n_scored, &mean, &se);
    res.base_ppl = std::exp(mean);
    res.base_ppl_se = res.base_ppl * se;
    MeanSe(kl_sum, kl_sum2, n_scored, &res.kl_mean, &res.kl_se);
    std::sort(kls.begin(), kls.end());
    res.kl_median = Percentile(kls, 0.5);
    res.kl_p99 = Percentile(kls, 0.99);
    res.kl_p999 = Percentile(kls, 0.999);
    res.kl_max = kls.empty() ? 0 : kls.back();
    res.top1_agreement = static_cast<double>(n_agree) / static_cast<double>(n_scored);
  }
  return res;
}

}  // namespace seek
