// The HTTP/1.1 request reader's pure parts, shared by H1ServerSession and the h1_request fuzz
// target: Beast's parser set up with the server's limits, the parsed header turned into a
// net::Request, and a read error turned into the answer the client gets. No I/O here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.h"
#include "net/request.h"

namespace mdmgw::net {

using H1RequestParser = beast::http::request_parser<beast::http::string_body>;

// Sets |parser| up for one request: header block at most |max_header_bytes| (→ 431), body
// unbounded until the route's limit is known (SetH1BodyLimit, once the header is in).
void PrepareH1Parser(H1RequestParser& parser, uint64_t max_header_bytes);

// The route's body limit, after the header: nullopt when Content-Length already says the body is
// over it (the session answers 413 without reading it); otherwise the parser enforces it while
// the body arrives (a chunked body over it fails with http::error::body_limit → 413).
std::optional<uint64_t> SetH1BodyLimit(H1RequestParser& parser, uint64_t limit);

// The parsed header as a Request on top of |prototype| (the connection's facts: remote address,
// peer certificate): method, path and query split at the first '?', Host as the authority (as
// :authority on HTTP/2), every other field as a header. The body is moved in later.
std::unique_ptr<Request> H1RequestFromHeader(const H1RequestParser::value_type& message,
                                             const Request& prototype);

// What a failed read is answered with: 431 for a header block over the limit, 413 for a body over
// the route's limit, 400 for a malformed request; nullopt when there is nothing to answer (EOF,
// reset, deadline, TLS failure) and the connection is just closed.
struct H1ReadError {
  int status;
  std::string code;
  std::string message;
};
std::optional<H1ReadError> ClassifyH1ReadError(boost::system::error_code ec,
                                               uint64_t max_header_bytes);

}  // namespace mdmgw::net
