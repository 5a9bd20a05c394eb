// H1ServerSession: HTTP/1.1 over TLS with Beast. One request at a time (no pipelining), keep-alive.
//
// Reads the header first (limit: max_header_bytes → 431), asks the handler for the route's body
// limit (→ 413), then reads the body. Deadlines: idle_timeout while waiting for a request,
// read_timeout for the body and for writing the response, handler_timeout while the handler works.
#include <charconv>
#include <optional>

#include "net/h1_request.h"
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
    PrepareH1Parser(*parser_, shared_.limits.max_header_bytes);
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
    request_ = H1RequestFromHeader(parser_->get(), prototype_);
    keep_alive_ = parser_->get().keep_alive();
    uint64_t limit = shared_.handler.MaxBodyBytes(*request_);
    if (!SetH1BodyLimit(*parser_, limit)) {
      RejectAndClose(413, "body_too_large",
                     "request body exceeds " + std::to_string(limit) + " bytes");
      return;
    }
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
    if (ec) {
      FailRead(ec);
      return;
    }
    Dispatch();
  }

  void FailRead(boost::system::error_code ec) {
    if (auto error = ClassifyH1ReadError(ec, shared_.limits.max_header_bytes)) {
      RejectAndClose(error->status, error->code, std::move(error->message));
    } else {
      CloseNow();
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
  std::optional<H1RequestParser> parser_;
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
