#include "net/h2_client_connection.h"

#include "common/log.h"
#include "net/asio.h"

namespace mdmgw::net {
namespace {

using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Connection final : public H2ClientConnection, private H2ClientCodec::Listener {
 public:
  Connection(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls,
             const H2ClientConnectionOptions& options, Owner& owner)
      : ioc_(ioc),
        tls_(std::move(tls)),
        options_(options),
        owner_(owner),
        resolver_(ioc),
        stream_(ioc, *tls_),
        timer_(ioc),
        codec_(*this) {}

  void Connect() override {
    state_ = State::kConnecting;
    connect_deadline_ = Clock::now() + options_.connect_timeout;
    ArmTimer();
    auto self = Self();
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self](boost::system::error_code ec, tcp::resolver::results_type results) {
          if (self->state_ != State::kConnecting) return;
          if (ec)
            return self->Fail(
                Status::Unavailable("resolve " + self->options_.host + ": " + ec.message()), false);
          asio::async_connect(self->stream_.next_layer(), results,
                              [self](boost::system::error_code ec, const tcp::endpoint&) {
                                self->OnTcpConnected(ec);
                              });
        });
  }

  bool Submit(H2ClientRequest request, uint64_t tag) override {
    if (!accepting()) return false;
    request.authority = authority_;
    auto id = codec_.Submit(request, tag);
    return id.ok();
  }

  void Flush() override {
    if (writing_ || write_broken_ || state_ == State::kClosed || state_ == State::kConnecting)
      return;
    Status s = codec_.Drain(&pending_);
    if (!s.ok()) return Fail(s, false);
    if (pending_.empty()) {
      if (closing_when_idle_ && codec_.open_streams() == 0) Fail(Status::Ok(), false);
      return;
    }
    writing_ = true;
    out_.swap(pending_);
    pending_.clear();
    auto self = Self();
    asio::async_write(stream_, asio::buffer(out_), [self](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      self->out_.clear();
      if (self->state_ == State::kClosed) return;
      if (ec) {
        // Do not fail the streams yet: the server may have sent GOAWAY and answers that are
        // still unread. The read side ends the connection (EOF) after handling them, and a
        // silent peer is caught by the response timeout.
        self->write_broken_ = true;
        return;
      }
      self->Flush();
    });
  }

  void CloseWhenIdle() override {
    closing_when_idle_ = true;
    if (state_ == State::kOpen && codec_.open_streams() == 0 && !writing_) {
      Fail(Status::Ok(), false);
    } else if (state_ != State::kOpen && state_ != State::kClosed) {
      Fail(Status::Unavailable("closed before connecting"), false);
    }
  }

  void Close(const Status& why) override { Fail(why, false); }

  bool connected() const override { return state_ == State::kOpen; }
  bool accepting() const override {
    return state_ == State::kOpen && !closing_when_idle_ && !codec_.goaway_received();
  }
  size_t open_streams() const override { return codec_.open_streams(); }
  uint32_t peer_max_concurrent_streams() const override {
    return codec_.peer_max_concurrent_streams();
  }
  uint64_t responses() const override { return responses_; }
  const asio::ssl::context* tls_context() const override { return tls_.get(); }

