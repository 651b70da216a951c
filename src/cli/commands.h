// The subcommands. Each Register* adds its subcommand to `app` and sets `run` to execute it.
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace seek::cli {

using Runner = std::function<int()>;

void RegisterRun(CLI::App& app, Runner& run);
void RegisterChat(CLI::App& app, Runner& run);
void RegisterInfo(CLI::App& app, Runner& run);
void RegisterTokenize(CLI::App& app, Runner& run);
void RegisterQuantize(CLI::App& app, Runner& run);
void RegisterPerplexity(CLI::App& app, Runner& run);
void RegisterServe(CLI::App& app, Runner& run);
void RegisterBench(CLI::App& app, Runner& run);

}  // namespace seek::cli
