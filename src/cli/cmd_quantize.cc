// seek quantize IN OUT TYPE: converts a GGUF model's (or HF folder's) weights to a quantized type or mix
// (model/quantize.h has the per-tensor rules). Prints one line per tensor and a summary to stderr.
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/quantize.h"

namespace seek::cli {
namespace {

struct QuantizeCliOptions {
  std::string in, out, type;
  int32_t threads = 0;
  bool allow_requantize = false;
  bool pure = false;
  bool quiet = false;
};

int Quantize(const QuantizeCliOptions& o) {
  std::optional<QuantScheme> scheme = ParseQuantScheme(o.type);
  if (!scheme)
    Fail("unknown quantization type '%s'; choose one of: %s", o.type.c_str(), QuantSchemeNames().c_str());
  if (o.pure && scheme->mix != QuantScheme::Mix::kNone)
    Fail("--pure gives every tensor one type; use a plain type (e.g. Q4_K) instead of the mix %s",
         scheme->name.c_str());
  scheme->pure = o.pure;
  QuantizeOptions qo;
  qo.n_threads = o.threads;
  qo.allow_requantize = o.allow_requantize;
  if (!o.quiet) {
    qo.log = [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    };
  }
  const QuantizeStats s = QuantizeModel(o.in, o.out, *scheme, qo);
  std::fprintf(
      stderr, "quantized %s -> %s (%s): %d tensors (%d converted), %.2f MB -> %.2f MB (%.1f%%) in %.1f s\n",
      o.in.c_str(), o.out.c_str(), scheme->name.c_str(), s.n_tensors, s.n_quantized, s.bytes_in / 1e6,
      s.bytes_out / 1e6, s.bytes_in ? 100.0 * s.bytes_out / s.bytes_in : 0.0, s.seconds);
  return 0;
}

}  // namespace

void RegisterQuantize(CLI::App& app, Runner& run) {
  auto o = std::make_shared<QuantizeCliOptions>();
  CLI::App* cmd =
      app.add_subcommand("quantize", "quantize a GGUF model or HF folder into a GGUF (Q8_0, Q4_K_M, ...)");
  cmd->add_option("IN", o->in, "input model: an F32/F16/BF16 GGUF file or a Hugging Face folder")->required();
  cmd->add_option("OUT", o->out, "output GGUF file")->required();
  cmd->add_option("TYPE", o->type, "target: " + QuantSchemeNames())->required();
  cmd->add_option("-t,--threads", o->threads, "threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--allow-requantize", o->allow_requantize,
                "allow an already-quantized input (quality suffers)");
  cmd->add_flag("--pure", o->pure,
                "every weight matrix gets TYPE: no Q6_K output / mix rules (row-length fallbacks still apply)");
  cmd->add_flag("-q,--quiet", o->quiet, "print only the summary");
  cmd->callback([o, &run] { run = [o] { return Quantize(*o); }; });
}

}  // namespace seek::cli
