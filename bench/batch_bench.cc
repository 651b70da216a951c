// Decode throughput of N sequences: one EvalBatch of N single-token chunks (continuous batching, the weights
// stream once per step) against N separate Context::Eval calls (once per sequence), measured alternately in
// one run so that a shared, noisy machine affects both alike. Prints a table; never asserts a time.
//
//   batch_bench --model SmolLM2-135M-Instruct.Q4_1.gguf [--streams 1,2,4,8,16] [--steps 8] [--runs 7] [-t 2]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("continuous batching: EvalBatch vs separate Evals");
  std::string model_path, streams_arg = "1,2,4,8,16";
  int steps = 8, runs = 7, threads = 2, prompt = 32;
  app.add_option("-m,--model", model_path, "GGUF model (default: env SEEK_SMOLLM2)");
  app.add_option("--streams", streams_arg, "comma-separated sequence counts");
  app.add_option("--steps", steps, "decode steps per timed run");
  app.add_option("--runs", runs, "timed runs per mode (median reported)");
  app.add_option("-t,--threads", threads, "threads");
  app.add_option("--prompt", prompt, "tokens in each sequence's cache before decoding");
  CLI11_PARSE(app, argc, argv);
  if (model_path.empty() && std::getenv("SEEK_SMOLLM2")) model_path = std::getenv("SEEK_SMOLLM2");
  if (model_path.empty()) {
    std::fprintf(stderr, "skipped: pass --model or set SEEK_SMOLLM2\n");
    return 77;
  }
  std::vector<int> counts;
  std::stringstream ss(streams_arg);
  for (std::string x; std::getline(ss, x, ',');) counts.push_back(std::stoi(x));

  const auto model = seek::Model::Load(model_path);
  const int32_t n_vocab = model->config().n_vocab;
  seek::ThreadPool pool(threads);
  std::mt19937 rng(1234);
  using Clock = std::chrono::steady_clock;

  std::printf(
      "| streams | separate Evals ms/step | EvalBatch ms/step | batch speed-up | EvalBatch tok/s | "
      "tok/s x 1 stream |\n|---:|---:|---:|---:|---:|---:|\n");
  double single_tok_s = 0;
  for (int n : counts) {
    // Two sets of contexts with the same prompts: one decoded separately, one batched.
    std::vector<std::unique_ptr<seek::Context>> sep, bat;
    const int32_t n_ctx = prompt + steps * (runs + 1) + 8;
    for (int i = 0; i < n; ++i) {
      std::vector<int32_t> p(static_cast<size_t>(prompt));
      for (int32_t& t : p) t = int32_t(rng() % uint32_t(n_vocab));
      sep.push_back(std::make_unique<seek::Context>(*model, n_ctx, &pool));
      bat.push_back(std::make_unique<seek::Context>(*model, n_ctx, &pool));
      sep.back()->Eval(p);
      bat.back()->Eval(p);
    }
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    std::vector<seek::SeqChunk> chunks(static_cast<size_t>(n));
    auto step_separate = [&] {
      for (int i = 0; i < n; ++i) sep[size_t(i)]->Eval(std::span<const int32_t>(&tokens[size_t(i)], 1));
    };
    auto step_batched = [&] {
      for (int i = 0; i < n; ++i)
        chunks[size_t(i)] = {bat[size_t(i)].get(), std::span<const int32_t>(&tokens[size_t(i)], 1)};
      seek::EvalBatch(chunks);
    };
    step_separate();  // warm-up: pages in the weights, sizes the scratch
    step_batched();
    std::vector<double> t_sep, t_bat;
    for (int r = 0; r < runs; ++r) {
      for (int32_t& t : tokens) t = int32_t(rng() % uint32_t(n_vocab));
      auto t0 = Clock::now();
      for (int s = 0; s < steps; ++s) step_separate();
      auto t1 = Clock::now();
      for (int s = 0; s < steps; ++s) step_batched();
      auto t2 = Clock::now();
      t_sep.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / steps);
      t_bat.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count() / steps);
    }
    const double ms_sep = Median(t_sep), ms_bat = Median(t_bat), tok_s = n * 1000.0 / ms_bat;
    if (single_tok_s == 0) single_tok_s = tok_s;
    std::printf("| %d | %.1f | %.1f | %.2f | %.1f | %.2f |\n", n, ms_sep, ms_bat, ms_sep / ms_bat, tok_s,
                tok_s / single_tok_s);
    std::fflush(stdout);
  }
  std::printf(
      "\nMedian of %d runs of %d decode steps each, separate and batched alternating; %d threads; each "
      "sequence has %d tokens in its cache.\n",
      runs, steps, threads, prompt);
  return 0;
}
