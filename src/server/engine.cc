#include "server/engine.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "runtime/stop_matcher.h"

namespace seek::server {
namespace {

// A prefill chunk is at least this long even when the decodes used up the step's budget, so prompts always
// make progress.
constexpr int32_t kMinPrefillChunk = 32;

bool IsEog(const Tokenizer& tok, int32_t id) {
  const auto& eog = tok.eog_ids();
  return std::find(eog.begin(), eog.end(), id) != eog.end() || id == tok.eos_id();
}

// log-softmax of the raw logits at `id`, and the `top` most likely tokens.
TokenLogprob MakeLogprob(std::span<const float> logits, int32_t id, int32_t top) {
  float max_logit = -INFINITY;
  for (float l : logits) max_logit = std::max(max_logit, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l) - max_logit);
  const double lse = max_logit + std::log(sum);
  TokenLogprob lp;
  lp.id = id;
  lp.logprob = float(double(logits[size_t(id)]) - lse);
  if (top > 0) {
    std::vector<std::pair<float, int32_t>> c(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) c[i] = {logits[i], int32_t(i)};
    const size_t k = std::min<size_t>(size_t(top), c.size());
    auto before = [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; };
    std::partial_sort(c.begin(), c.begin() + std::ptrdiff_t(k), c.end(), before);
    for (size_t i = 0; i < k; ++i) lp.top.emplace_back(c[i].second, float(double(c[i].first) - lse));
  }
  return lp;
}

}  // namespace

// --- RequestStream ---

void RequestStream::Push(SeqEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

bool RequestStream::Pop(std::vector<SeqEvent>& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  for (auto& e : events_) out.push_back(std::move(e));
  events_.clear();
  return true;
}

// --- Engine ---

struct Engine::Sequence {
  Sequence(SeqRequest r, const Tokenizer& tok, int32_t n_vocab)
      : req(std::move(r)), sampler(req.sampling, n_vocab), decoder(tok), stops(req.stop) {}
  SeqRequest req;
  Sampler sampler;
  StreamDecoder decoder;
  StopMatcher stops;
  size_t n_prefilled = 0;     // prompt tokens in the KV cache
  int32_t n_cached = 0;       // of which were reused from the slot's cache
  int32_t n_generated = 0;
  int32_t pending_token = -1;  // sampled, not yet evaluated (>= 0: decoding)
  bool first_token_seen = false;
};

struct Engine::Slot {
  std::unique_ptr<Context> ctx;
  std::vector<int32_t> cached;  // ids now in ctx's KV cache (ctx->n_past() of them)
  std::unique_ptr<Sequence> seq;
  uint64_t last_used = 0;
};

struct Engine::BatchEntry {
  Slot* slot;
  std::span<const int32_t> tokens;
  bool prefill;
  std::span<const float> logits;  // set by RunBatch; empty if the entry failed or needs no logits
  int32_t token = -1;             // sampled from logits (SampleToken)
  TokenLogprob logprob;           // its logprob, when the request asks for them
};

Engine::Engine(const Model& model, const EngineConfig& config, Metrics* metrics)
    : model_(model), config_(config), metrics_(metrics) {
  SEEK_CHECK(metrics_ != nullptr);
  if (config_.n_slots < 1) seek::Fail("--parallel must be at least 1");
  thread_ = std::thread([this] { Loop(); });
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return started_; });
  if (!start_error_.empty()) {
    lock.unlock();
    thread_.join();
    seek::Fail("%s", start_error_.c_str());
  }
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Engine::Submit(std::vector<SeqRequest> seqs) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    if (!queue_.empty() && queue_.size() + seqs.size() > size_t(config_.max_queue)) return false;
    for (auto& s : seqs) queue_.push_back(std::move(s));
    metrics_->queue_depth.store(int64_t(queue_.size()), std::memory_order_relaxed);
  }
  cv_.notify_all();
  return true;
}