 private:
  enum class State { kIdle, kConnecting, kOpen, kClosed };

  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }

  void OnTcpConnected(boost::system::error_code ec) {
    if (state_ != State::kConnecting) return;
    if (ec) {
      return Fail(Status::Unavailable("connect " + options_.host + ":" +
                                      std::to_string(options_.port) + ": " + ec.message()),
                  false);
    }
    stream_.next_layer().set_option(tcp::no_delay(true));
    SSL* ssl = stream_.native_handle();
    SSL_set_tlsext_host_name(ssl, options_.host.c_str());
    SSL_set1_host(ssl, options_.host.c_str());
    auto self = Self();
    stream_.async_handshake(asio::ssl::stream_base::client,
                            [self](boost::system::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(boost::system::error_code ec) {
    if (state_ != State::kConnecting) return;
    if (ec) {
      return Fail(Status::Unavailable("TLS handshake with " + options_.host + ": " + ec.message()),
                  true);
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &alpn, &alpn_len);
    if (std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) != "h2") {
      return Fail(Status::Unavailable(options_.host + " did not agree to HTTP/2 (ALPN h2)"), false);
    }
    authority_ =
        options_.port == 443 ? options_.host : options_.host + ":" + std::to_string(options_.port);
    Status s = codec_.Start();
    if (!s.ok()) return Fail(s, false);
    state_ = State::kOpen;
    last_read_ = Clock::now();
    owner_.OnConnected(*this);
    Flush();
    DoRead();
  }

  void DoRead() {
    auto self = Self();
    stream_.async_read_some(
        asio::buffer(read_buf_, sizeof read_buf_),
        [self](boost::system::error_code ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (state_ != State::kOpen) return;
    if (ec) {
      return Fail(Status::Unavailable("APNs connection closed: " + ec.message(), "transport"),
                  false);
    }
    last_read_ = Clock::now();
    ping_sent_ = false;
    Status s = codec_.Receive(read_buf_, n);
    if (state_ != State::kOpen) return;  // an owner callback closed us
    if (!s.ok()) {
      Flush();
      return Fail(s, false);
    }
    owner_.OnCapacity(*this);
    if (state_ != State::kOpen) return;
    Flush();
    if (state_ != State::kOpen) return;
    if (codec_.Finished() && !writing_) return Fail(Status::Ok(), false);
    DoRead();
  }

  // The one timer: connect deadline, idle PING, PING timeout, response timeout. Ticks once a
  // second at most, so per-request work stays free of timer operations.
  void ArmTimer() {
    timer_.expires_after(std::chrono::seconds(1));
    auto self = Self();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec || self->state_ == State::kClosed) return;
      self->OnTick();
      if (self->state_ != State::kClosed) self->ArmTimer();
    });
  }

  void OnTick() {
    auto now = Clock::now();
    if (state_ == State::kConnecting) {
      if (now >= connect_deadline_) {
        Fail(Status::Timeout("connecting to " + options_.host + " timed out"), false);
      }
      return;
    }
    if (state_ != State::kOpen) return;
    auto quiet = now - last_read_;
    if (codec_.open_streams() > 0 && quiet >= options_.response_timeout) {
      return Fail(Status::Timeout("APNs stopped answering", "timeout"), false);
    }
    if (ping_sent_ && now - ping_sent_at_ >= options_.ping_timeout) {
      return Fail(Status::Timeout("APNs did not answer PING", "timeout"), false);
    }
    if (!ping_sent_ && quiet >= options_.ping_after_idle) {
      ping_sent_ = true;
      ping_sent_at_ = now;
      codec_.SubmitPing();
      Flush();
    }
  }

  // Ends the connection once: reports every open stream, then OnClosed. |why| OK = clean close.
  void Fail(const Status& why, bool handshake_failed) {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    boost::system::error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
    Status error = why.ok() ? Status::Unavailable("connection closed", "transport") : why;
    auto self = Self();  // owner callbacks may drop the last reference
    for (uint64_t tag : codec_.OpenTags()) owner_.OnStreamFailed(*this, tag, error, false);
    owner_.OnClosed(*this, why, handshake_failed);
  }

  // H2ClientCodec::Listener
  void OnResponse(uint64_t tag, H2ClientResponse response) override {
    ++responses_;
    owner_.OnResponse(*this, tag, std::move(response));
  }
  void OnStreamFailed(uint64_t tag, uint32_t error_code, bool unprocessed) override {
    owner_.OnStreamFailed(*this, tag,
                          Status::Unavailable(std::string("HTTP/2 stream reset: ") +
                                                  nghttp2_http2_strerror(error_code),
                                              unprocessed ? "refused" : "reset"),
                          unprocessed);
  }
  void OnGoaway(int32_t last_stream_id, uint32_t error_code, std::string debug) override {
    owner_.OnGoaway(*this, last_stream_id, error_code, debug);
  }

  asio::io_context& ioc_;
  std::shared_ptr<asio::ssl::context> tls_;
  H2ClientConnectionOptions options_;
  Owner& owner_;
  tcp::resolver resolver_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  H2ClientCodec codec_;
  State state_ = State::kIdle;
  std::string authority_;
  std::string pending_;  // drained, not yet written
  std::string out_;      // being written
  bool writing_ = false;
  bool write_broken_ = false;
  bool closing_when_idle_ = false;
  Clock::time_point connect_deadline_;
  Clock::time_point last_read_;
  bool ping_sent_ = false;
  Clock::time_point ping_sent_at_;
  uint64_t responses_ = 0;
  uint8_t read_buf_[32 << 10];
};

}  // namespace

std::shared_ptr<H2ClientConnection> H2ClientConnection::Create(
    asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls,
    const H2ClientConnectionOptions& options, Owner& owner) {
  return std::make_shared<Connection>(ioc, std::move(tls), options, owner);
}

}  // namespace mdmgw::net
