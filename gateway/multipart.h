// multipart/form-data (RFC 7578) bodies: what browsers and `curl -F` send when an admin uploads a
// certificate and its key as two files. Small enough to parse here; no Debian package offers a
// standalone parser (Beast has none).
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mdmgw::gateway {

struct FormPart {
  std::string name;      // Content-Disposition name
  std::string filename;  // may be empty
  std::string content_type;
  std::string body;
};

// The boundary parameter of a multipart Content-Type, or nullopt when |content_type| is not
// multipart/form-data.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

// Splits |body| into its parts. InvalidArgument (reason bad_multipart) on a malformed body.
Result<std::vector<FormPart>> ParseMultipart(std::string_view body, std::string_view boundary);

}  // namespace mdmgw::gateway
