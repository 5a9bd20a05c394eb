// ApnsClient: the pool of HTTP/2 connections to APNs that sends MDM pushes with the push
// certificate as TLS client identity (PROTOCOLS.md §1).
//
// - Several connections (opened on demand, up to |connections|), streams per connection bounded by
//   the server's SETTINGS_MAX_CONCURRENT_STREAMS as it changes, and 1 until a connection's first
//   response (APNs starts low); PING when idle; reconnects with jittered backoff.
// - GOAWAY: streams above last-stream-id were not processed and go out again on another
//   connection without costing an attempt; its debug data is read like an error body.
// - Every push ends in exactly one callback: delivered, or a classified failure
//   (apns/push_reason). Transient failures (429, 5xx, Shutdown, transport) are retried with
//   jittered exponential backoff up to |max_attempts| and |push_timeout|, then reported.
// - 403 BadCertificate/BadCertificateEnvironment (or such a GOAWAY) stops the pool: queued
//   pushes fail with kCertificateProblem, new ones fail fast, the alert metric is set, until a
//   certificate is set again. SetCertificate swaps the identity at once: new pushes use new
//   connections; pushes in flight finish on the old ones, which then close.
//
// Thread-safety: Push/SetCertificate/Stop/stats are thread-safe. Callbacks run on the client's
// own I/O thread; keep them short.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apns/push_certificate.h"
#include "apns/push_reason.h"
#include "common/metrics.h"
#include "common/result.h"

namespace mdmgw::apns {

struct ApnsClientOptions {
  std::string base_url = "https://api.push.apple.com";
  std::string ca_file;  // extra CA for the APNs host (simulators)
  int connections = 4;
  uint32_t max_streams_per_connection = 1000;
  size_t max_queue = 500000;  // pushes waiting for a stream; beyond: refused at once (queue_full)
  int max_attempts = 5;
  std::chrono::milliseconds push_timeout{60000};  // from Push() to a final answer
  std::chrono::milliseconds retry_base{200};
  std::chrono::milliseconds retry_max{10000};
  std::chrono::milliseconds reconnect_base{250};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds connect_timeout{20000};
  std::chrono::milliseconds ping_after_idle{15000};
  std::chrono::milliseconds response_timeout{30000};
};

struct PushRequest {
  std::string token_hex;    // device token, lowercase hex
  std::string push_magic;   // sent verbatim in {"mdm": ...}; never logged
  std::string topic;        // empty: the certificate's topic
  int64_t expiration = -1;  // apns-expiration (Unix seconds); -1 = omit
  int priority = 10;
};

struct PushResult {
  PushOutcome outcome = PushOutcome::kRetry;
  int status = 0;       // APNs HTTP status; 0 when none arrived
  std::string reason;   // APNs reason, or ours: transport, timeout, queue_full, no_certificate,
                        // certificate_rejected, bad_token, stopped
  std::string apns_id;  // on every APNs answer
  int64_t timestamp_ms = 0;  // 410: when APNs last knew the token invalid
  int attempts = 0;          // requests sent for this push
};

using PushCallback = std::function<void(PushResult)>;

struct ApnsClientStats {
  uint64_t submitted = 0;  // requests written (attempts, including retries)
  uint64_t delivered = 0;
  uint64_t failed = 0;              // final non-delivered results
  uint64_t retried = 0;             // attempts beyond the first (transient failures)
  uint64_t resent_unprocessed = 0;  // refused / above GOAWAY: sent again, not an attempt
  size_t queued = 0;
  size_t in_flight = 0;
  size_t connections = 0;
  bool certificate_rejected = false;
};

class ApnsClient {
 public:
  static Result<std::unique_ptr<ApnsClient>> Create(const ApnsClientOptions& options,
                                                    metrics::Registry* registry = nullptr);
  ~ApnsClient();

  // The identity for new connections (nullptr: none; pushes fail with no_certificate).
  Status SetCertificate(const PushCertificate* cert);
  void Push(PushRequest request, PushCallback done);
  void PushMany(std::vector<std::pair<PushRequest, PushCallback>> pushes);
  // Fails what is queued (reason stopped), closes connections, joins the I/O thread.
  void Stop();
  ApnsClientStats stats() const;

 private:
  class Impl;
  explicit ApnsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Lowercase hex of 1..100 bytes (APNs tokens are 32 bytes today; longer ones are allowed).
bool IsValidDeviceToken(std::string_view token_hex);

}  // namespace mdmgw::apns
