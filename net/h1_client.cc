#include "net/h1_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/crypto/openssl_ptr.h"
#include "net/asio.h"
#include "net/io_loop.h"
#include "net/url.h"

namespace mdmgw::net {
namespace {

namespace http = beast::http;
using SslStream = beast::ssl_stream<beast::tcp_stream>;

// One pooled connection: plain or TLS, with its read buffer (may hold bytes between exchanges).
struct Connection {
  std::string key;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<SslStream> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <typename Fn>
  void Visit(Fn&& fn) {
    if (tls) {
      fn(*tls);
    } else {
      fn(*plain);
    }
  }
};

// Idle keep-alive connections by key ("<client id>|scheme://host:port").
class IdlePool {
 public:
  std::unique_ptr<Connection> Take(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    return conn;
  }
  void Put(std::unique_ptr<Connection> conn, size_t max_per_key) {
    std::lock_guard lock(mu_);
    auto& list = idle_[conn->key];
    if (list.size() < max_per_key) list.push_back(std::move(conn));
  }
  void Clear() {
    std::lock_guard lock(mu_);
    idle_.clear();
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>>
      idle_;  // GUARDED_BY(mu_)
};

// The idle connections opened on a caller's loop (use_caller_loop) belong to that loop: kept in a
// service of its io_context, so they are closed when the loop is torn down — before the socket
// services they use — whether or not the client still exists.
class LoopIdlePool : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit LoopIdlePool(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}
  void shutdown() override { pool.Clear(); }
  IdlePool pool;
};
asio::execution_context::id LoopIdlePool::id;

std::atomic<uint64_t> next_client_id{1};

}  // namespace

// What exchanges need from their client. Shared so that an exchange running on a caller's loop
// stays valid if the client is destroyed meanwhile.
struct H1ClientShared {
  H1ClientShared(const H1ClientOptions& o)
      : options(o), tls(asio::ssl::context::tls_client), id(next_client_id.fetch_add(1)) {}
  H1ClientOptions options;
  asio::ssl::context tls;
  uint64_t id;
  std::atomic<uint64_t> opened{0};
  IdlePool own_idle;  // connections on the client's own io_context
};

class H1Client::Impl {
 public:
  explicit Impl(const H1ClientOptions& options)
      : shared_(std::make_shared<H1ClientShared>(options)) {}

  Status Init() {
    const H1ClientOptions& options_ = shared_->options;
    SSL_CTX* ctx = shared_->tls.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx);
    if (!options_.ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx, options_.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("CA file " + options_.ca_file + ": " +
                                     crypto::OpenSslErrors());
    }
    if (!options_.client_cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx, options_.client_cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, options_.client_key_file.c_str(), SSL_FILETYPE_PEM) !=
             1 ||
         SSL_CTX_check_private_key(ctx) != 1)) {
      return Status::InvalidArgument("client identity " + options_.client_cert_file + ": " +
                                     crypto::OpenSslErrors());
    }
    SSL_CTX_set_verify(ctx, options_.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    static const unsigned char kAlpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn) - 1);
    work_.emplace(asio::make_work_guard(ioc_));
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }

  ~Impl() {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    shared_->own_idle.Clear();  // their sockets belong to ioc_, destroyed next
  }

  void Send(ClientRequest request, Callback done);

  std::shared_ptr<H1ClientShared> shared_;
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

