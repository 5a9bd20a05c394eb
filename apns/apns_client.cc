#include "apns/apns_client.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "common/random.h"
#include "net/asio.h"
#include "net/h2_client_connection.h"
#include "net/tls_context.h"
#include "net/url.h"

namespace mdmgw::apns {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using net::H2ClientConnection;

// One push from Push() to its one callback.
// Kept small: a burst of N pushes holds N of these while they wait for a stream; the request's
// path and body are built only when it goes on the wire.
struct Job {
  PushRequest request;
  PushCallback done;
  int attempts = 0;
  Clock::time_point created;
  Clock::time_point deadline;
};

double Jitter() { return 0.5 + 0.5 * RandomUnit(); }  // [0.5, 1.0]

void MdmBody(const std::string& push_magic, std::string* out) {
  bool plain = std::all_of(push_magic.begin(), push_magic.end(), [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  });
  if (plain) {
    out->assign("{\"mdm\":\"").append(push_magic).append("\"}");
  } else {
    *out = nlohmann::json{{"mdm", push_magic}}.dump();
  }
}

std::string ReasonOf(std::string_view body) {
  if (body.empty()) return "";
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("reason") && doc["reason"].is_string())
    return doc["reason"].get<std::string>();
  return "";
}

bool StopsThePool(int status, std::string_view reason) {
  return (status == 403 || status == 0) &&
         (reason == "BadCertificate" || reason == "BadCertificateEnvironment" ||
          reason == "Forbidden");
}

}  // namespace

