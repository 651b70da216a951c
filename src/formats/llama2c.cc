// llama2.c checkpoints, legacy "version 0" format written by llama2.c's export.py (legacy_export) and read by
// run.c: a 7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative
// vocab_size means the classifier is not shared with the embedding), then fp32 arrays, each row-major
// (out, in), all layers of one kind together:
//   token_embedding_table [vocab, dim]     rms_att_weight [layer, dim]
//   wq [layer, dim, dim]   wk [layer, kv_dim, dim]   wv [layer, kv_dim, dim]   wo [layer, dim, dim]
//   rms_ffn_weight [layer, dim]   w1 [layer, hidden, dim]   w2 [layer, dim, hidden]   w3 [layer, hidden, dim]
//   rms_final_weight [dim]   freq_cis_real [seq_len, head_size/2]   freq_cis_imag [seq_len, head_size/2]
//   wcls [vocab, dim] (only when unshared)
// kv_dim = dim * n_kv_heads / n_heads. The tensors are exposed as per-layer F32 views of the mmap under GGUF
// names, ne in GGML order ({in, out}). freq_cis is skipped (seek computes RoPE itself). Trailing bytes after
// the last array are allowed. The newer export versions (magic "ak42") are rejected with a clear message.
#include <sys/stat.h>

#include <cstring>

#include "core/error.h"
#include "formats/model_source_builder.h"

namespace seek {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

constexpr uint32_t kMagicAk42 = 0x616b3432;  // export.py versions >= 1
constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

}  // namespace

