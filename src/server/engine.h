// The engine: ONE thread owns the model's compute (the thread pool, one KV cache per slot) and runs every
// sequence. HTTP threads never touch a Context: they Submit() sequences and read events from a per-request
// RequestStream. No JSON here.
//
// Scheduling (one Step):
//   1. Drop cancelled sequences (client gone: RequestStream::Cancel), freeing their slots.
//   2. Admit queued sequences into free slots. Each goes to the free slot whose cached tokens share the longest
//      prefix with its prompt (a prefix cache: a shared system prompt or document is computed once and reused
//      by later requests); ties go to the least recently used slot, so other slots keep their caches.
//   3. Plan one batch within a token budget: one token for every decoding slot first, then prefill chunks of
//      the prefilling slots (chunked prefill, so a long prompt does not stall the decodes of other slots).
//   4. Forward the batch (RunBatch: the one place that evaluates), then sample, check stops and stream the
//      text of every sequence that produced logits.
//
// Continuous batching: RunBatch hands the whole planned batch (decode tokens and prefill chunks of every active
// slot) to EvalBatch (model/model.h), one forward pass per step, so the weights stream from memory once per
// step for all slots rather than once per slot.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/model.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "server/metrics.h"

namespace seek::server {

using Clock = std::chrono::steady_clock;

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;                             // log-softmax of the model's raw logits
  std::vector<std::pair<int32_t, float>> top;    // most likely tokens, best first
};

// One event of one sequence. Text and logprobs are deltas; `done` comes once, last.
struct SeqEvent {
  int32_t index = 0;  // the sequence's index within its request (choice index)
  std::string text;
  std::vector<TokenLogprob> logprobs;
  bool done = false;
  FinishReason finish = FinishReason::kStop;
  std::string error;  // non-empty: the sequence failed (done is set)
  int32_t n_prompt = 0, n_cached = 0, n_generated = 0;  // set on done
};

// The per-request channel: the engine pushes, one HTTP thread pops. Cancel() is how the HTTP side says the
// client went away; the engine frees the sequences at its next step.
class RequestStream {
 public:
  void Push(SeqEvent event);
  // Waits up to `timeout` for events; moves all pending ones into `out`. False when none arrived.
  bool Pop(std::vector<SeqEvent>& out, std::chrono::milliseconds timeout);
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SeqEvent> events_;
  std::atomic<bool> cancelled_{false};
};

struct SeqRequest {
  std::vector<int32_t> prompt;  // not empty, shorter than the context
  SamplingParams sampling;
  int32_t max_tokens = -1;      // -1: until end of generation or the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int32_t top_logprobs = -1;    // -1: no logprobs; 0..20: the chosen token's logprob and this many top ones
  int32_t index = 0;
  std::shared_ptr<RequestStream> out;
  Clock::time_point submitted;
};

struct EngineConfig {
  int32_t n_slots = 1;
  int32_t n_ctx = 0;          // per slot; 0: the model's (capped at 4096)
  int32_t n_threads = 1;
  int32_t max_queue = 64;     // queued sequences
  int32_t step_tokens = 256;  // token budget of one step (decode tokens + prefill chunk tokens)
  KvType kv_type = kDefaultKvType;  // KV cache element type of every slot
};

class Engine {
 public:
  // Starts the engine thread, which allocates the thread pool and the slots' KV caches. Throws seek::Error if
  // that fails.
  Engine(const Model& model, const EngineConfig& config, Metrics* metrics);
  ~Engine();  // stops the thread; queued and running sequences get a done event with an error
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues all sequences of one request, or none: false when the queue is full.
  bool Submit(std::vector<SeqRequest> seqs);
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_slots() const { return config_.n_slots; }

 private:
  struct Sequence;
  struct Slot;
  struct BatchEntry;
  void Loop();
  bool Step();  // false when there was nothing to do
  void Admit();
  void StartSequence(Slot& slot, SeqRequest req);
  void RunBatch(std::vector<BatchEntry>& batch);
  void SampleToken(BatchEntry& e);  // thread-safe across entries of different slots
  void AfterLogits(Slot& slot, BatchEntry& e);
  void Finish(Slot& slot, FinishReason reason, SeqEvent ev);
  void Fail(Slot& slot, const std::string& message);
  void UpdateGauges();

  const Model& model_;
  EngineConfig config_;
  Metrics* metrics_;
  int32_t n_ctx_ = 0;

  std::mutex mu_;  // guards queue_, stop_, started_
  std::condition_variable cv_;
  std::deque<SeqRequest> queue_;
  bool stop_ = false;
  bool started_ = false;
  std::string start_error_;

  // Engine thread only.
  std::vector<std::unique_ptr<Slot>> slots_;
  std::unique_ptr<ThreadPool> pool_;
  uint64_t clock_ = 0;  // step counter for LRU
  std::thread thread_;
};

}  // namespace seek::server