bool IsValidDeviceToken(std::string_view t) {
  if (t.empty() || t.size() > 200 || t.size() % 2 != 0) return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class ApnsClient::Impl final : public H2ClientConnection::Owner {
 public:
  Impl(const ApnsClientOptions& options, net::Url url, metrics::Registry* registry)
      : options_(options), url_(std::move(url)), tick_(ioc_), retry_timer_(ioc_) {
    if (registry != nullptr) {
      pushes_ =
          &registry->AddCounter("mdmgw_apns_pushes_total",
                                "MDM pushes by final result and APNs reason", {"result", "reason"});
      retries_ = &registry
                      ->AddCounter("mdmgw_apns_push_retries_total",
                                   "Push attempts beyond the first (transient failures)")
                      .WithLabels({});
      in_flight_gauge_ =
          &registry->AddGauge("mdmgw_apns_in_flight", "Push requests on the wire").WithLabels({});
      queued_gauge_ =
          &registry->AddGauge("mdmgw_apns_queued", "Pushes waiting for a stream").WithLabels({});
      connections_gauge_ =
          &registry->AddGauge("mdmgw_apns_connections", "Open HTTP/2 connections to APNs")
               .WithLabels({});
      cert_alert_ = &registry
                         ->AddGauge("mdmgw_apns_certificate_rejected",
                                    "1 when APNs refused the push certificate; pushes are stopped")
                         .WithLabels({});
      latency_ = &registry
                      ->AddHistogram("mdmgw_apns_push_duration_seconds",
                                     "From Push() to APNs's final answer",
                                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
                      .WithLabels({});
    }
  }

  void Start() {
    work_.emplace(asio::make_work_guard(ioc_));
    thread_ = std::thread([this] { ioc_.run(); });
    asio::post(ioc_, [this] { ArmTick(); });
  }

  Status SetCertificate(const PushCertificate* cert) {
    std::shared_ptr<asio::ssl::context> tls;
    std::string topic;
    if (cert != nullptr) {
      net::TlsClientOptions tls_options;
      tls_options.ca_file = options_.ca_file;
      tls_options.client_cert_pem = cert->cert_pem;
      tls_options.client_key_pem = &cert->key_pem;
      auto made = net::MakeClientH2TlsContext(tls_options);
      if (!made.ok()) return made.status().WithContext("APNs TLS identity");
      tls = std::move(made).value();
      topic = cert->topic;
    }
    // The swap runs on the client's thread; the caller waits for it (when that thread runs and
    // is not the caller) so that once an upload is answered, the alert is cleared and the next
    // push uses the new identity — an admin reading /metrics right after the upload sees it.
    auto applied = std::make_shared<std::promise<void>>();
    std::future<void> done = applied->get_future();
    asio::post(ioc_, [this, tls, topic, applied] {
      tls_ = tls;
      topic_ = topic;
      cert_rejected_ = false;
      cert_rejected_flag_ = false;
      if (cert_alert_ != nullptr) cert_alert_->Set(0);
      // In-flight pushes finish on the connections they are on; new ones get new connections.
      auto conns = conns_;  // CloseWhenIdle may close at once, which edits conns_
      for (auto& c : conns) c->CloseWhenIdle();
      if (!tls_) FailQueued("no_certificate", PushOutcome::kCertificateProblem);
      consecutive_connect_failures_ = 0;
      Dispatch();
      applied->set_value();
    });
    if (thread_.joinable() && !ioc_.get_executor().running_in_this_thread()) {
      // Stop() may end the loop before the swap runs; then there is nothing left to wait for.
      while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        if (ioc_.stopped()) break;
      }
    }
    return Status::Ok();
  }

  void PushMany(std::vector<std::pair<PushRequest, PushCallback>> pushes) {
    asio::post(ioc_, [this, pushes = std::move(pushes)]() mutable {
      for (auto& [req, done] : pushes) Enqueue(std::move(req), std::move(done));
      Dispatch();
    });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    std::promise<void> stopped;
    asio::post(ioc_, [this, &stopped] {
      stopping_ = true;
      tick_.cancel();
      retry_timer_.cancel();
      FailQueued("stopped", PushOutcome::kRetry);
      auto conns = conns_;
      for (auto& c : conns) c->Close(Status::Unavailable("client stopped", "stopped"));
      stopped.set_value();
    });
    stopped.get_future().wait();
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  ApnsClientStats Stats() const {
    ApnsClientStats s;
    s.submitted = submitted_.load();
    s.delivered = delivered_.load();
    s.failed = failed_.load();
    s.retried = retried_.load();
    s.resent_unprocessed = resent_.load();
    s.queued = queued_count_.load();
    s.in_flight = in_flight_count_.load();
    s.connections = connections_count_.load();
    s.certificate_rejected = cert_rejected_flag_.load();
    return s;
  }

 private:
  // --- queue ---------------------------------------------------------------------------------
  void Enqueue(PushRequest req, PushCallback done) {
    auto job = std::make_unique<Job>();
    job->created = Clock::now();
    job->deadline = job->created + options_.push_timeout;
    job->request = std::move(req);
    job->done = std::move(done);
    if (stopping_) return Finish(std::move(job), Result("stopped", PushOutcome::kRetry));
    if (!IsValidDeviceToken(job->request.token_hex)) {
      return Finish(std::move(job), Result("bad_token", PushOutcome::kDeviceInvalid));
    }
    if (!tls_) {
      return Finish(std::move(job), Result("no_certificate", PushOutcome::kCertificateProblem));
    }
    if (cert_rejected_) {
      return Finish(std::move(job),
                    Result("certificate_rejected", PushOutcome::kCertificateProblem));
    }
    if (ready_.size() + delayed_.size() >= options_.max_queue) {
      return Finish(std::move(job), Result("queue_full", PushOutcome::kRetry));
    }
    ready_.push_back(std::move(job));
  }

  static PushResult Result(std::string reason, PushOutcome outcome) {
    PushResult r;
    r.reason = std::move(reason);
    r.outcome = outcome;
    return r;
  }

  void Finish(std::unique_ptr<Job> job, PushResult result) {
    result.attempts = job->attempts;
    if (result.outcome == PushOutcome::kDelivered) {
      ++delivered_;
    } else {
      ++failed_;
    }
    if (pushes_ != nullptr) {
      pushes_->WithLabels({std::string(PushOutcomeName(result.outcome)), result.reason}).Inc();
    }
    if (latency_ != nullptr) {
      latency_->Observe(std::chrono::duration<double>(Clock::now() - job->created).count());
    }
    if (job->done) job->done(std::move(result));
  }

  void FailQueued(const std::string& reason, PushOutcome outcome) {
    std::deque<std::unique_ptr<Job>> ready;
    ready.swap(ready_);
    for (auto& job : ready) Finish(std::move(job), Result(reason, outcome));
    auto delayed = std::move(delayed_);
    delayed_.clear();
    for (auto& [when, job] : delayed) Finish(std::move(job), Result(reason, outcome));
    UpdateGauges();
  }

  // A transient failure: try again later, or report when out of attempts or time.
  void RetryOrFail(std::unique_ptr<Job> job, PushResult result) {
    auto now = Clock::now();
    if (stopping_ || cert_rejected_ || job->attempts >= options_.max_attempts ||
        now >= job->deadline) {
      return Finish(std::move(job), std::move(result));
    }
    ++retried_;
    if (retries_ != nullptr) retries_->Inc();
    auto delay = std::min<int64_t>(options_.retry_max.count(),
                                   options_.retry_base.count() << std::min(job->attempts - 1, 16));
    auto when = now + std::chrono::milliseconds(static_cast<int64_t>(delay * Jitter()));
    if (when > job->deadline) when = job->deadline;
    delayed_.emplace(when, std::move(job));
    ArmRetryTimer();
  }

  void ArmRetryTimer() {
    if (delayed_.empty()) return;
    auto first = delayed_.begin()->first;
    if (retry_armed_ && first >= retry_at_) return;
    retry_armed_ = true;
    retry_at_ = first;
    retry_timer_.expires_at(first);
    retry_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted && stopping_) return;
      retry_armed_ = false;
      auto now = Clock::now();
      while (!delayed_.empty() && delayed_.begin()->first <= now) {
        ready_.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
      }
      Dispatch();
      ArmRetryTimer();
    });
  }

  // --- dispatch ------------------------------------------------------------------------------
  uint32_t Limit(const H2ClientConnection& c) const {
    if (c.responses() == 0) return 1;  // until the server has answered once (APNs starts at 1)
    return std::min(options_.max_streams_per_connection, c.peer_max_concurrent_streams());
  }

  void Dispatch() {
    if (stopping_) return;
    if (!ready_.empty() && tls_ && !cert_rejected_) {
      std::vector<H2ClientConnection*> touched;
      size_t n = conns_.size();
      for (size_t i = 0; i < n && !ready_.empty(); ++i) {
        H2ClientConnection* c = conns_[(next_conn_ + i) % n].get();
        if (!c->accepting() || c->tls_context() != tls_.get()) continue;
        uint32_t limit = Limit(*c);
        bool used = false;
        while (!ready_.empty() && c->open_streams() < limit) {
          std::unique_ptr<Job>& job = ready_.front();
          // Built in scratch buffers reused for every request: no allocation per push here.
          const PushRequest& pr = job->request;
          path_.assign("/3/device/").append(pr.token_hex);
          MdmBody(pr.push_magic, &body_);
          priority_ = std::to_string(pr.priority);
          size_t nh = 0;
          headers_[nh++] = {"apns-push-type", "mdm"};
          headers_[nh++] = {"apns-topic", pr.topic.empty() ? topic_ : pr.topic};
          headers_[nh++] = {"apns-priority", priority_};
          if (pr.expiration >= 0) {
            expiration_ = std::to_string(pr.expiration);
            headers_[nh++] = {"apns-expiration", expiration_};
          }
          headers_[nh++] = {"content-type", "application/json"};
          net::H2ClientRequest req;
          req.path = path_;
          req.body = body_;
          req.headers = headers_;
          req.header_count = nh;
          Job* raw = job.get();
          if (!c->Submit(std::move(req), reinterpret_cast<uint64_t>(raw))) break;
          ++raw->attempts;
          job.release();  // owned by the stream until its one report
          ready_.pop_front();
          ++in_flight_;
          ++submitted_;
          used = true;
        }
        if (used) touched.push_back(c);
      }
      next_conn_ = n == 0 ? 0 : (next_conn_ + 1) % n;
      for (auto* c : touched) c->Flush();
    }
    MaybeConnect();
    UpdateGauges();
  }

  void MaybeConnect() {
    if (ready_.empty() || !tls_ || cert_rejected_ || stopping_) return;
    size_t usable = 0;
    for (auto& c : conns_) {
      if (c->tls_context() == tls_.get() && (c->accepting() || !c->connected())) ++usable;
    }
    if (usable >= static_cast<size_t>(std::max(1, options_.connections))) return;
    if (Clock::now() < reconnect_not_before_) {
      if (!reconnect_timer_armed_) {
        reconnect_timer_armed_ = true;
        auto timer = std::make_shared<asio::steady_timer>(ioc_, reconnect_not_before_);
        timer->async_wait([this, timer](boost::system::error_code) {
          reconnect_timer_armed_ = false;
          if (!stopping_) Dispatch();
        });
      }
      return;
    }
    // One new connection per dispatch pass: a burst opens connections as fast as they come up,
    // without a thundering herd against a server that is down.
    net::H2ClientConnectionOptions copts;
    copts.host = url_.host;
    copts.port = url_.port;
    copts.connect_timeout = options_.connect_timeout;
    copts.ping_after_idle = options_.ping_after_idle;
    copts.response_timeout = options_.response_timeout;
    auto conn = H2ClientConnection::Create(ioc_, tls_, copts, *this);
    conns_.push_back(conn);
    conn->Connect();
  }

  void UpdateGauges() {
    size_t queued = ready_.size() + delayed_.size();
    queued_count_ = queued;
    in_flight_count_ = in_flight_;
    connections_count_ = conns_.size();
    if (queued_gauge_ != nullptr) queued_gauge_->Set(static_cast<double>(queued));
    if (in_flight_gauge_ != nullptr) in_flight_gauge_->Set(static_cast<double>(in_flight_));
    if (connections_gauge_ != nullptr) connections_gauge_->Set(static_cast<double>(conns_.size()));
  }

  // Deadlines of queued pushes (a server that never comes back must not hold them forever).
  void ArmTick() {
    tick_.expires_after(std::chrono::seconds(1));
    tick_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      auto now = Clock::now();
      while (!ready_.empty() && ready_.front()->deadline <= now) {
        auto job = std::move(ready_.front());
        ready_.pop_front();
        Finish(std::move(job),
               Result(last_error_.empty() ? "timeout" : last_error_, PushOutcome::kRetry));
      }
      UpdateGauges();
      ArmTick();
    });
  }

  void StopForCertificate(const std::string& reason) {
    if (cert_rejected_) return;
    cert_rejected_ = true;
    cert_rejected_flag_ = true;
    if (cert_alert_ != nullptr) cert_alert_->Set(1);
    log::Error(
        "apns: APNs refused the push certificate; pushes are stopped until a new "
        "certificate is uploaded",
        {{"reason", reason}, {"topic", topic_}});
    FailQueued("certificate_rejected", PushOutcome::kCertificateProblem);
    auto conns = conns_;
    for (auto& c : conns) c->CloseWhenIdle();
  }

  std::unique_ptr<Job> TakeJob(uint64_t tag) {
    --in_flight_;
    return std::unique_ptr<Job>(reinterpret_cast<Job*>(tag));
  }

  // --- H2ClientConnection::Owner -------------------------------------------------------------
  void OnConnected(H2ClientConnection&) override {
    consecutive_connect_failures_ = 0;
    last_error_.clear();
    Dispatch();
  }

  void OnResponse(H2ClientConnection&, uint64_t tag, net::H2ClientResponse response) override {
    std::unique_ptr<Job> job = TakeJob(tag);
    PushResult result;
    result.status = response.status;
    result.apns_id = std::string(response.Header("apns-id"));
    result.reason = ReasonOf(response.body);
    result.outcome = ClassifyApnsReply(response.status, result.reason);
    if (response.status == 410) {
      auto doc = nlohmann::json::parse(response.body, nullptr, false);
      if (doc.is_object() && doc.contains("timestamp") && doc["timestamp"].is_number())
        result.timestamp_ms = doc["timestamp"].get<int64_t>();
    }
    if (StopsThePool(response.status, result.reason)) {
      std::string reason = result.reason;
      Finish(std::move(job), std::move(result));
      StopForCertificate(reason);
      return;
    }
    if (result.outcome == PushOutcome::kRetry)
      return RetryOrFail(std::move(job), std::move(result));
    Finish(std::move(job), std::move(result));
  }

  void OnStreamFailed(H2ClientConnection&, uint64_t tag, const Status& error,
                      bool unprocessed) override {
    std::unique_ptr<Job> job = TakeJob(tag);
    if (unprocessed && !stopping_) {
      // The server never acted on it: send it again, and it does not count as an attempt.
      --job->attempts;
      ++resent_;
      ready_.push_front(std::move(job));
      return;  // OnCapacity / OnClosed dispatch
    }
    log::Debug("apns: stream failed", {{"error", error.ToString()}, {"unprocessed", unprocessed}});
    PushResult result = Result(error.reason(), PushOutcome::kRetry);
    RetryOrFail(std::move(job), std::move(result));
  }

  void OnGoaway(H2ClientConnection&, int32_t last_stream_id, uint32_t error_code,
                const std::string& debug) override {
    std::string reason = ReasonOf(debug);
    log::Info("apns: server sent GOAWAY",
              {{"last_stream_id", last_stream_id}, {"error_code", error_code}, {"reason", reason}});
    if (StopsThePool(0, reason)) StopForCertificate(reason);
  }

  void OnCapacity(H2ClientConnection&) override { Dispatch(); }

  void OnClosed(H2ClientConnection& conn, const Status& why, bool handshake_failed) override {
    auto it = std::find_if(conns_.begin(), conns_.end(),
                           [&conn](const auto& c) { return c.get() == &conn; });
    std::shared_ptr<H2ClientConnection> keep;
    if (it != conns_.end()) {
      keep = *it;  // destroyed after this callback returns to the connection
      conns_.erase(it);
      asio::post(ioc_, [keep] {});
    }
    // Closing our own idle connections on Stop() is not a failure to connect.
    if (!why.ok() && conn.responses() == 0 && !stopping_) {
      ++consecutive_connect_failures_;
      last_error_ = handshake_failed ? "tls_handshake" : "transport";
      auto backoff = std::min<int64_t>(options_.reconnect_max.count(),
                                       options_.reconnect_base.count()
                                           << std::min(consecutive_connect_failures_ - 1, 16));
      reconnect_not_before_ =
          Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(backoff * Jitter()));
      log::Warn("apns: connection failed",
                {{"error", why.message()},
                 {"tls_handshake", handshake_failed},
                 {"consecutive_failures", consecutive_connect_failures_}});
    }
    // Not inline: the connection that is closing may be in the middle of a Dispatch() pass.
    asio::post(ioc_, [this] {
      if (!stopping_) Dispatch();
    });
  }

  ApnsClientOptions options_;
  net::Url url_;
  asio::io_context ioc_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer tick_;
  asio::steady_timer retry_timer_;

  // I/O thread only:
  std::shared_ptr<asio::ssl::context> tls_;
  std::string topic_;
  std::vector<std::shared_ptr<H2ClientConnection>> conns_;
  size_t next_conn_ = 0;
  std::deque<std::unique_ptr<Job>> ready_;
  std::string path_, body_, priority_, expiration_;  // request scratch space
  net::H2ClientHeader headers_[8];
  std::multimap<Clock::time_point, std::unique_ptr<Job>> delayed_;
  bool retry_armed_ = false;
  Clock::time_point retry_at_;
  size_t in_flight_ = 0;
  bool cert_rejected_ = false;
  bool stopping_ = false;
  int consecutive_connect_failures_ = 0;
  Clock::time_point reconnect_not_before_;
  bool reconnect_timer_armed_ = false;
  std::string last_error_;

  // Read from any thread (stats):
  std::atomic<uint64_t> submitted_{0}, delivered_{0}, failed_{0}, retried_{0}, resent_{0};
  std::atomic<size_t> queued_count_{0}, in_flight_count_{0}, connections_count_{0};
  std::atomic<bool> cert_rejected_flag_{false};

  metrics::Family<metrics::Counter>* pushes_ = nullptr;
  metrics::Counter* retries_ = nullptr;
  metrics::Gauge* in_flight_gauge_ = nullptr;
  metrics::Gauge* queued_gauge_ = nullptr;
  metrics::Gauge* connections_gauge_ = nullptr;
  metrics::Gauge* cert_alert_ = nullptr;
  metrics::Histogram* latency_ = nullptr;
};

