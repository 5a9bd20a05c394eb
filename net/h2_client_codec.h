// H2ClientCodec: the client side of one HTTP/2 connection over nghttp2, with no socket (the
// mirror of H2ServerCodec). Requests go in through Submit(); bytes to send come out of Drain();
// peer bytes go in through Receive(); completed responses, stream failures, GOAWAY and SETTINGS
// changes come back through the Listener, during Receive() or Drain().
//
// Used by the APNs client pool (apns/apns_client), which needs exactly this much control:
// stream counts bounded by the peer's SETTINGS_MAX_CONCURRENT_STREAMS as it changes, GOAWAY's
// last-stream-id (streams above it were not processed and may be retried elsewhere), PING.
//
// Thread-safety: not thread-safe; the owner calls it from its connection's thread only.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mdmgw::net {

// Views only: Submit() copies what it needs (nghttp2 copies the header block, the codec copies
// the body into a pooled stream buffer), so callers can build requests in reused scratch space and
// a steady stream of requests allocates nothing per request on this side.
struct H2ClientHeader {
  std::string_view name;  // lowercase
  std::string_view value;
};
struct H2ClientRequest {
  std::string_view method = "POST";
  std::string_view path;
  std::string_view authority;
  const H2ClientHeader* headers = nullptr;
  size_t header_count = 0;
  std::string_view body;
};

struct H2ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lowercase names, no pseudo-headers
  std::string body;
  std::string_view Header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return {};
  }
};

class H2ClientCodec {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A complete response on the stream submitted with |tag|.
    virtual void OnResponse(uint64_t tag, H2ClientResponse response) = 0;
    // The stream ended without a complete response. |unprocessed|: the server did not act on it
    // (REFUSED_STREAM, or above a GOAWAY's last-stream-id), so it is safe to send again.
    virtual void OnStreamFailed(uint64_t tag, uint32_t error_code, bool unprocessed) = 0;
    // The server's GOAWAY; streams above |last_stream_id| are failed (unprocessed) right after.
    virtual void OnGoaway(int32_t last_stream_id, uint32_t error_code, std::string debug_data) = 0;
    // The server's SETTINGS arrived (concurrency may have changed), or a PING ACK.
    virtual void OnSettingsOrPing() {}
  };

  explicit H2ClientCodec(Listener& listener);
  ~H2ClientCodec();
  H2ClientCodec(const H2ClientCodec&) = delete;
  H2ClientCodec& operator=(const H2ClientCodec&) = delete;

  // Queues the client connection preface and our SETTINGS. Call once, first.
  Status Start();
  // Queues a request; the stream id, or an error (e.g. after GOAWAY: no new streams allowed).
  Result<int32_t> Submit(const H2ClientRequest& request, uint64_t tag);
  // Consumes peer bytes. Non-OK: the connection is broken; Drain() what is pending and close.
  Status Receive(const uint8_t* data, size_t len);
  // Appends all bytes ready to send to |out|.
  Status Drain(std::string* out);
  void SubmitPing();
  // Ends the session from our side: GOAWAY(NO_ERROR) and no more frames after it.
  void Terminate();

  // The server's current SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive, as
  // nghttp2 assumes).
  uint32_t peer_max_concurrent_streams() const;
  size_t open_streams() const { return open_.size(); }
  bool goaway_received() const { return goaway_received_; }
  // True when nothing remains to read or write (after GOAWAY both ways, all streams done).
  bool Finished() const;
  // Every stream still open, as (tag), for failing them when the socket dies.
  std::vector<uint64_t> OpenTags() const;

 private:
  struct Stream;
  friend struct H2ClientCallbacks;

  Listener& listener_;
  nghttp2_session* session_ = nullptr;
  std::vector<Stream*> open_;                 // each open stream knows its index here (swap-remove)
  std::vector<std::unique_ptr<Stream>> all_;  // owns every stream object ever made
  std::vector<Stream*> spare_;                // closed ones, reused with their buffers
  Stream* Acquire();
  void Release(Stream* stream);
  bool goaway_received_ = false;
  int32_t goaway_last_stream_id_ = -1;
};

}  // namespace mdmgw::net
