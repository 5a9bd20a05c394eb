#include "gateway/multipart.h"

#include <algorithm>
#include <cctype>

namespace mdmgw::gateway {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The value of parameter |key| in a header like `form-data; name="a"; filename="b"`.
std::string Param(std::string_view header, std::string_view key) {
  std::string lower = Lower(header);
  std::string needle = std::string(key) + "=";
  size_t pos = 0;
  while ((pos = lower.find(needle, pos)) != std::string::npos) {
    bool at_start = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ';
    size_t start = pos + needle.size();
    if (!at_start) {
      pos = start;
      continue;
    }
    if (start < header.size() && header[start] == '"') {
      size_t end = header.find('"', start + 1);
      if (end == std::string_view::npos) return "";
      return std::string(header.substr(start + 1, end - start - 1));
    }
    size_t end = header.find(';', start);
    return std::string(
        Trim(header.substr(start, end == std::string_view::npos ? end : end - start)));
  }
  return "";
}

Status Bad(std::string msg) { return Status::InvalidArgument(std::move(msg), "bad_multipart"); }

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  std::string lower = Lower(content_type);
  if (lower.rfind("multipart/form-data", 0) != 0) return std::nullopt;
  std::string boundary = Param(content_type, "boundary");
  if (boundary.empty()) return std::nullopt;
  return boundary;
}

Result<std::vector<FormPart>> ParseMultipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70)
    return Bad("multipart boundary missing or too long");
  std::string delimiter = "--" + std::string(boundary);
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return Bad("multipart body has no boundary line");
  std::vector<FormPart> parts;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return Bad("multipart boundary line not followed by CRLF");
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return Bad("multipart part without a header end");
    FormPart part;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Bad("malformed multipart part header");
      std::string name = Lower(Trim(line.substr(0, colon)));
      std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        part.name = Param(value, "name");
        part.filename = Param(value, "filename");
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    size_t content_start = headers_end + 4;
    size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return Bad("multipart part is not terminated");
    part.body = std::string(body.substr(content_start, next - content_start));
    if (part.name.empty()) return Bad("multipart part without a name");
    parts.push_back(std::move(part));
    pos = next + 2;
    if (parts.size() > 32) return Bad("too many multipart parts");
  }
}

}  // namespace mdmgw::gateway
