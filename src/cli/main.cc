// seek: DeepSeek-family inference on CPUs. `seek --help` lists the subcommands.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"seek: run DeepSeek, Qwen2 and Llama models on CPUs"};
  app.require_subcommand(1);
  seek::cli::Runner run;
  seek::cli::RegisterRun(app, run);
  seek::cli::RegisterChat(app, run);
  seek::cli::RegisterInfo(app, run);
  seek::cli::RegisterTokenize(app, run);
  seek::cli::RegisterQuantize(app, run);
  seek::cli::RegisterPerplexity(app, run);
  seek::cli::RegisterServe(app, run);
  seek::cli::RegisterBench(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 1;
  } catch (const seek::Error& e) {
    std::fprintf(stderr, "seek: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "seek: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seek: error: %s\n", e.what());
  }
  return 1;
}
