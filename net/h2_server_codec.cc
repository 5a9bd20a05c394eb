#include "net/h2_server_codec.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace mdmgw::net {

struct H2ServerCodec::Stream {
  enum class State {
    kReadingRequest,   // headers or body still arriving
    kHeadersTooLarge,  // header block over the limit; answered with 431 at END_HEADERS
    kRejected,         // answered early (413/431); remaining DATA is discarded
    kDispatched,       // handed to the listener; awaiting SubmitResponse
    kResponding,       // response queued or being sent
  };
  State state = State::kReadingRequest;
  std::unique_ptr<Request> request;
  uint64_t header_bytes = 0;
  uint64_t body_limit = 0;
  bool reset_after_response = false;  // request still open when we answered
  Response response;
  size_t body_offset = 0;
};

// nghttp2 callbacks: free functions that cast |user_data| to the codec (nghttpx pattern).
struct H2CodecCallbacks {
  static H2ServerCodec& Codec(void* user_data) { return *static_cast<H2ServerCodec*>(user_data); }

  static int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    auto& codec = Codec(user_data);
    if (codec.streams_.size() >= codec.current_max_streams_) {
      // Over our advertised SETTINGS_MAX_CONCURRENT_STREAMS: refuse this stream only (RFC 9113
      // §5.1.2 allows REFUSED_STREAM; the client may retry it).
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                NGHTTP2_REFUSED_STREAM);
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    auto stream = std::make_unique<H2ServerCodec::Stream>();
    stream->request = std::make_unique<Request>(codec.prototype_);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream.get());
    codec.streams_[frame->hd.stream_id] = std::move(stream);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    auto& codec = Codec(user_data);
    auto* stream = codec.FindStream(frame->hd.stream_id);
    if (stream == nullptr || stream->state != H2ServerCodec::Stream::State::kReadingRequest) {
      return 0;  // trailers of a rejected stream, or headers we are discarding
    }
    // RFC 7541 §4.1 size accounting: name + value + 32 per field.
    stream->header_bytes += namelen + valuelen + 32;
    if (stream->header_bytes > codec.limits_.max_header_bytes) {
      stream->state = H2ServerCodec::Stream::State::kHeadersTooLarge;
      stream->request->headers = Headers();
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    Request& req = *stream->request;
    if (!n.empty() && n[0] == ':') {
      if (n == ":method") {
        req.method = v;
      } else if (n == ":path") {
        size_t q = v.find('?');
        req.path = v.substr(0, q);
        if (q != std::string_view::npos) req.query = v.substr(q + 1);
      } else if (n == ":authority") {
        req.authority = v;
      }
      return 0;
    }
    req.headers.Add(std::string(n), std::string(v));
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    auto& codec = Codec(user_data);
    auto* stream = codec.FindStream(stream_id);
    if (stream == nullptr || stream->state != H2ServerCodec::Stream::State::kReadingRequest) {
      return 0;
    }
    if (stream->request->body.size() + len > stream->body_limit) {
      codec.Reject(stream_id, *stream, 413, "body_too_large",
                   "request body exceeds " + std::to_string(stream->body_limit) + " bytes");
      return 0;
    }
    stream->request->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& codec = Codec(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
      return 0;
    }
    int32_t id = frame->hd.stream_id;
    auto* stream = codec.FindStream(id);
    if (stream == nullptr) return 0;
    using State = H2ServerCodec::Stream::State;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (stream->state == State::kHeadersTooLarge) {
        codec.Reject(id, *stream, 431, "headers_too_large",
                     "request header block exceeds " +
                         std::to_string(codec.limits_.max_header_bytes) + " bytes");
        return 0;
      }
      stream->body_limit = codec.listener_.BodyLimit(*stream->request);
      if (auto cl = stream->request->headers.Get("content-length")) {
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (ec == std::errc() && n > stream->body_limit) {
          codec.Reject(id, *stream, 413, "body_too_large",
                       "request body exceeds " + std::to_string(stream->body_limit) + " bytes");
          return 0;
        }
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && stream->state == State::kReadingRequest) {
      if (codec.goaway_last_stream_ >= 0 && id > codec.goaway_last_stream_) {
        // After our GOAWAY: not processed, so the client may safely retry it elsewhere.
        nghttp2_submit_rst_stream(codec.session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return 0;
      }
      stream->state = State::kDispatched;
      ++codec.dispatched_;
      codec.last_delivered_stream_ = std::max(codec.last_delivered_stream_, id);
      codec.listener_.OnRequest(id, std::move(stream->request));
    }
    return 0;
  }

  static int OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    auto& codec = Codec(user_data);
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      auto* stream = codec.FindStream(frame->hd.stream_id);
      if (stream != nullptr && stream->reset_after_response) {
        // We answered before the request ended: tell the peer to stop sending (RFC 9113 §8.1).
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
      }
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    H2ServerCodec& codec = Codec(user_data);
    auto it = codec.streams_.find(stream_id);
    if (it != codec.streams_.end()) {
      auto st = it->second->state;
      if (st == H2ServerCodec::Stream::State::kDispatched) --codec.dispatched_;
      if (st == H2ServerCodec::Stream::State::kResponding ||
          st == H2ServerCodec::Stream::State::kRejected) {
        --codec.responding_;
        ++codec.response_progress_;
      }
      codec.streams_.erase(it);
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data) {
    auto* stream = static_cast<H2ServerCodec::Stream*>(source->ptr);
    ++Codec(user_data).response_progress_;
    const std::string& body = stream->response.body;
    size_t n = std::min(length, body.size() - stream->body_offset);
    std::memcpy(buf, body.data() + stream->body_offset, n);
    stream->body_offset += n;
    if (stream->body_offset == body.size()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }

  static nghttp2_session_callbacks* Build() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnDataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, OnFrameSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamClose);
    return cbs;
  }

  // Built once and shared by every session (nghttp2 copies nothing out of it after session_new).
  static const nghttp2_session_callbacks* Get() {
    static nghttp2_session_callbacks* callbacks = Build();
    return callbacks;
  }
};