void Engine::Loop() {
  try {
    pool_ = std::make_unique<ThreadPool>(std::max(1, config_.n_threads));
    for (int32_t i = 0; i < config_.n_slots; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->ctx = std::make_unique<Context>(model_, config_.n_ctx, pool_.get(), config_.kv_type);
      slots_.push_back(std::move(slot));
    }
    n_ctx_ = slots_[0]->ctx->n_ctx();
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    start_error_ = std::string("cannot start the engine: ") + e.what();
    started_ = true;
    cv_.notify_all();
    return;
  }
  metrics_->n_slots.store(config_.n_slots);
  metrics_->kv_tokens_capacity.store(int64_t(n_ctx_) * config_.n_slots);
  metrics_->kv_bytes_per_token.store(int64_t(model_.kv_bytes_per_token(config_.kv_type)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  cv_.notify_all();

  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    const bool worked = Step();
    UpdateGauges();
    if (!worked) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    }
  }
  // Shutting down: tell every waiting client.
  for (auto& slot : slots_)
    if (slot->seq) Fail(*slot, "the server is shutting down");
  std::lock_guard<std::mutex> lock(mu_);
  for (SeqRequest& r : queue_) {
    SeqEvent ev;
    ev.index = r.index;
    ev.done = true;
    ev.error = "the server is shutting down";
    r.out->Push(std::move(ev));
  }
  queue_.clear();
}

void Engine::UpdateGauges() {
  int64_t active = 0, used = 0;
  for (const auto& s : slots_) {
    active += s->seq ? 1 : 0;
    used += s->ctx->n_past();
  }
  metrics_->active_slots.store(active, std::memory_order_relaxed);
  metrics_->kv_tokens_used.store(used, std::memory_order_relaxed);
}

void Engine::Admit() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    if (queue_.front().out->cancelled()) {
      queue_.pop_front();
      metrics_->sequences_cancelled.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const std::vector<int32_t>& prompt = queue_.front().prompt;
    Slot* best = nullptr;
    size_t best_prefix = 0;
    for (auto& s : slots_) {
      if (s->seq) continue;
      const size_t prefix = CommonPrefix(s->cached, prompt);
      if (!best || prefix > best_prefix || (prefix == best_prefix && s->last_used < best->last_used)) {
        best = s.get();
        best_prefix = prefix;
      }
    }
    if (!best) break;
    SeqRequest req = std::move(queue_.front());
    queue_.pop_front();
    StartSequence(*best, std::move(req));
  }
  metrics_->queue_depth.store(int64_t(queue_.size()), std::memory_order_relaxed);
}

void Engine::StartSequence(Slot& slot, SeqRequest req) {
  const Tokenizer& tok = model_.tokenizer();
  auto seq = std::make_unique<Sequence>(std::move(req), tok, model_.config().n_vocab);
  const std::vector<int32_t>& prompt = seq->req.prompt;
  SEEK_CHECK(!prompt.empty());
  // Reuse the cached prefix, but always evaluate the last prompt token: its logits start the generation.
  size_t keep = std::min(CommonPrefix(slot.cached, prompt), prompt.size() - 1);
  keep = std::min<size_t>(keep, size_t(slot.ctx->n_past()));
  slot.ctx->Truncate(int32_t(keep));
  slot.cached.resize(keep);
  seq->n_prefilled = keep;
  seq->n_cached = int32_t(keep);
  // Prime the decoder with the last prompt token so the first piece decodes as a continuation.
  seq->decoder.Push(prompt.back());
  seq->decoder.Flush();
  metrics_->prompt_tokens.fetch_add(prompt.size(), std::memory_order_relaxed);
  metrics_->prompt_tokens_cached.fetch_add(keep, std::memory_order_relaxed);
  slot.seq = std::move(seq);
  slot.last_used = ++clock_;
}

