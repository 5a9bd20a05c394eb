// net: the protocol-neutral HTTP model. A Request arrives over HTTP/2 or HTTP/1.1 and is answered
// with one Response; handlers never learn which protocol carried them.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdmgw::net {

// Header names are stored lowercase (HTTP/2 requires it; HTTP/1.1 names are folded on arrival).
class Headers {
 public:
  void Add(std::string name, std::string value);
  // Replaces every field named |name| with one.
  void Set(std::string name, std::string value);
  void Remove(std::string_view name);
  // The first value of |name| (case-insensitive), if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

enum class Protocol { kHttp11, kHttp2 };

// The TLS client certificate, when the peer presented one.
struct PeerCertificate {
  std::string der;           // the leaf certificate, DER
  bool verified = false;     // chains to a configured devices CA (false when no CA is configured)
  std::string verify_error;  // OpenSSL's reason when not verified
};

struct Request {
  std::string method;
  std::string path;   // without the query, as sent (percent-encoding kept)
  std::string query;  // after '?', raw; empty when none
  std::string authority;
  Headers headers;
  std::string body;
  Protocol protocol = Protocol::kHttp2;
  std::string remote_address;  // "ip:port"
  // Shared by every request of the connection (no per-request copy of the DER).
  std::shared_ptr<const PeerCertificate> peer_certificate;

  // Filled by the router: {name} segments of the matched route, and the route's pattern
  // (the metrics label, so paths with ids do not explode label cardinality).
  std::vector<std::pair<std::string, std::string>> path_params;
  std::string route;

  std::optional<std::string_view> PathParam(std::string_view name) const;
  // PathParam percent-decoded; "" when absent or badly escaped (no route takes an empty one).
  std::string DecodedPathParam(std::string_view name) const;
  // Decoded value of query parameter |name| (application/x-www-form-urlencoded rules).
  std::optional<std::string> QueryParam(std::string_view name) const;
};

// Decodes %XX escapes (and '+' as space when |plus_is_space|). Returns nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace mdmgw::net
