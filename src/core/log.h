// Minimal leveled logging to stderr. The CLI sets the level from -v / --quiet.
#pragma once

namespace seek {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace seek

#define SEEK_LOG_INFO(...) ::seek::Log(::seek::LogLevel::kInfo, __VA_ARGS__)
#define SEEK_LOG_WARN(...) ::seek::Log(::seek::LogLevel::kWarn, __VA_ARGS__)
#define SEEK_LOG_DEBUG(...) ::seek::Log(::seek::LogLevel::kDebug, __VA_ARGS__)