bool Engine::Step() {
  for (auto& s : slots_) {
    if (s->seq && s->seq->req.out->cancelled()) {
      s->seq.reset();
      metrics_->sequences_cancelled.fetch_add(1, std::memory_order_relaxed);
    }
  }
  Admit();

  // Plan: decodes first (one token each), then prefill chunks within the remaining budget.
  std::vector<BatchEntry> batch;
  int32_t budget = config_.step_tokens;
  for (auto& s : slots_) {
    Sequence* q = s->seq.get();
    if (q && q->pending_token >= 0) {
      batch.push_back({s.get(), std::span<const int32_t>(&q->pending_token, 1), false, {}, -1, {}});
      --budget;
    }
  }
  // Prefill the slot admitted earliest first (FIFO among prefilling sequences).
  std::vector<Slot*> prefilling;
  for (auto& s : slots_)
    if (s->seq && s->seq->pending_token < 0) prefilling.push_back(s.get());
  std::sort(prefilling.begin(), prefilling.end(), [](Slot* a, Slot* b) { return a->last_used < b->last_used; });
  for (Slot* s : prefilling) {
    if (budget <= 0 && !batch.empty()) break;
    const std::vector<int32_t>& prompt = s->seq->req.prompt;
    const size_t remaining = prompt.size() - s->seq->n_prefilled;
    const size_t n = std::min<size_t>(remaining, size_t(std::max(budget, kMinPrefillChunk)));
    batch.push_back({s, std::span<const int32_t>(prompt).subspan(s->seq->n_prefilled, n), true, {}, -1, {}});
    budget -= int32_t(n);
  }
  if (batch.empty()) return false;
  metrics_->engine_steps.fetch_add(1, std::memory_order_relaxed);

  RunBatch(batch);

  std::vector<BatchEntry*> sampled;  // entries whose logits start or continue a generation
  for (BatchEntry& e : batch) {
    Slot& s = *e.slot;
    if (!s.seq) continue;  // failed in RunBatch
    if (e.prefill) {
      s.seq->n_prefilled += e.tokens.size();
      metrics_->prompt_tokens_evaluated.fetch_add(e.tokens.size(), std::memory_order_relaxed);
      if (s.seq->n_prefilled < s.seq->req.prompt.size()) continue;  // more prompt to go
    }
    sampled.push_back(&e);
  }
  // Sampling (a copy of n_vocab logits, penalties, top-k/top-p, a softmax; logprobs) is per sequence and
  // independent, so the slots sample in parallel on the pool; streaming the text stays on this thread, in slot
  // order. With 8 streams on SmolLM2 sampling was ~5% of a step's time on one thread (perf) while the pool's
  // other threads waited.
  auto sample = [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) SampleToken(*sampled[size_t(i)]);
  };
  if (sampled.size() > 1 && pool_->size() > 1) {
    pool_->ParallelFor(int64_t(sampled.size()), sample);
  } else {
    sample(0, int64_t(sampled.size()), 0);
  }
  for (BatchEntry* e : sampled) AfterLogits(*e->slot, *e);
  return true;
}

void Engine::SampleToken(BatchEntry& e) {
  Sequence& q = *e.slot->seq;
  std::vector<float> row(e.logits.begin(), e.logits.end());
  e.token = q.sampler.Sample(row);
  q.sampler.Accept(e.token);  // only generated tokens: OpenAI's penalties count the completion
  if (q.req.top_logprobs >= 0) e.logprob = MakeLogprob(e.logits, e.token, q.req.top_logprobs);
}

