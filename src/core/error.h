// Errors. Loading and parsing code throws seek::Error with a message that names the file, the offset or the
// field; the CLI and server turn it into a clear message and a non-zero exit or a 4xx. Hot paths never throw.
// SEEK_CHECK guards internal invariants (programming errors) and aborts.
#pragma once
#include <stdexcept>
#include <string>

namespace seek {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// printf-style formatting into a std::string.
std::string StrFormat(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Throws seek::Error with a printf-style message.
[[noreturn]] void Fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void CheckFailed(const char* file, int line, const char* cond);

}  // namespace seek

#define SEEK_CHECK(cond)                                          \
  do {                                                            \
    if (!(cond)) ::seek::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)
