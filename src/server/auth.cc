#include "server/auth.h"

#include <cctype>
#include <fstream>

#include "core/error.h"

namespace seek::server {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

ApiKeys::ApiKeys(std::vector<std::string> keys) {
  for (auto& k : keys) Add(std::move(k));
}

void ApiKeys::Add(std::string key) {
  if (key.empty()) Fail("an API key must not be empty");
  keys_.push_back(std::move(key));
}

void ApiKeys::AddFromFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) Fail("%s: cannot read the API key file", path.c_str());
  std::string line;
  size_t added = 0;
  while (std::getline(f, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t i = 0;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    line.erase(0, i);
    if (line.empty() || line[0] == '#') continue;
    Add(line);
    ++added;
  }
  if (added == 0) Fail("%s: no API key in the file", path.c_str());
}

bool ApiKeys::Check(std::string_view authorization) const {
  if (keys_.empty()) return true;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  bool ok = false;
  for (const std::string& k : keys_) ok |= ConstantTimeEquals(token, k);
  return ok;
}

}  // namespace seek::server