// The one place that evaluates: the whole batch in one EvalBatch (one forward pass per step, so the weights
// stream from memory once for every active sequence). A chunk that cannot be evaluated (context overflow, bad
// token) fails only its own sequence: it is checked and dropped before the forward.
void Engine::RunBatch(std::vector<BatchEntry>& batch) {
  std::vector<SeqChunk> chunks;
  std::vector<BatchEntry*> entries;
  chunks.reserve(batch.size());
  for (BatchEntry& e : batch) {
    Slot& s = *e.slot;
    try {
      s.ctx->CheckEval(e.tokens);
    } catch (const std::exception& ex) {
      Fail(s, ex.what());
      continue;
    }
    // A prefill chunk that does not finish the prompt needs no logits.
    const bool last = !e.prefill || s.seq->n_prefilled + e.tokens.size() == s.seq->req.prompt.size();
    chunks.push_back({s.ctx.get(), e.tokens, last ? ChunkLogits::kLast : ChunkLogits::kNone});
    entries.push_back(&e);
  }
  if (chunks.empty()) return;
  std::vector<std::span<const float>> logits;
  try {
    logits = EvalBatch(chunks);
  } catch (const std::exception& ex) {
    // EvalBatch rolled every context back to where it was, so the slots' caches stay valid; the sequences of
    // this batch fail (the error is not theirs to retry one by one).
    for (BatchEntry* e : entries) Fail(*e->slot, ex.what());
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    BatchEntry& e = *entries[i];
    e.logits = logits[i];
    e.slot->cached.insert(e.slot->cached.end(), e.tokens.begin(), e.tokens.end());
  }
}

void Engine::AfterLogits(Slot& slot, BatchEntry& e) {
  Sequence& q = *slot.seq;
  const Tokenizer& tok = model_.tokenizer();
  const int32_t id = e.token;
  q.pending_token = -1;
  ++q.n_generated;
  metrics_->generated_tokens.fetch_add(1, std::memory_order_relaxed);
  if (!q.first_token_seen) {
    q.first_token_seen = true;
    metrics_->time_to_first_token.Observe(std::chrono::duration<double>(Clock::now() - q.req.submitted).count());
  }

  SeqEvent ev;
  ev.index = q.req.index;
  if (!q.req.ignore_eos && IsEog(tok, id)) {
    bool stopped = false;
    std::string tail = q.stops.Push(q.decoder.Flush(), stopped);
    if (!stopped) tail += q.stops.Flush();
    ev.text = std::move(tail);
    Finish(slot, FinishReason::kStop, std::move(ev));
    return;
  }
  if (q.req.top_logprobs >= 0) ev.logprobs.push_back(std::move(e.logprob));
  bool stopped = false;
  ev.text = q.stops.Push(q.decoder.Push(id), stopped);
  if (stopped) {
    Finish(slot, FinishReason::kStop, std::move(ev));
    return;
  }
  const bool at_limit = q.req.max_tokens >= 0 && q.n_generated >= q.req.max_tokens;
  const bool ctx_full = slot.ctx->n_past() + 1 > slot.ctx->n_ctx();
  if (at_limit || ctx_full) {
    std::string tail = q.stops.Push(q.decoder.Flush(), stopped);
    if (!stopped) tail += q.stops.Flush();
    ev.text += tail;
    Finish(slot, stopped ? FinishReason::kStop : FinishReason::kLength, std::move(ev));
    return;
  }
  q.pending_token = id;
  if (!ev.text.empty() || !ev.logprobs.empty()) q.req.out->Push(std::move(ev));
}

void Engine::Finish(Slot& slot, FinishReason reason, SeqEvent ev) {
  Sequence& q = *slot.seq;
  ev.done = true;
  ev.finish = reason;
  ev.n_prompt = int32_t(q.req.prompt.size());
  ev.n_cached = q.n_cached;
  ev.n_generated = q.n_generated;
  q.req.out->Push(std::move(ev));
  metrics_->sequences_finished.fetch_add(1, std::memory_order_relaxed);
  slot.seq.reset();
  slot.last_used = ++clock_;
}

void Engine::Fail(Slot& slot, const std::string& message) {
  SEEK_LOG_WARN("engine: sequence failed: %s", message.c_str());
  SeqEvent ev;
  ev.index = slot.seq->req.index;
  ev.done = true;
  ev.error = message;
  slot.seq->req.out->Push(std::move(ev));
  slot.seq.reset();
  slot.last_used = ++clock_;
}

}  // namespace seek::server
