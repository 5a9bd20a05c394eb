#include "net/server.h"

#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "net/io_loop.h"
#include "net/server_connection.h"
#include "net/tls_context.h"

namespace mdmgw::net {

// Threading: one io_context per I/O thread, each run by exactly that thread, and every connection
// bound to one of them (round robin at accept). A connection's handlers therefore always run on
// the same thread, which serialises them without a strand, and threads share no scheduler lock
// (the nginx worker model). Responses computed elsewhere are posted to the connection's context.
class Server::Impl {
 public:
  Impl(const ServerOptions& options, RequestHandler& handler,
       std::shared_ptr<asio::ssl::context> tls)
      : options_(options), tls_(std::move(tls)), shared_(handler, options.limits) {
    shared_.client_ca_configured = !options.client_ca_file.empty();
    shared_.open_connections = options.open_connections;
    int n = options_.threads > 0
                ? options_.threads
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) iocs_.push_back(std::make_unique<asio::io_context>(1));
    acceptor_.emplace(*iocs_[0]);
  }

  Status Start() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return Status::InvalidArgument("listen address '" + options_.host + "': " + ec.message());
    tcp::endpoint endpoint(address, options_.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    DoAccept();
    for (auto& ioc : iocs_) {
      // Without outstanding work a context's run() returns at once; keep each alive until Shutdown.
      work_.push_back(asio::make_work_guard(*ioc));
      threads_.emplace_back([ioc = ioc.get()] {
        ScopedIoLoop mark(ioc);
        ioc->run();
      });
    }
    return Status::Ok();
  }

  void Shutdown(std::chrono::milliseconds grace) {
    if (threads_.empty()) return;
    shared_.shutting_down.store(true);
    asio::post(acceptor_->get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_->close(ignored);
    });
    std::vector<std::shared_ptr<ServerConnection>> live;
    {
      std::lock_guard lock(shared_.mu);
      for (auto& [ptr, weak] : shared_.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->RequestShutdown();
    live.clear();
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (shared_.connection_count.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    int left = shared_.connection_count.load();
    if (left > 0) {
      log::Warn("shutdown grace period over; cutting connections", {{"connections", left}});
    }
    work_.clear();
    for (auto& ioc : iocs_) ioc->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  void WaitForSignal() {
    asio::io_context signal_ioc;
    asio::signal_set signals(signal_ioc, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&](boost::system::error_code, int sig) { received = sig; });
    signal_ioc.run();
    log::Info("signal received; shutting down",
              {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  }

  uint16_t port() const { return port_; }
  size_t open_connections() const { return static_cast<size_t>(shared_.connection_count.load()); }

 private:
  void DoAccept() {
    asio::io_context& target = *iocs_[next_++ % iocs_.size()];
    acceptor_->async_accept(target, [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      if (!ec) OnAccept(std::move(socket));
      DoAccept();
    });
  }

  void OnAccept(tcp::socket socket) {
    if (shared_.connection_count.load() >= options_.limits.max_connections ||
        shared_.shutting_down.load()) {
      if (options_.refused_connections) options_.refused_connections->Inc();
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    Request prototype;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) {
      prototype.remote_address = remote.address().to_string() + ":" + std::to_string(remote.port());
    }
    auto stream = std::make_unique<TlsStream>(std::move(socket), *tls_);
    auto executor = stream->get_executor();
    auto handshake = std::make_shared<Handshake>(shared_, std::move(stream),
                                                 ConnectionSlot(shared_), std::move(prototype));
    // Start on the connection's own thread.
    asio::post(executor, [handshake] { handshake->Run(); });
  }

  // Drives the TLS handshake (bounded by handshake_timeout), then hands the stream to the session
  // for the negotiated protocol. Garbage instead of a ClientHello fails here and the socket closes.
  class Handshake : public std::enable_shared_from_this<Handshake> {
   public:
    Handshake(ServerShared& shared, std::unique_ptr<TlsStream> stream, ConnectionSlot slot,
              Request prototype)
        : shared_(shared),
          stream_(std::move(stream)),
          slot_(std::move(slot)),
          prototype_(std::move(prototype)),
          timer_(stream_->get_executor()) {}

    void Run() {
      timer_.expires_after(shared_.limits.handshake_timeout);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
          boost::system::error_code ignored;
          self->stream_->lowest_layer().close(ignored);
        }
      });
      stream_->async_handshake(
          asio::ssl::stream_base::server,
          [self = shared_from_this()](boost::system::error_code ec) { self->OnHandshake(ec); });
    }

   private:
    void OnHandshake(boost::system::error_code ec) {
      timer_.cancel();
      if (ec) {
        log::Debug("TLS handshake failed",
                   {{"remote", prototype_.remote_address}, {"error", ec.message()}});
        boost::system::error_code ignored;
        stream_->lowest_layer().close(ignored);
        return;
      }
      SSL* ssl = stream_->native_handle();
      prototype_.peer_certificate = CapturePeerCertificate(ssl, shared_.client_ca_configured);
      std::shared_ptr<ServerConnection> session;
      if (SelectedAlpn(ssl) == "h2") {
        session =
            MakeH2Session(shared_, std::move(stream_), std::move(slot_), std::move(prototype_));
      } else {
        session =
            MakeH1Session(shared_, std::move(stream_), std::move(slot_), std::move(prototype_));
      }
      session->Run();
    }

    ServerShared& shared_;
    std::unique_ptr<TlsStream> stream_;
    ConnectionSlot slot_;
    Request prototype_;
    asio::steady_timer timer_;
  };

  // Order matters: handlers still queued in ioc_ hold sessions that use shared_ and tls_ when the
  // io_context destroys them, so those are declared (and outlive) it.
  ServerOptions options_;
  std::shared_ptr<asio::ssl::context> tls_;
  ServerShared shared_;
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;  // on iocs_[0]; destroyed before the contexts
  std::vector<std::thread> threads_;
  size_t next_ = 0;  // only touched on iocs_[0]'s thread
  uint16_t port_ = 0;
};

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                               RequestHandler& handler) {
  auto tls = MakeServerTlsContext({options.tls_cert_file, options.tls_key_file,
                                   options.client_ca_file, options.require_client_certificate});
  if (!tls.ok()) return tls.status();
  return std::unique_ptr<Server>(
      new Server(std::make_unique<Impl>(options, handler, std::move(tls).value())));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { impl_->Shutdown(std::chrono::milliseconds(0)); }

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
size_t Server::open_connections() const { return impl_->open_connections(); }
void Server::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }

void Server::WaitForSignalThenShutdown(std::chrono::milliseconds grace) {
  impl_->WaitForSignal();
  impl_->Shutdown(grace);
}

}  // namespace mdmgw::net
