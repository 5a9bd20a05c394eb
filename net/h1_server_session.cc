// H1ServerSession: HTTP/1.1 over TLS with Beast. One request at a time (no pipelining), keep-alive.
//
// Reads the header first (limit: max_header_bytes → 431), asks the handler for the route's body
// limit (→ 413), then reads the body. Deadlines: idle_timeout while waiting for a request,
// read_timeout for the body and for writing the response, handler_timeout while the handler works.
#include <charconv>
#include <optional>

#include "net/server_connection.h"

namespace mdmgw::net {
namespace {

namespace http = beast::http;

class H1ServerSession final : public ServerConnection {
 public:
  using ServerConnection::ServerConnection;

 protected:
  void Start() override { ReadHeader(); }

  void OnShutdown() override {
    shutdown_requested_ = true;
    if (state_ == State::kAwaitingRequest) {
      CloseGracefully();  // between requests: nothing in flight
    }
    // Otherwise the response under way goes out with Connection: close.
  }

 private:
  enum class State { kAwaitingRequest, kReadingBody, kHandling, kWriting };

  std::shared_ptr<H1ServerSession> self() {
    return std::static_pointer_cast<H1ServerSession>(shared_from_this());
  }

  void ReadHeader() {
    state_ = State::kAwaitingRequest;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(shared_.limits.max_header_bytes));
    parser_->body_limit(std::numeric_limits<uint64_t>::max());  // set per route once headers are in
    SetDeadline(shared_.limits.idle_timeout);
    http::async_read_header(
        *stream_, buffer_, *parser_,
        [self = self()](boost::system::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(boost::system::error_code ec) {
    if (closed()) return;
    if (ec) {
      FailRead(ec);
      return;
    }
    auto& msg = parser_->get();
    request_ = std::make_unique<Request>(prototype_);
    request_->protocol = Protocol::kHttp11;
    request_->method = std::string(msg.method_string());
    std::string_view target(msg.target().data(), msg.target().size());
    size_t q = target.find('?');
    request_->path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request_->query = std::string(target.substr(q + 1));
    for (const auto& field : msg) {
      std::string name(field.name_string());
      if (field.name() == http::field::host) {
        request_->authority = std::string(field.value());
        continue;
      }
      request_->headers.Add(std::move(name), std::string(field.value()));
    }
    keep_alive_ = msg.keep_alive();
    uint64_t limit = shared_.handler.MaxBodyBytes(*request_);
    if (auto len = parser_->content_length(); len && *len > limit) {
      RejectAndClose(413, "body_too_large",
                     "request body exceeds " + std::to_string(limit) + " bytes");
      return;
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    state_ = State::kReadingBody;
    SetDeadline(shared_.limits.read_timeout);
    http::async_read(*stream_, buffer_, *parser_,
                     [self = self()](boost::system::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(boost::system::error_code ec) {
    if (closed()) return;
    if (ec == http::error::body_limit) {
      RejectAndClose(413, "body_too_large", "request body exceeds the limit for this route");
      return;
    }
    if (ec) {
      FailRead(ec);
      return;
    }
    Dispatch();
  }

  void FailRead(boost::system::error_code ec) {
    if (ec == http::error::header_limit) {
      RejectAndClose(431, "headers_too_large",
                     "request header block exceeds " +
                         std::to_string(shared_.limits.max_header_bytes) + " bytes");
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      RejectAndClose(400, "bad_request", "malformed HTTP/1.1 request: " + ec.message());
    } else {
      CloseNow();  // EOF, reset, deadline, or TLS failure: nothing to answer
    }
  }

  void Dispatch() {
    state_ = State::kHandling;
    request_->body = std::move(parser_->get().body());
    // The request is whole: the handler's time is bounded by handler_timeout, not read_timeout.
    SetDeadline(shared_.limits.handler_timeout);
    Respond respond = [self = self()](Response response) {
      asio::dispatch(self->executor(), [self, response = std::move(response)]() mutable {
        if (self->closed()) return;
        if (response.abort_connection) return self->AbortNow();
        self->Write(std::move(response));
      });
    };
    shared_.handler.Handle(std::move(request_), std::move(respond));
  }

  void RejectAndClose(int status, std::string_view code, std::string msg) {
    keep_alive_ = false;
    Write(Response::JsonError(status, code, msg));
  }

  void Write(Response response) {
    state_ = State::kWriting;
    bool keep = keep_alive_ && !shutdown_requested_ && !response.close_connection;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(response.status));
    for (auto& [n, v] : response.headers.fields()) res_.insert(n, v);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep);
    res_.prepare_payload();
    SetDeadline(shared_.limits.read_timeout);
    http::async_write(*stream_, res_, [self = self(), keep](boost::system::error_code ec, size_t) {
      self->OnWrite(ec, keep);
    });
  }

  void OnWrite(boost::system::error_code ec, bool keep) {
    if (closed()) return;
    if (ec) {
      CloseNow();
      return;
    }
    if (!keep) {
      CloseGracefully();
      return;
    }
    ReadHeader();
  }

  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Request> request_;
  http::response<http::string_body> res_;
  State state_ = State::kAwaitingRequest;
  bool keep_alive_ = true;
  bool shutdown_requested_ = false;
};

}  // namespace

std::shared_ptr<ServerConnection> MakeH1Session(ServerShared& shared,
                                                std::unique_ptr<TlsStream> stream,
                                                ConnectionSlot slot, Request prototype) {
  return std::make_shared<H1ServerSession>(shared, std::move(stream), std::move(slot),
                                           std::move(prototype));
}

}  // namespace mdmgw::net
