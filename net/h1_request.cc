#include "net/h1_request.h"

#include <limits>

namespace mdmgw::net {

namespace http = beast::http;

void PrepareH1Parser(H1RequestParser& parser, uint64_t max_header_bytes) {
  parser.header_limit(static_cast<uint32_t>(
      std::min<uint64_t>(max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser.body_limit(std::numeric_limits<uint64_t>::max());  // set per route once headers are in
}

std::optional<uint64_t> SetH1BodyLimit(H1RequestParser& parser, uint64_t limit) {
  if (auto len = parser.content_length(); len && *len > limit) return std::nullopt;
  parser.body_limit(limit);
  return limit;
}

std::unique_ptr<Request> H1RequestFromHeader(const H1RequestParser::value_type& message,
                                             const Request& prototype) {
  auto request = std::make_unique<Request>(prototype);
  request->protocol = Protocol::kHttp11;
  request->method = std::string(message.method_string());
  std::string_view target(message.target().data(), message.target().size());
  size_t q = target.find('?');
  request->path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request->query = std::string(target.substr(q + 1));
  for (const auto& field : message) {
    if (field.name() == http::field::host) {
      request->authority = std::string(field.value());
      continue;
    }
    request->headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  return request;
}

std::optional<H1ReadError> ClassifyH1ReadError(boost::system::error_code ec,
                                               uint64_t max_header_bytes) {
  if (ec == http::error::header_limit)
    return H1ReadError{
        431, "headers_too_large",
        "request header block exceeds " + std::to_string(max_header_bytes) + " bytes"};
  if (ec == http::error::body_limit)
    return H1ReadError{413, "body_too_large", "request body exceeds the limit for this route"};
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return H1ReadError{400, "bad_request", "malformed HTTP/1.1 request: " + ec.message()};
  return std::nullopt;  // EOF, reset, deadline, or TLS failure: nothing to answer
}

}  // namespace mdmgw::net
