// libFuzzer entry for the server's request parsers: the input is an HTTP body, given to every endpoint's
// parser (chat, completions, tokenize, detokenize). A request is either accepted or rejected with ApiError
// (which becomes OpenAI's error JSON with a 4xx); any other exception, a crash, a sanitizer report or a hang
// is a bug. Bodies are untrusted: this is the first code a remote client reaches after authentication.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/request.h"

namespace {
constexpr int32_t kVocab = 1000;  // bounds logit_bias keys and token ids, as a small model's vocabulary does
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace seek::server;
  try {
    ParseChatRequest(body, kVocab);
  } catch (const ApiError&) {
  }
  try {
    ParseCompletionRequest(body, kVocab);
  } catch (const ApiError&) {
  }
  try {
    ParseTokenizeRequest(body);
  } catch (const ApiError&) {
  }
  try {
    ParseDetokenizeRequest(body, kVocab);
  } catch (const ApiError&) {
  }
  return 0;
}
