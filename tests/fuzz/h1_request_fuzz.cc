// HTTP/1.1 requests from a client, as H1ServerSession reads them: Beast's parser with the
// gateway's header limit, the header turned into a Request, the route's body limit applied
// (Content-Length over it is refused up front, a chunked body over it fails while it arrives),
// the body read, and any error classified into the answer the client would get. Keep-alive
// requests follow one another on the connection; the input arrives in two pieces, as TCP may
// deliver it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/h1_request.h"

namespace {

namespace http = boost::beast::http;
using mdmgw::net::H1RequestParser;

constexpr uint64_t kMaxHeaderBytes = 16 << 10;

void CheckError(boost::system::error_code ec) {
  auto error = mdmgw::net::ClassifyH1ReadError(ec, kMaxHeaderBytes);
  if (error && (error->status < 400 || error->status > 499 || error->code.empty())) std::abort();
}

// Reads keep-alive requests from |first| then |second| (the two TCP reads) until the bytes run
// out or a request fails; returns how many arrived whole.
int ReadRequests(std::string_view first, std::string_view second) {
  std::string pending(first);
  bool second_fed = false;
  size_t offset = 0;
  int whole = 0;
  for (int requests = 0; requests < 64; ++requests) {
    H1RequestParser parser;
    mdmgw::net::PrepareH1Parser(parser, kMaxHeaderBytes);
    std::unique_ptr<mdmgw::net::Request> request;
    // Each put() consumes at least one byte or says need_more, so this loop ends; the bound is
    // only a guard for the fuzzer.
    for (int steps = 0; !parser.is_done() && steps < (1 << 20); ++steps) {
      boost::system::error_code ec;
      // With the bytes used up inside a body Beast's put() consumes nothing and reports no
      // error (its stream read loop reads more then); say need_more ourselves, as that loop
      // would, rather than spin here.
      if (offset == pending.size()) {
        ec = http::error::need_more;
      } else {
        offset +=
            parser.put(boost::asio::buffer(pending.data() + offset, pending.size() - offset), ec);
      }
      if (ec == http::error::need_more) {
        if (!second_fed) {
          pending.append(second);
          second_fed = true;
          continue;
        }
        parser.put_eof(ec);  // the peer is gone: what Beast says of a message cut short
        if (ec) CheckError(ec);
        return whole;
      }
      if (ec) {
        CheckError(ec);
        return whole;
      }
      if (parser.is_header_done() && !request) {
        request = mdmgw::net::H1RequestFromHeader(parser.get(), mdmgw::net::Request{});
        (void)request->QueryParam("wait");
        (void)request->headers.Get("content-type");
        // Routes take 1 KiB to 1 MiB; a small limit makes the fuzzer reach the 413 paths.
        uint64_t limit = request->path.size() % 2 == 0 ? 1024 : 64 << 10;
        if (!mdmgw::net::SetH1BodyLimit(parser, limit)) return whole;  // 413, connection closed
        parser.eager(true);
      }
    }
    if (!request || !parser.is_done()) return whole;
    request->body = std::move(parser.get().body());
    if (request->body.size() > (64 << 10)) std::abort();  // the limit was not enforced
    ++whole;
    if (!parser.get().keep_alive()) return whole;
  }
  return whole;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t half = size / 2;
  (void)ReadRequests(in.substr(0, half), in.substr(half));
  return 0;
}
