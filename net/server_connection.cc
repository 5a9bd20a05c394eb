#include "net/server_connection.h"

namespace mdmgw::net {

ServerConnection::ServerConnection(ServerShared& shared, std::unique_ptr<TlsStream> stream,
                                   ConnectionSlot slot, Request prototype)
    : shared_(shared),
      stream_(std::move(stream)),
      prototype_(std::move(prototype)),
      slot_(std::move(slot)),
      deadline_(stream_->get_executor()) {}

ServerConnection::~ServerConnection() {
  std::lock_guard lock(shared_.mu);
  shared_.sessions.erase(this);
}

void ServerConnection::Run() {
  {
    std::lock_guard lock(shared_.mu);
    shared_.sessions.emplace(this, weak_from_this());
  }
  if (shared_.shutting_down.load()) {
    // Accepted just as shutdown began: serve nothing, close politely.
    CloseGracefully();
    return;
  }
  Start();
}

void ServerConnection::RequestShutdown() {
  asio::dispatch(executor(), [self = shared_from_this()] {
    if (!self->closed_) self->OnShutdown();
  });
}

void ServerConnection::SetDeadline(std::chrono::milliseconds from_now) {
  if (socket_closed_) return;
  deadline_at_ = asio::steady_timer::clock_type::now() + from_now;
  if (!timer_armed_ || deadline_at_ < deadline_.expiry()) {
    deadline_.expires_at(
        deadline_at_);  // cancels the pending wait, whose handler then does nothing
    ArmTimer();
  }
}

void ServerConnection::ArmTimer() {
  timer_armed_ = true;
  deadline_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->OnDeadline(ec); });
}

void ServerConnection::OnDeadline(boost::system::error_code ec) {
  if (ec == asio::error::operation_aborted) return;  // superseded by a newer wait, or closed
  timer_armed_ = false;
  if (socket_closed_) return;
  if (asio::steady_timer::clock_type::now() >= deadline_at_) {
    if (closed_) {
      CloseNow();  // the close_notify exchange itself ran out of time
    } else {
      OnTimeout();
    }
    return;
  }
  deadline_.expires_at(deadline_at_);  // the deadline moved later meanwhile
  ArmTimer();
}

void ServerConnection::CloseGracefully() {
  if (closed_) return;
  closed_ = true;
  // A pending read must finish before the TLS shutdown reads the peer's close_notify: cancel it and
  // start the shutdown from a fresh handler, after the cancelled read's completion is queued.
  boost::system::error_code ignored;
  stream_->lowest_layer().cancel(ignored);
  SetDeadline(std::chrono::milliseconds(2000));  // bound the wait for the peer's close_notify
  asio::post(executor(), [self = shared_from_this()] {
    if (self->socket_closed_) return;
    self->stream_->async_shutdown([self](boost::system::error_code) { self->CloseSocket(); });
  });
}

void ServerConnection::CloseNow() {
  closed_ = true;
  CloseSocket();
}

void ServerConnection::AbortNow() {
  closed_ = true;
  if (socket_closed_) return;
  socket_closed_ = true;
  deadline_.cancel();
  boost::system::error_code ignored;
  stream_->lowest_layer().set_option(tcp::socket::linger(true, 0), ignored);
  stream_->lowest_layer().close(ignored);
}

void ServerConnection::CloseSocket() {
  if (socket_closed_) return;
  socket_closed_ = true;
  deadline_.cancel();
  boost::system::error_code ignored;
  stream_->lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_->lowest_layer().close(ignored);
}

}  // namespace mdmgw::net