Result<std::unique_ptr<ApnsClient>> ApnsClient::Create(const ApnsClientOptions& options,
                                                       metrics::Registry* registry) {
  auto url = net::ParseUrl(options.base_url);
  if (!url.ok()) return url.status().WithContext("APNs base URL");
  if (!url->tls()) return Status::InvalidArgument("the APNs base URL must be https://");
  auto impl = std::make_unique<Impl>(options, std::move(url).value(), registry);
  impl->Start();
  return std::unique_ptr<ApnsClient>(new ApnsClient(std::move(impl)));
}

ApnsClient::ApnsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApnsClient::~ApnsClient() { Stop(); }
Status ApnsClient::SetCertificate(const PushCertificate* cert) {
  return impl_->SetCertificate(cert);
}
void ApnsClient::Push(PushRequest request, PushCallback done) {
  std::vector<std::pair<PushRequest, PushCallback>> one;
  one.emplace_back(std::move(request), std::move(done));
  impl_->PushMany(std::move(one));
}
void ApnsClient::PushMany(std::vector<std::pair<PushRequest, PushCallback>> pushes) {
  impl_->PushMany(std::move(pushes));
}
void ApnsClient::Stop() { impl_->Stop(); }
ApnsClientStats ApnsClient::stats() const { return impl_->Stats(); }

}  // namespace mdmgw::apns
