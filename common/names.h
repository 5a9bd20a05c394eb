// Names admins give to things that appear in URLs and logs (DEP servers and profiles, groups,
// device enrollment managers): 1–64 of A-Z a-z 0-9 . _ - and any |extra| characters.
#pragma once

#include <string_view>

namespace mdmgw {

inline bool IsPlainName(std::string_view name, std::string_view extra = "") {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace mdmgw
