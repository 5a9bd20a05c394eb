// H2ServerSession: moves bytes between the TLS stream and an H2ServerCodec, dispatches complete
// requests to the handler and writes responses, batching everything ready into one TLS write.
//
// Deadlines: idle_timeout while no stream is open, read_timeout while any request is still arriving
// (refreshed on every read and write), handler_timeout while every open request is with its
// handler. A response that cannot move (the peer keeps its flow-control window shut) also has
// read_timeout, counted from its last progress: reads do not extend it, so a slow reader that keeps
// the connection busy with PINGs is still cut off. Shutdown: GOAWAY, open streams finish, then
// close_notify.
#include <optional>
#include <vector>

#include "common/log.h"
#include "net/h2_server_codec.h"
#include "net/server_connection.h"

namespace mdmgw::net {
namespace {

class H2ServerSession final : public ServerConnection, public H2ServerCodec::Listener {
 public:
  H2ServerSession(ServerShared& shared, std::unique_ptr<TlsStream> stream, ConnectionSlot slot,
                  Request prototype)
      : ServerConnection(shared, std::move(stream), std::move(slot), std::move(prototype)),
        codec_(H2Limits{shared.limits.max_concurrent_streams, shared.limits.max_header_bytes,
                        shared.limits.initial_max_concurrent_streams},
               *this, prototype_) {}

 protected:
  void Start() override {
    Status s = codec_.Start();
    if (!s.ok()) {
      CloseNow();
      return;
    }
    Flush();
    DoRead();
  }

  void OnShutdown() override {
    if (shutdown_started_) return;
    shutdown_started_ = true;
    codec_.StartShutdown();
    Flush();
  }

  void OnTimeout() override {
    if (goaway_on_idle_sent_ || codec_.open_streams() > 0 || writing_) {
      CloseNow();  // a stalled request or write, or the goodbye itself timed out
      return;
    }
    // Idle: say goodbye with GOAWAY(NO_ERROR) like nginx, then close once it is written.
    goaway_on_idle_sent_ = true;
    codec_.StartShutdown();
    SetDeadline(std::chrono::milliseconds(2000));
    Flush();
  }

  // H2ServerCodec::Listener
  uint64_t BodyLimit(const Request& headers_only) override {
    return shared_.handler.MaxBodyBytes(headers_only);
  }
  void OnRequest(int32_t stream_id, std::unique_ptr<Request> request) override {
    ready_.emplace_back(stream_id, std::move(request));
  }

 private:
  std::shared_ptr<H2ServerSession> self() {
    return std::static_pointer_cast<H2ServerSession>(shared_from_this());
  }

  void ArmDeadline() {
    if (stalled_since_) {
      auto left = *stalled_since_ + shared_.limits.read_timeout - std::chrono::steady_clock::now();
      SetDeadline(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                           std::chrono::milliseconds(1)));
      return;
    }
    size_t open = codec_.open_streams();
    if (open > 0 && codec_.dispatched_streams() == open) {
      // Every open request is with its handler: the peer owes nothing, so read_timeout does not
      // apply; handler_timeout does, counted from when the wait began (PINGs do not extend it).
      if (!handler_wait_since_) handler_wait_since_ = std::chrono::steady_clock::now();
      auto left =
          *handler_wait_since_ + shared_.limits.handler_timeout - std::chrono::steady_clock::now();
      SetDeadline(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                           std::chrono::milliseconds(1)));
      return;
    }
    handler_wait_since_.reset();
    SetDeadline(open == 0 ? shared_.limits.idle_timeout : shared_.limits.read_timeout);
  }

  // After each drain: is a queued response stuck (no progress since the last look)?
  void TrackResponseProgress() {
    if (codec_.responding_streams() == 0) {
      stalled_since_.reset();
      return;
    }
    uint64_t progress = codec_.response_progress();
    if (!stalled_since_ || progress != last_progress_) {
      last_progress_ = progress;
      stalled_since_ = std::chrono::steady_clock::now();
    }
  }

  void DoRead() {
    ArmDeadline();
    stream_->async_read_some(
        asio::buffer(read_buf_),
        [self = self()](boost::system::error_code ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (closed()) return;
    if (ec) {
      CloseNow();  // peer closed, reset, or deadline passed
      return;
    }
    Status s = codec_.Receive(read_buf_.data(), n);
    DispatchReady();
    if (!s.ok()) {
      log::Debug("h2 connection error",
                 {{"remote", prototype_.remote_address}, {"error", s.message()}});
      broken_ = true;  // flush what nghttp2 queued (GOAWAY), then close
      Flush();
      return;
    }
    Flush();
    if (!closed()) DoRead();
  }

  void DispatchReady() {
    in_dispatch_ = true;
    // Handlers may answer inline (they append to nghttp2's queue); one Flush() sends them all.
    for (size_t i = 0; i < ready_.size(); ++i) {
      auto [stream_id, request] = std::move(ready_[i]);
      shared_.handler.Handle(std::move(request), MakeRespond(stream_id));
    }
    ready_.clear();
    in_dispatch_ = false;
  }

  Respond MakeRespond(int32_t stream_id) {
    return [self = self(), stream_id](Response response) {
      asio::dispatch(self->executor(), [self, stream_id, response = std::move(response)]() mutable {
        if (self->closed()) return;
        if (response.abort_connection) return self->AbortNow();
        self->codec_.SubmitResponse(stream_id, std::move(response));
        if (!self->in_dispatch_) self->Flush();
      });
    };
  }

  void Flush() {
    if (writing_ || closed()) return;
    out_.clear();
    Status s = codec_.Drain(&out_);
    if (!s.ok()) broken_ = true;
    TrackResponseProgress();
    if (out_.empty()) {
      if (broken_ || codec_.Finished()) CloseGracefully();
      return;
    }
    writing_ = true;
    asio::async_write(*stream_, asio::buffer(out_),
                      [self = self()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(boost::system::error_code ec) {
    writing_ = false;
    if (closed()) return;
    if (ec) {
      CloseNow();
      return;
    }
    if (!broken_) ArmDeadline();
    Flush();
  }

  H2ServerCodec codec_;
  std::array<uint8_t, 16384> read_buf_{};
  std::string out_;
  std::vector<std::pair<int32_t, std::unique_ptr<Request>>> ready_;
  bool writing_ = false;
  bool in_dispatch_ = false;
  std::optional<std::chrono::steady_clock::time_point> stalled_since_;  // see TrackResponseProgress
  uint64_t last_progress_ = 0;
  std::optional<std::chrono::steady_clock::time_point> handler_wait_since_;  // see ArmDeadline
  bool broken_ = false;
  bool shutdown_started_ = false;
  bool goaway_on_idle_sent_ = false;
};

}  // namespace

std::shared_ptr<ServerConnection> MakeH2Session(ServerShared& shared,
                                                std::unique_ptr<TlsStream> stream,
                                                ConnectionSlot slot, Request prototype) {
  return std::make_shared<H2ServerSession>(shared, std::move(stream), std::move(slot),
                                           std::move(prototype));
}

}  // namespace mdmgw::net
