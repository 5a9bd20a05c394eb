// H2ServerCodec: the server side of one HTTP/2 connection over nghttp2, with no socket.
//
// Bytes from the peer go in through Receive(); bytes to send come out of Drain(); complete requests
// are handed to the Listener; responses go in through SubmitResponse(). The owner (H2ServerSession)
// moves bytes between this and the TLS stream; tests and fuzzers can drive it directly.
//
// Limits enforced here: concurrent streams (excess streams get RST_STREAM REFUSED_STREAM, RFC 9113
// §5.1.2), header block size (431), body size (413 as soon as Content-Length or the data received
// passes the limit, then RST_STREAM NO_ERROR per RFC 9113 §8.1). nghttp2's own flood protections
// (SETTINGS/PING/RST floods) stay on.
//
// Thread-safety: not thread-safe; the owner calls it from its connection's thread only.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "net/request.h"
#include "net/response.h"

namespace mdmgw::net {

struct H2Limits {
  uint32_t max_concurrent_streams = 100;
  uint64_t max_header_bytes = 16 << 10;
  // When nonzero and lower: SETTINGS_MAX_CONCURRENT_STREAMS starts here and rises to
  // max_concurrent_streams after the first response (APNs's observed behaviour; simulators).
  uint32_t initial_max_concurrent_streams = 0;
};

class H2ServerCodec {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Body limit for a request whose headers have arrived.
    virtual uint64_t BodyLimit(const Request& headers_only) = 0;
    // A complete request on |stream_id|. Answer with SubmitResponse (now or later).
    virtual void OnRequest(int32_t stream_id, std::unique_ptr<Request> request) = 0;
  };

  // |prototype| supplies the per-connection fields copied into every request (remote address,
  // peer certificate, protocol).
  H2ServerCodec(const H2Limits& limits, Listener& listener, Request prototype);
  ~H2ServerCodec();
  H2ServerCodec(const H2ServerCodec&) = delete;
  H2ServerCodec& operator=(const H2ServerCodec&) = delete;

  // Queues the server connection preface (SETTINGS). Call once, first.
  Status Start();
  // Consumes peer bytes. Non-OK: the connection is broken (bad preface, protocol error, flood);
  // Drain() what is pending (it may hold a GOAWAY) and close.
  Status Receive(const uint8_t* data, size_t len);
  // Queues |response| on |stream_id|. Ignored when the stream has gone (peer reset it).
  void SubmitResponse(int32_t stream_id, Response response);
  // Appends all bytes ready to send to |out|.
  Status Drain(std::string* out);
  // Graceful shutdown: GOAWAY(NO_ERROR, last processed stream); open streams still complete.
  void StartShutdown();
  // True when nothing remains to read or write: the connection can be closed.
  bool Finished() const;
  // Streams opened and not yet closed (includes those awaiting a handler).
  size_t open_streams() const { return streams_.size(); }
  // Streams whose response is queued or being sent, and a counter that moves whenever any response
  // makes progress (body bytes handed to nghttp2, a stream finished). A session uses the two to
  // spot a peer that keeps its flow-control window shut (slow read): responses queued, no
  // progress, however many PINGs it sends.
  size_t responding_streams() const { return responding_; }
  // Streams whose request is complete and with the listener, not yet answered. When every open
  // stream is one of these, the peer owes nothing: the session waits on the handler, not the peer.
  size_t dispatched_streams() const { return dispatched_; }
  uint64_t response_progress() const { return response_progress_; }

 private:
  struct Stream;
  friend struct H2CodecCallbacks;

  Stream* FindStream(int32_t stream_id);
  // Answers |stream| at once (413/431/400) and discards the rest of its request.
  void Reject(int32_t stream_id, Stream& stream, int status, std::string_view code,
              std::string_view msg);
  void SubmitOn(int32_t stream_id, Stream& stream, Response response);

  H2Limits limits_;
  Listener& listener_;
  Request prototype_;
  nghttp2_session* session_ = nullptr;
  uint32_t current_max_streams_ = 0;   // what our SETTINGS say now
  int32_t last_delivered_stream_ = 0;  // newest stream handed to the listener
  int32_t goaway_last_stream_ = -1;    // set once a response asked to close the connection
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  size_t responding_ = 0;
  size_t dispatched_ = 0;
  uint64_t response_progress_ = 0;
};

}  // namespace mdmgw::net
