// Structured logging: one JSON object per line on stderr ({"ts","level","msg", fields...}).
//
// Fields are an nlohmann::json object; a Secret<T> cannot be put in one (it has no to_json), so
// PushMagic, tokens and keys cannot be logged by accident. Check Enabled() before building costly
// fields on hot paths. Thread-safety: all functions are thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace mdmgw::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warn", "error", "off"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* out);

// Sets the minimum level written. Default: kInfo.
void SetLevel(Level level);
bool Enabled(Level level);

// Writes one line. |fields| must be a JSON object (or null for none).
void Write(Level level, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kError)) Write(Level::kError, msg, fields);
}

}  // namespace mdmgw::log
