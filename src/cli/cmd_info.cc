// seek info: what a model is and what it needs: architecture, parameter count, tensor types, file size, and the
// memory needed at a given context.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "model/weights.h"

namespace seek::cli {
namespace {

std::string Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return StrFormat(u ? "%.2f %s" : "%.0f %s", b, units[u]);
}

const char* FormatName(ModelFormat f) {
  switch (f) {
    case ModelFormat::kGguf: return "GGUF";
    case ModelFormat::kHfFolder: return "Hugging Face folder";
    case ModelFormat::kLlama2c: return "llama2.c checkpoint";
  }
  return "?";
}

struct InfoOptions {
  ModelOptions model;
};

int Info(const InfoOptions& o) {
  auto model = LoadModel(o.model);
  const ModelConfig& c = model->config();
  const ModelSource& src = model->source();

  std::map<std::string, std::pair<int, uint64_t>> by_type;  // type -> (tensors, bytes)
  uint64_t weight_bytes = 0;
  for (const TensorView& t : src.tensors()) {
    auto& e = by_type[DTypeName(t.type)];
    e.first++;
    e.second += t.nbytes;
    weight_bytes += t.nbytes;
  }
  int32_t n_ctx = o.model.ctx > 0 ? o.model.ctx : std::min<int32_t>(c.n_ctx_train > 0 ? c.n_ctx_train : 4096, 4096);
  const KvType kv_type = KvTypeOf(o.model);
  const size_t kv_per_token = model->kv_bytes_per_token(kv_type);
  const uint64_t kv = static_cast<uint64_t>(kv_per_token) * n_ctx;
  // Activations for one prompt chunk of 256 tokens plus one row of logits per chunk token (upper bound).
  const uint64_t scratch =
      4ull * 256 * (4ull * c.n_embd + 3ull * c.n_ff + c.q_dim() + 2ull * c.kv_dim() + c.n_vocab) +
      4ull * n_ctx * c.n_head;

  std::printf("model:          %s\n", src.path().c_str());
  std::printf("format:         %s", FormatName(src.format()));
  if (src.gguf()) std::printf(" v%u", src.gguf()->version());
  std::printf("\narchitecture:   %s (%s)\n", ArchName(c.arch), c.arch_name.c_str());
  std::printf("parameters:     %.2f M\n", model->n_params() / 1e6);
  if (c.arch == ModelArch::kDeepSeek2) {  // MoE: what one token reads, and the experts
    const MoeConfig& m = c.moe;
    const int64_t expert_params = 3 * int64_t(c.n_embd) * m.n_ff_exp;
    int n_moe = 0;
    for (int32_t il = 0; il < c.n_layer; ++il) n_moe += c.layer(il).moe ? 1 : 0;
    std::printf("active/token:   %.2f M parameters (%d of %d routed experts + %d shared, in %d MoE layers)\n",
                model->n_active_params() / 1e6, m.n_expert_used, m.n_expert, m.n_expert_shared, n_moe);
    std::printf("experts:        %d routed per MoE layer, %.2f M parameters each (%s at %s), routing %s/%s%s\n",
                m.n_expert, expert_params / 1e6,
                Bytes(double(expert_params) * model->weights().layers[size_t(c.moe.first_k_dense_replace)]
                                                  .ffn_up_exp[0].nbytes / double(c.n_embd * m.n_ff_exp)).c_str(),
                DTypeName(model->weights().layers[size_t(c.moe.first_k_dense_replace)].ffn_up_exp[0].type),
                MoeScoringName(m.scoring), MoeTopkName(m.topk_method), c.n_nextn_layer ? ", MTP layer present" : "");
    std::printf("MLA cache:      kv_lora_rank %d + rope %d per token per layer x %d layers = %zu B/token at %s\n",
                c.mla.kv_lora_rank, c.mla.qk_rope_head_dim, c.n_layer, kv_per_token, KvTypeName(kv_type));
  }
  std::printf("file size:      %s\n", Bytes(static_cast<double>(src.file_bytes())).c_str());
  std::printf("shape:          %s\n", c.Summary().c_str());
  std::printf("tensor types:  ");
  for (const auto& [name, e] : by_type) std::printf(" %s x%d (%s)", name.c_str(), e.first, Bytes(e.second).c_str());
  std::printf("\n");
  if (model->has_tokenizer()) {
    const Tokenizer& tok = model->tokenizer();
    std::printf("tokenizer:      %d tokens, bos %d, eos %d, add_bos %s\n", tok.n_vocab(), tok.bos_id(), tok.eos_id(),
                tok.add_bos() ? "yes" : "no");
  } else {
    std::printf("tokenizer:      none (pass --tokenizer)\n");
  }
  std::printf("chat template:  %s\n",
              model->chat_template().empty() ? "none" : StrFormat("%zu characters", model->chat_template().size()).c_str());
  std::printf("memory at %d tokens of context:\n", n_ctx);
  std::printf("  weights       %s (mmap'd from the file; see the repacked line)\n", Bytes(weight_bytes).c_str());
  {
    const auto& w = model->weights();
    std::printf("  repacked      %s in %d tensors copied into kernel layouts (SEEK_REPACK=0: none); %s left "
                "mmap'd\n", Bytes(double(w.repacked_bytes)).c_str(), w.n_repacked,
                Bytes(double(weight_bytes > w.repacked_released ? weight_bytes - w.repacked_released : 0)).c_str());
  }
  std::printf("  KV cache      %s (%zu bytes per token at %s; --kv-type f16|q8_0|f32)\n", Bytes(kv).c_str(),
              kv_per_token, KvTypeName(kv_type));
  std::printf("  scratch       about %s\n", Bytes(scratch).c_str());
  std::printf("  total         about %s\n", Bytes(weight_bytes + kv + scratch).c_str());
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, Runner& run) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "describe a model: architecture, parameters, types, memory");
  AddModelOptions(cmd, o->model);
  cmd->callback([o, &run] { run = [o] { return Info(*o); }; });
}

}  // namespace seek::cli
