#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

namespace mdmgw::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

// spdlog does the time stamp (UTC, in the pattern) and the thread-safe stderr write; the fields are
// rendered by nlohmann so that every value is escaped as JSON.
spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto* l = new spdlog::logger("mdmgw", sink);
    l->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ",%v})", spdlog::pattern_time_type::utc));
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

}  // namespace

bool ParseLevel(std::string_view text, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool Enabled(Level level) {
  return level != Level::kOff && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view msg, const nlohmann::json& fields) {
  // ordered_json keeps "level" and "msg" right after the time stamp, where people look first.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["level"] = LevelName(level);
  line["msg"] = msg;
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) {
      line[k] = v;
    }
  }
  // Replace invalid UTF-8 rather than throw: log text may come from untrusted input.
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // Strip the object's braces; the pattern adds them around the time stamp.
  std::string_view body(text);
  body.remove_prefix(1);
  body.remove_suffix(1);
  Logger().log(spdlog::level::info, "{}", body);
}

}  // namespace mdmgw::log