namespace {

// One request/response exchange. Lives as long as an operation holds it.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<H1ClientShared> client, asio::io_context& loop, bool own_loop,
           IdlePool& pool, Url url, ClientRequest request, H1Client::Callback done)
      : client_(std::move(client)),
        loop_(loop),
        own_loop_(own_loop),
        pool_(pool),
        url_(std::move(url)),
        request_(std::move(request)),
        done_(std::move(done)),
        deadline_(std::chrono::steady_clock::now() + request_.timeout) {}

  void Start() {
    conn_ = pool_.Take(Key());
    if (conn_) {
      reused_ = true;
      Write();
    } else {
      Connect();
    }
  }

 private:
  std::string Key() const {
    return std::to_string(client_->id) + "|" + url_.scheme + "://" + url_.HostPort();
  }

  std::chrono::steady_clock::duration Remaining() const {
    auto left = deadline_ - std::chrono::steady_clock::now();
    return left > std::chrono::steady_clock::duration::zero() ? left : std::chrono::milliseconds(1);
  }

  void Connect() {
    reused_ = false;
    conn_ = std::make_unique<Connection>();
    conn_->key = Key();
    // The client's own context may run on several threads (a strand per connection); a caller's
    // loop is run by one thread.
    asio::any_io_executor ex = own_loop_ ? asio::any_io_executor(asio::make_strand(loop_))
                                         : asio::any_io_executor(loop_.get_executor());
    if (url_.tls()) {
      conn_->tls = std::make_unique<SslStream>(ex, client_->tls);
    } else {
      conn_->plain = std::make_unique<beast::tcp_stream>(ex);
    }
    resolver_.emplace(ex);
    resolver_->async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type r) {
          self->OnResolve(ec, std::move(r));
        });
  }

  void OnResolve(boost::system::error_code ec, tcp::resolver::results_type results) {
    if (ec) return Fail(Status::Unavailable("resolving " + url_.host + ": " + ec.message()));
    conn_->tcp().expires_after(Remaining());
    conn_->tcp().async_connect(
        results, [self = shared_from_this()](boost::system::error_code ec, const tcp::endpoint&) {
          self->OnConnect(ec);
        });
  }

  void OnConnect(boost::system::error_code ec) {
    if (ec) return Fail(ErrorStatus("connecting to", ec));
    client_->opened.fetch_add(1);
    conn_->tcp().socket().set_option(tcp::no_delay(true), ec);
    if (!conn_->tls) return Write();
    SSL* ssl = conn_->tls->native_handle();
    boost::system::error_code addr_ec;
    asio::ip::make_address(url_.host, addr_ec);
    if (addr_ec) {
      SSL_set_tlsext_host_name(ssl, url_.host.c_str());
      SSL_set1_host(ssl, url_.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str());
    }
    conn_->tcp().expires_after(Remaining());
    conn_->tls->async_handshake(
        asio::ssl::stream_base::client,
        [self = shared_from_this()](boost::system::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(boost::system::error_code ec) {
    if (ec) return Fail(ErrorStatus("TLS handshake with", ec));
    Write();
  }

  void Write() {
    req_ = {};
    req_.method_string(request_.method);
    req_.target(url_.target);
    req_.version(11);
    bool default_port = url_.port == (url_.tls() ? 443 : 80);
    req_.set(http::field::host, default_port ? url_.host : url_.HostPort());
    req_.set(http::field::user_agent, client_->options.user_agent);
    for (const auto& [n, v] : request_.headers.fields()) req_.set(n, v);
    req_.body() = request_.body;
    req_.keep_alive(true);
    if (!request_.body.empty() || request_.method == "POST" || request_.method == "PUT") {
      req_.prepare_payload();
    }
    conn_->tcp().expires_after(Remaining());
    conn_->Visit([&](auto& stream) {
      http::async_write(
          stream, req_,
          [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
    });
  }

  void OnWrite(boost::system::error_code ec) {
    if (ec) {
      if (CanRetry()) return Retry();
      return Fail(ErrorStatus("writing to", ec));
    }
    parser_.emplace();
    parser_->body_limit(client_->options.max_response_bytes);
    if (request_.method == "HEAD") parser_->skip(true);
    conn_->tcp().expires_after(Remaining());
    conn_->Visit([&](auto& stream) {
      http::async_read(
          stream, conn_->buffer, *parser_,
          [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(boost::system::error_code ec) {
    if (ec) {
      if (!parser_->got_some() && CanRetry()) return Retry();
      if (ec == http::error::body_limit) {
        return Fail(Status::TooLarge("response from " + url_.HostPort() + " exceeds " +
                                     std::to_string(client_->options.max_response_bytes) +
                                     " bytes"));
      }
      return Fail(ErrorStatus("reading from", ec));
    }
    auto msg = parser_->release();
    ClientResponse response;
    response.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg)
      response.headers.Add(std::string(f.name_string()), std::string(f.value()));
    response.body = std::move(msg.body());
    if (msg.keep_alive()) {
      conn_->tcp().expires_never();
      pool_.Put(std::move(conn_), client_->options.max_idle_per_host);
    }
    Finish(std::move(response));
  }

  bool CanRetry() const { return reused_ && !retried_; }

  void Retry() {
    retried_ = true;
    conn_.reset();
    Connect();
  }

  Status ErrorStatus(const char* what, boost::system::error_code ec) const {
    std::string msg = std::string(what) + " " + url_.HostPort() + ": " + ec.message();
    if (ec == beast::error::timeout) return Status::Timeout(msg);
    return Status::Unavailable(msg);
  }

  void Fail(Status status) {
    conn_.reset();
    Finish(std::move(status));
  }

  void Finish(Result<ClientResponse> result) {
    auto done = std::move(done_);
    if (done) done(std::move(result));
  }

  std::shared_ptr<H1ClientShared> client_;
  asio::io_context& loop_;
  bool own_loop_;
  IdlePool& pool_;
  Url url_;
  ClientRequest request_;
  H1Client::Callback done_;
  std::chrono::steady_clock::time_point deadline_;
  std::unique_ptr<Connection> conn_;
  std::optional<tcp::resolver> resolver_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool reused_ = false;
  bool retried_ = false;
};

}  // namespace

void H1Client::Impl::Send(ClientRequest request, Callback done) {
  auto url = ParseUrl(request.url);
  if (!url.ok()) {
    done(url.status());
    return;
  }
  asio::io_context* caller = shared_->options.use_caller_loop ? CurrentIoLoop() : nullptr;
  asio::io_context& loop = caller != nullptr ? *caller : ioc_;
  IdlePool& pool =
      caller != nullptr ? asio::use_service<LoopIdlePool>(*caller).pool : shared_->own_idle;
  auto exchange =
      std::make_shared<Exchange>(shared_, loop, caller == nullptr, pool, std::move(url).value(),
                                 std::move(request), std::move(done));
  asio::post(loop, [exchange] { exchange->Start(); });
}

Result<std::unique_ptr<H1Client>> H1Client::Create(const H1ClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  MDMGW_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<H1Client>(new H1Client(std::move(impl)));
}

H1Client::H1Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H1Client::~H1Client() = default;

void H1Client::Send(ClientRequest request, Callback done) {
  impl_->Send(std::move(request), std::move(done));
}

Result<ClientResponse> H1Client::SendSync(ClientRequest request) {
  std::promise<Result<ClientResponse>> promise;
  auto future = promise.get_future();
  Send(std::move(request),
       [&promise](Result<ClientResponse> r) { promise.set_value(std::move(r)); });
  return future.get();
}

uint64_t H1Client::connections_opened() const { return impl_->shared_->opened.load(); }

}  // namespace mdmgw::net
