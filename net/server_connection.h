// Internal to net/: the pieces shared by the HTTP/2 and HTTP/1.1 server sessions.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/metrics.h"
#include "net/asio.h"
#include "net/response.h"
#include "net/server.h"

namespace mdmgw::net {

class ServerConnection;

// State every connection of one server shares. Outlives all connections (the server waits for
// them).
struct ServerShared {
  RequestHandler& handler;
  ServerLimits limits;
  bool client_ca_configured = false;
  metrics::Gauge* open_connections = nullptr;
  std::atomic<int> connection_count{0};
  std::atomic<bool> shutting_down{false};

  // Live protocol sessions, so shutdown can reach each one.
  std::mutex mu;
  std::unordered_map<ServerConnection*, std::weak_ptr<ServerConnection>>
      sessions;  // GUARDED_BY(mu)

  ServerShared(RequestHandler& h, const ServerLimits& l) : handler(h), limits(l) {}
};

// Counts one open connection from accept to close (moved from the handshake into the session).
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ServerShared& shared) : shared_(&shared) {
    shared_->connection_count.fetch_add(1);
    if (shared_->open_connections) shared_->open_connections->Add(1);
  }
  ConnectionSlot(ConnectionSlot&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (shared_ == nullptr) return;
    if (shared_->open_connections) shared_->open_connections->Add(-1);
    shared_->connection_count.fetch_sub(1);
  }

 private:
  ServerShared* shared_;
};

// Base of the protocol sessions: owns the TLS stream, the deadline timer and the connection slot.
// All members are touched only on the connection's thread (the socket's single-threaded
// io_context), so they need no lock.
class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(ServerShared& shared, std::unique_ptr<TlsStream> stream, ConnectionSlot slot,
                   Request prototype);
  virtual ~ServerConnection();

  // Registers with the server and starts serving. REQUIRES: on the connection's thread.
  void Run();
  // Graceful stop requested by the server; safe from any thread (posts to the connection's thread).
  void RequestShutdown();

 protected:
  virtual void Start() = 0;
  virtual void OnShutdown() = 0;
  // The deadline passed. Default: close at once. Sessions may say goodbye first (h2: GOAWAY).
  virtual void OnTimeout() { CloseNow(); }

  // (Re)sets the connection deadline; when it passes, the connection is closed.
  void SetDeadline(std::chrono::milliseconds from_now);
  // Stops I/O, cancels pending reads, sends TLS close_notify (bounded wait) and closes. Call only
  // with no write in progress. Idempotent.
  void CloseGracefully();
  // Closes the socket at once. Idempotent.
  void CloseNow();
  // Closes the socket with SO_LINGER 0, so the peer sees a reset (Response::abort_connection).
  void AbortNow();
  // True once either close has begun: no further I/O may start.
  bool closed() const { return closed_; }
  auto executor() { return stream_->get_executor(); }

  ServerShared& shared_;
  std::unique_ptr<TlsStream> stream_;
  Request prototype_;

 private:
  void OnDeadline(boost::system::error_code ec);
  void ArmTimer();
  void CloseSocket();

  ConnectionSlot slot_;
  // Lazy deadline: SetDeadline() only records |deadline_at_| when it moves later (the common case,
  // on every read and write); the timer is re-armed only when it must fire earlier. When the timer
  // fires before |deadline_at_|, it re-arms for the recorded time.
  asio::steady_timer deadline_;
  asio::steady_timer::time_point deadline_at_ = asio::steady_timer::time_point::max();
  bool timer_armed_ = false;
  bool closed_ = false;         // no more I/O
  bool socket_closed_ = false;  // the socket itself is closed
};

// Session factories (defined in h2_server_session.cc / h1_server_session.cc).
std::shared_ptr<ServerConnection> MakeH2Session(ServerShared& shared,
                                                std::unique_ptr<TlsStream> stream,
                                                ConnectionSlot slot, Request prototype);
std::shared_ptr<ServerConnection> MakeH1Session(ServerShared& shared,
                                                std::unique_ptr<TlsStream> stream,
                                                ConnectionSlot slot, Request prototype);

}  // namespace mdmgw::net
