// API keys: `Authorization: Bearer KEY` checked in constant time against every configured key.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace seek::server {

// Compares two strings in time that depends only on their lengths' maximum, not on where they differ
// (a timing side channel would let a client guess a key byte by byte).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class ApiKeys {
 public:
  ApiKeys() = default;
  explicit ApiKeys(std::vector<std::string> keys);
  // Reads one key per line (blank lines and lines starting with '#' skipped). Throws seek::Error.
  void AddFromFile(const std::string& path);
  void Add(std::string key);

  bool enabled() const { return !keys_.empty(); }
  // True when no keys are configured, or `authorization` is "Bearer <one of the keys>" (scheme
  // case-insensitive). Every key is compared, so the time does not reveal which one matched.
  bool Check(std::string_view authorization) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace seek::server
