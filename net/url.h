// Absolute http(s) URLs, as the outbound clients need them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mdmgw::net {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path + "?" + query; "/" when empty

  bool tls() const { return scheme == "https"; }
  // "host:port" form for Host headers and pool keys (brackets for IPv6).
  std::string HostPort() const;
};

// Parses "http://host[:port][/path][?query]" or https. Userinfo and fragments are refused.
Result<Url> ParseUrl(std::string_view text);

}  // namespace mdmgw::net
