// Byte encodings used across the gateway: base64 (standard and URL-safe), lowercase hex, and
// file helpers that keep secrets' permissions tight.
//
// Thread-safety: pure functions.
#pragma once

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
Result<std::string> HexDecode(std::string_view hex);

// Reads a whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);
// Writes |content| to |path| atomically (temp file + rename) with the given mode (e.g. 0600).
Status WriteFileAtomic(const std::string& path, std::string_view content, int mode);

}  // namespace mdmgw
