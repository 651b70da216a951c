// libFuzzer entry point for the safetensors parser: any input must parse or throw seek::Error.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = seek::SafetensorsFile::FromMemory(data, size, "fuzz.safetensors");
    volatile uint8_t sink = 0;
    for (const seek::TensorView& t : f->tensors()) {
      const auto* p = static_cast<const uint8_t*>(t.data);
      if (t.nbytes) sink = sink ^ p[0] ^ p[t.nbytes - 1];
    }
    (void)sink;
  } catch (const seek::Error&) {
  }
  return 0;
}
