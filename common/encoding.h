// Byte encodings used across the gateway: base64 (standard and URL-safe), lowercase hex, and
// file helpers that keep secrets' permissions tight.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mdmgw {

std::string Base64Encode(std::string_view bytes);
// Accepts standard base64 with or without padding; ignores ASCII whitespace (PEM-style line
// breaks).
Result<std::string> Base64Decode(std::string_view text);
// RFC 4648 §5 alphabet, no padding: for tokens that travel in URLs and headers.
std::string Base64UrlEncode(std::string_view bytes);

std::string HexEncode(std::string_view bytes);
// RFC 3986 percent-encoding of everything but the unreserved ALPHA, DIGIT, '-', '.', '_', '~'
// (uppercase hex): query values and path segments, and OAuth1's encoding (RFC 5849 §3.6).
std::string PercentEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);

// Unix seconds as an RFC 3339 UTC timestamp ("2026-12-03T07:30:00Z").
std::string Rfc3339(int64_t unix_seconds);

// Reads a whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);
// Writes |content| to |path| atomically (temp file + rename) with the given mode (e.g. 0600).
Status WriteFileAtomic(const std::string& path, std::string_view content, int mode);

}  // namespace mdmgw