void ModelSourceBuilder::LoadLlama2c(ModelSource& s, const std::string& path, const ProgressFn& progress) {
  s.format_ = ModelFormat::kLlama2c;
  auto map = std::make_unique<MappedFile>(path);
  const char* p = path.c_str();
  const size_t size = map->size();
  if (size >= 4) {
    uint32_t magic;
    std::memcpy(&magic, map->data(), 4);
    if (magic == kMagicAk42)
      Fail(
          "%s: llama2.c export format version >= 1 (magic \"ak42\") is not supported; export with "
          "--version 0 (legacy)",
          p);
  }
  if (size < kHeaderBytes)
    Fail(
        "%s: unknown model format (not GGUF, safetensors, a folder, or a llama2.c checkpoint: only %zu "
        "bytes)",
        p, size);
  int32_t h[7];
  std::memcpy(h, map->data(), sizeof(h));
  Llama2cHeader& c = s.llama2c_;
  c.dim = h[0], c.hidden_dim = h[1], c.n_layers = h[2], c.n_heads = h[3], c.n_kv_heads = h[4];
  c.vocab_size = h[5], c.seq_len = h[6];
  c.shared_classifier = c.vocab_size > 0;
  if (c.vocab_size < 0 && c.vocab_size != INT32_MIN) c.vocab_size = -c.vocab_size;

  struct Field {
    const char* name;
    int32_t v;
    int32_t max;
    int off;
  };
  const Field fields[] = {{"dim", c.dim, 1 << 16, 0},
                          {"hidden_dim", c.hidden_dim, 1 << 18, 4},
                          {"n_layers", c.n_layers, 1024, 8},
                          {"n_heads", c.n_heads, 1024, 12},
                          {"n_kv_heads", c.n_kv_heads, 1024, 16},
                          {"vocab_size", c.vocab_size, 1 << 22, 20},
                          {"seq_len", c.seq_len, 1 << 24, 24}};
  for (const Field& f : fields)
    if (f.v <= 0 || f.v > f.max)
      Fail(
          "%s: offset %d: llama2.c header field %s = %d is outside 1..%d (is this a llama2.c checkpoint? "
          "GGUF, safetensors and HF folders are detected by content)",
          p, f.off, f.name, f.v, f.max);
  if (c.dim % c.n_heads != 0)
    Fail("%s: llama2.c header: n_heads %d does not divide dim %d", p, c.n_heads, c.dim);
  if (c.n_heads % c.n_kv_heads != 0)
    Fail("%s: llama2.c header: n_kv_heads %d does not divide n_heads %d", p, c.n_kv_heads, c.n_heads);

  const int64_t dim = c.dim, hidden = c.hidden_dim, n_layers = c.n_layers, vocab = c.vocab_size;
  const int64_t head_size = dim / c.n_heads, kv_dim = dim * c.n_kv_heads / c.n_heads;
  // Every count below is < 2^16 * 2^22 per array and there are few arrays: int64 cannot overflow.
  const int64_t per_layer = dim + dim * dim + 2 * kv_dim * dim + dim * dim + dim + 3 * hidden * dim;
  const int64_t n_floats = vocab * dim + n_layers * per_layer + dim +
                           int64_t{c.seq_len} * (head_size / 2) * 2 + (c.shared_classifier ? 0 : vocab * dim);
  const uint64_t need = kHeaderBytes + static_cast<uint64_t>(n_floats) * 4;
  if (size < need)
    Fail(
        "%s: llama2.c checkpoint is truncated: header (dim %d, hidden %d, layers %d, vocab %d, seq %d) needs "
        "%llu bytes, file has %zu",
        p, c.dim, c.hidden_dim, c.n_layers, c.vocab_size, c.seq_len, static_cast<unsigned long long>(need),
        size);

  const float* base = reinterpret_cast<const float*>(map->data() + kHeaderBytes);
  int64_t at = 0;  // float index of the next array
  auto view = [&](std::string name, int64_t ne0, int64_t ne1, int64_t offset) {
    TensorView t;
    t.name = std::move(name);
    t.type = DType::kF32;
    t.n_dims = ne1 == 1 ? 1 : 2;
    t.ne[0] = ne0;
    t.ne[1] = ne1;
    t.data = base + offset;
    t.nbytes = static_cast<size_t>(ne0 * ne1) * 4;
    AddTensor(s, std::move(t), path);
  };
  // Adds one [n_layers, rows, cols] array as per-layer 2-D views {cols, rows}.
  auto layered = [&](const char* suffix, int64_t rows, int64_t cols) {
    for (int64_t l = 0; l < n_layers; ++l)
      view("blk." + std::to_string(l) + "." + suffix, cols, rows, at + l * rows * cols);
    at += n_layers * rows * cols;
  };
  view("token_embd.weight", dim, vocab, at);
  at += vocab * dim;
  layered("attn_norm.weight", 1, dim);
  layered("attn_q.weight", dim, dim);
  layered("attn_k.weight", kv_dim, dim);
  layered("attn_v.weight", kv_dim, dim);
  layered("attn_output.weight", dim, dim);
  layered("ffn_norm.weight", 1, dim);
  layered("ffn_gate.weight", hidden, dim);  // w1
  layered("ffn_down.weight", dim, hidden);  // w2
  layered("ffn_up.weight", hidden, dim);    // w3
  view("output_norm.weight", dim, 1, at);
  at += dim;
  at += int64_t{c.seq_len} * (head_size / 2) * 2;  // freq_cis_real, freq_cis_imag
  if (!c.shared_classifier) view("output.weight", dim, vocab, at);

  // Tokenizer beside the checkpoint: the vocab-specific tok<N>.bin first (llama2.c's tinyllamas ship e.g.
  // tok512.bin beside a generic 32000-token tokenizer.bin), then tokenizer.bin.
  const std::string dir = DirOf(path);
  const std::string specific = dir + "/tok" + std::to_string(c.vocab_size) + ".bin";
  if (IsFile(specific))
    s.llama2c_tokenizer_path_ = specific;
  else if (IsFile(dir + "/tokenizer.bin"))
    s.llama2c_tokenizer_path_ = dir + "/tokenizer.bin";

  s.file_bytes_ = size;
  s.maps_.push_back(std::move(map));
  if (progress) progress(s.file_bytes_, s.file_bytes_);
}

}  // namespace seek
