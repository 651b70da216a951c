// Tokenizer speed: encodes one large mixed-language text (bench/make_bench_text.py writes it) with each
// tokenizer, add_special=false, single thread, and prints the median tokens/s and MB/s over --runs encodes
// (wall time, and process CPU time, which is steadier on a shared machine).
//
//   tokenizer_bench [--text FILE] [--tokenizer NAME=PATH ...] [--runs N] [--json] [--ids-dir DIR] [--serve]
//
// --serve is for bench/tokenizer_bench_hf.py, which alternates seek and HF runs in one process pair so both
// see the same machine noise: it loads the tokenizers once, then for each line "NAME" read on stdin encodes
// the text once and answers one JSON line {"name", "seconds", "tokens"}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace {

struct Entry {
  std::string name;
  std::string path;
  std::unique_ptr<seek::Tokenizer> tok;
  double load_seconds = 0;
};

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// CPU time of the whole process: on a shared, overloaded machine it is steadier than wall time.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall = 0, cpu = 0;
};

// One timed encode; leaves the ids in *ids.
Timing TimeEncode(const seek::Tokenizer& tok, const std::string& text, std::vector<int32_t>* ids) {
  const double c0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  *ids = tok.Encode(text, /*add_special=*/false);
  const auto t1 = std::chrono::steady_clock::now();
  return {Seconds(t0, t1), CpuSeconds() - c0};
}

void WriteIds(const std::string& dir, const std::string& name, const std::vector<int32_t>& ids) {
  const std::string path = dir + "/" + name + ".seek.ids";
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(int32_t)));
}

int Serve(std::vector<Entry>& entries, const std::string& text, const std::string& ids_dir) {
  std::string line;
  std::vector<int32_t> ids;
  std::cout << nlohmann::json{{"ready", true}}.dump() << std::endl;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.name == line; });
    if (it == entries.end()) {
      std::cout << nlohmann::json{{"error", "unknown tokenizer " + line}}.dump() << std::endl;
      continue;
    }
    const Timing t = TimeEncode(*it->tok, text, &ids);
    if (!ids_dir.empty()) WriteIds(ids_dir, it->name, ids);
    std::cout << nlohmann::json{{"name", it->name}, {"seconds", t.wall}, {"cpu_seconds", t.cpu}, {"tokens", ids.size()}}
                     .dump()
              << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string shared = SEEK_SHARED_DIR_DEFAULT;
  std::string text_path = SEEK_BENCH_TEXT_DEFAULT;
  std::vector<std::string> specs;
  int runs = 7;
  bool json = false, serve = false;
  std::string ids_dir;

  CLI::App app{"Tokenizer encode speed (single thread, add_special=false)"};
  app.add_option("--text", text_path, "UTF-8 text to encode (bench/make_bench_text.py writes one)");
  app.add_option("--tokenizer", specs, "NAME=PATH (tokenizer.json, HF folder or GGUF); repeatable")
      ->description("default: deepseek-v3 and qwen3 from " + shared + "/tokenizers");
  app.add_option("--runs", runs, "timed encodes per tokenizer (median reported)")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print one JSON object instead of a table");
  app.add_option("--ids-dir", ids_dir, "write the ids of the last encode to DIR/NAME.seek.ids (int32 LE)");
  app.add_flag("--serve", serve, "encode once per tokenizer name read on stdin (for tokenizer_bench_hf.py)");
  CLI11_PARSE(app, argc, argv);

  if (specs.empty()) {
    specs = {"deepseek-v3=" + shared + "/tokenizers/deepseek-v3/tokenizer.json",
             "qwen3=" + shared + "/tokenizers/qwen3/tokenizer.json"};
  }

  std::ifstream in(text_path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << text_path << "; make it with: python3 bench/make_bench_text.py " << text_path
              << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  std::vector<Entry> entries;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    Entry e;
    e.name = eq == std::string::npos ? spec : spec.substr(0, eq);
    e.path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      e.tok = seek::Tokenizer::FromPath(e.path);
    } catch (const std::exception& ex) {
      std::cerr << "skipping " << e.name << ": " << ex.what() << "\n";
      continue;
    }
    if (!e.tok) {
      std::cerr << "skipping " << e.name << ": cannot load " << e.path << "\n";
      continue;
    }
    e.load_seconds = Seconds(t0, std::chrono::steady_clock::now());
    entries.push_back(std::move(e));
  }
  if (entries.empty()) {
    std::cerr << "no tokenizer loaded\n";
    return 1;
  }

  if (serve) return Serve(entries, text, ids_dir);

  const double mb = static_cast<double>(text.size()) / 1e6;
  nlohmann::json out = {
      {"text", text_path}, {"bytes", text.size()}, {"runs", runs}, {"results", nlohmann::json::array()}};
  if (!json) {
    std::printf("text: %s (%zu bytes), %d runs each, median reported\n", text_path.c_str(), text.size(), runs);
    std::printf("%-16s %10s %8s %12s %9s %9s %12s\n", "tokenizer", "tokens", "load s", "tok/s", "MB/s", "median s",
                "cpu tok/s");
  }
  for (Entry& e : entries) {
    std::vector<int32_t> ids;
    TimeEncode(*e.tok, text, &ids);  // warm-up: caches, page faults, lazy tables
    std::vector<double> times, cpu_times;
    for (int i = 0; i < runs; ++i) {
      const Timing t = TimeEncode(*e.tok, text, &ids);
      times.push_back(t.wall);
      cpu_times.push_back(t.cpu);
    }
    const double med = Median(times);
    const double cpu_med = Median(cpu_times);
    const double tps = static_cast<double>(ids.size()) / med;
    if (!ids_dir.empty()) WriteIds(ids_dir, e.name, ids);
    out["results"].push_back({{"name", e.name},
                              {"path", e.path},
                              {"tokens", ids.size()},
                              {"load_seconds", e.load_seconds},
                              {"median_seconds", med},
                              {"min_seconds", *std::min_element(times.begin(), times.end())},
                              {"tokens_per_second", tps},
                              {"median_cpu_seconds", cpu_med},
                              {"cpu_tokens_per_second", static_cast<double>(ids.size()) / cpu_med},
                              {"mb_per_second", mb / med}});
    if (!json) {
      std::printf("%-16s %10zu %8.3f %12.0f %9.2f %9.4f %12.0f\n", e.name.c_str(), ids.size(), e.load_seconds, tps,
                  mb / med, med, static_cast<double>(ids.size()) / cpu_med);
      std::fflush(stdout);
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}
