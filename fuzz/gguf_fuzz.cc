// libFuzzer entry point for the GGUF parser: any input must parse or throw seek::Error, never crash, hang or
// allocate without bound. Also walks the parsed metadata and tensor views so ASan checks every range.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto g = seek::GgufFile::FromMemory(data, size, "fuzz.gguf");
    for (const std::string& k : g->keys()) {
      const seek::GgufValue* v = g->Find(k);
      if (v->type == seek::GgufType::kString && !v->str.empty()) (void)v->str[v->str.size() - 1];
    }
    volatile uint8_t sink = 0;
    for (const seek::TensorView& t : g->tensors()) {
      const auto* p = static_cast<const uint8_t*>(t.data);
      if (t.nbytes) sink = sink ^ p[0] ^ p[t.nbytes - 1];  // first and last byte must be inside the input
      (void)t.row_bytes();
    }
    (void)sink;
  } catch (const seek::Error&) {
  }
  return 0;
}