H2ServerCodec::H2ServerCodec(const H2Limits& limits, Listener& listener, Request prototype)
    : limits_(limits), listener_(listener), prototype_(std::move(prototype)) {
  prototype_.protocol = Protocol::kHttp2;
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_session_server_new2(&session_, H2CodecCallbacks::Get(), this, option);
  nghttp2_option_del(option);
}

H2ServerCodec::~H2ServerCodec() { nghttp2_session_del(session_); }

H2ServerCodec::Stream* H2ServerCodec::FindStream(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Status H2ServerCodec::Start() {
  current_max_streams_ = limits_.max_concurrent_streams;
  if (limits_.initial_max_concurrent_streams != 0 &&
      limits_.initial_max_concurrent_streams < current_max_streams_) {
    current_max_streams_ = limits_.initial_max_concurrent_streams;
  }
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, current_max_streams_},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits_.max_header_bytes)},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
  };
  int rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                                   sizeof(settings) / sizeof(settings[0]));
  if (rv != 0) {
    return Status::Internal(std::string("nghttp2_submit_settings: ") + nghttp2_strerror(rv));
  }
  return Status::Ok();
}

Status H2ServerCodec::Receive(const uint8_t* data, size_t len) {
  ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  if (rv < 0) {
    return Status::InvalidArgument(std::string("HTTP/2: ") +
                                   nghttp2_strerror(static_cast<int>(rv)));
  }
  return Status::Ok();
}

void H2ServerCodec::SubmitResponse(int32_t stream_id, Response response) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->state != Stream::State::kDispatched) {
    return;  // reset by the peer meanwhile
  }
  if (current_max_streams_ < limits_.max_concurrent_streams) {
    // The first answer lifts the slow start (the concurrency guard above applies the new limit
    // at once; RFC 9113 lets a peer raise it any time).
    current_max_streams_ = limits_.max_concurrent_streams;
    nghttp2_settings_entry raise{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, current_max_streams_};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &raise, 1);
  }
  bool close = response.close_connection && goaway_last_stream_ < 0;
  std::string debug = close ? std::move(response.goaway_debug) : std::string();
  SubmitOn(stream_id, *stream, std::move(response));
  if (close) {
    goaway_last_stream_ = last_delivered_stream_;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, goaway_last_stream_, NGHTTP2_NO_ERROR,
                          reinterpret_cast<const uint8_t*>(debug.data()), debug.size());
  }
}

void H2ServerCodec::Reject(int32_t stream_id, Stream& stream, int status, std::string_view code,
                           std::string_view msg) {
  stream.request.reset();
  stream.reset_after_response = true;
  SubmitOn(stream_id, stream, Response::JsonError(status, code, msg));
  stream.state = Stream::State::kRejected;
}

void H2ServerCodec::SubmitOn(int32_t stream_id, Stream& stream, Response response) {
  if (stream.state == Stream::State::kDispatched) --dispatched_;
  if (stream.state != Stream::State::kResponding && stream.state != Stream::State::kRejected)
    ++responding_;
  stream.state = Stream::State::kResponding;
  stream.response = std::move(response);
  stream.body_offset = 0;
  std::string status = std::to_string(stream.response.status);
  std::string length = std::to_string(stream.response.body.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(stream.response.headers.size() + 2);
  auto add = [&nva](const std::string& n, const std::string& v) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                   NGHTTP2_NV_FLAG_NONE});
  };
  static const std::string kStatus = ":status";
  static const std::string kContentLength = "content-length";
  add(kStatus, status);
  bool has_length = false;
  for (const auto& [n, v] : stream.response.headers.fields()) {
    if (n == kContentLength) has_length = true;
    add(n, v);
  }
  if (!has_length) add(kContentLength, length);
  nghttp2_data_provider provider{};
  provider.source.ptr = &stream;
  provider.read_callback = H2CodecCallbacks::ReadBody;
  nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(),
                          stream.response.body.empty() ? nullptr : &provider);
}

Status H2ServerCodec::Drain(std::string* out) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      return Status::Internal(std::string("HTTP/2 send: ") + nghttp2_strerror(static_cast<int>(n)));
    }
    if (n == 0) return Status::Ok();
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

void H2ServerCodec::StartShutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

bool H2ServerCodec::Finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

}  // namespace mdmgw::net
