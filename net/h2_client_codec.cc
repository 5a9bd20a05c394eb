#include "net/h2_client_codec.h"

#include <cstdio>
#include <cstring>
#include <memory>

namespace mdmgw::net {

struct H2ClientCodec::Stream {
  uint64_t tag = 0;
  size_t open_index = 0;
  std::string body;  // capacity kept across reuse
  size_t body_offset = 0;
  H2ClientResponse response;
};

// nghttp2 callbacks: free functions that cast |user_data| to the codec (nghttp2 client pattern).
struct H2ClientCallbacks {
  static H2ClientCodec& Codec(void* user_data) { return *static_cast<H2ClientCodec*>(user_data); }
  static H2ClientCodec::Stream* StreamOf(nghttp2_session* session, int32_t id) {
    return static_cast<H2ClientCodec::Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* stream = StreamOf(session, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int status = 0;
      for (char c : v) status = status * 10 + (c - '0');
      stream->response.status = status;
    } else if (!n.empty() && n.front() != ':') {
      stream->response.headers.emplace_back(std::string(n), std::string(v));
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void*) {
    auto* stream = StreamOf(session, id);
    if (stream != nullptr && stream->response.body.size() < (1u << 20)) {
      stream->response.body.append(reinterpret_cast<const char*>(data), len);
    }
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& codec = Codec(user_data);
    switch (frame->hd.type) {
      case NGHTTP2_GOAWAY: {
        codec.goaway_received_ = true;
        codec.goaway_last_stream_id_ = frame->goaway.last_stream_id;
        std::string debug(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                          frame->goaway.opaque_data_len);
        codec.listener_.OnGoaway(frame->goaway.last_stream_id, frame->goaway.error_code,
                                 std::move(debug));
        break;
      }
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) codec.listener_.OnSettingsOrPing();
        break;
      case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) codec.listener_.OnSettingsOrPing();
        break;
      default:
        break;
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t id, uint32_t error_code,
                           void* user_data) {
    auto& codec = Codec(user_data);
    H2ClientCodec::Stream* stream = StreamOf(session, id);
    if (stream == nullptr) return 0;
    nghttp2_session_set_stream_user_data(session, id, nullptr);
    uint64_t tag = stream->tag;
    bool complete = error_code == NGHTTP2_NO_ERROR && stream->response.status != 0;
    H2ClientResponse response;
    if (complete) response = std::move(stream->response);
    codec.Release(stream);
    if (complete) {
      codec.listener_.OnResponse(tag, std::move(response));
      return 0;
    }
    bool unprocessed = error_code == NGHTTP2_REFUSED_STREAM ||
                       (codec.goaway_received_ && id > codec.goaway_last_stream_id_);
    codec.listener_.OnStreamFailed(tag, error_code, unprocessed);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<H2ClientCodec::Stream*>(source->ptr);
    const std::string& body = stream->body;
    size_t n = std::min(length, body.size() - stream->body_offset);
    std::memcpy(buf, body.data() + stream->body_offset, n);
    stream->body_offset += n;
    if (stream->body_offset == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

H2ClientCodec::H2ClientCodec(Listener& listener) : listener_(listener) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, H2ClientCallbacks::OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, H2ClientCallbacks::OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, H2ClientCallbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, H2ClientCallbacks::OnStreamClose);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Our own bookkeeping decides how many streams go out; nghttp2 need not queue beyond that.
  nghttp2_option_set_peer_max_concurrent_streams(option, 100);
  nghttp2_session_client_new2(&session_, cbs, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(cbs);
}

H2ClientCodec::~H2ClientCodec() { nghttp2_session_del(session_); }

Status H2ClientCodec::Start() {
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
  };
  int rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
  if (rv != 0) return Status::Internal(std::string("HTTP/2 settings: ") + nghttp2_strerror(rv));
  // A large connection window: many small responses should never wait for WINDOW_UPDATE.
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 16 << 20);
  return Status::Ok();
}

H2ClientCodec::Stream* H2ClientCodec::Acquire() {
  Stream* stream;
  if (!spare_.empty()) {
    stream = spare_.back();
    spare_.pop_back();
  } else {
    all_.push_back(std::make_unique<Stream>());
    stream = all_.back().get();
  }
  stream->open_index = open_.size();
  open_.push_back(stream);
  return stream;
}

void H2ClientCodec::Release(Stream* stream) {
  Stream* last = open_.back();
  open_[stream->open_index] = last;
  last->open_index = stream->open_index;
  open_.pop_back();
  stream->response.status = 0;
  stream->response.headers.clear();
  stream->response.body.clear();
  stream->body_offset = 0;
  spare_.push_back(stream);
}

Result<int32_t> H2ClientCodec::Submit(const H2ClientRequest& r, uint64_t tag) {
  if (goaway_received_) return Status::Unavailable("the server sent GOAWAY", "goaway");
  // nghttp2 copies names and values (NGHTTP2_NV_FLAG_NONE) before returning; the body is ours.
  nghttp2_nv nva[32];
  if (r.header_count + 5 > sizeof(nva) / sizeof(nva[0])) {
    return Status::InvalidArgument("too many request headers");
  }
  size_t n = 0;
  auto add = [&nva, &n](std::string_view name, std::string_view value) {
    nva[n++] = {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  char length[24];
  int length_len = std::snprintf(length, sizeof length, "%zu", r.body.size());
  add(":method", r.method);
  add(":scheme", "https");
  add(":authority", r.authority);
  add(":path", r.path);
  for (size_t i = 0; i < r.header_count; ++i) add(r.headers[i].name, r.headers[i].value);
  if (!r.body.empty())
    add("content-length", std::string_view(length, static_cast<size_t>(length_len)));
  Stream* stream = Acquire();
  stream->tag = tag;
  stream->body.assign(r.body);
  nghttp2_data_provider provider{};
  provider.source.ptr = stream;
  provider.read_callback = H2ClientCallbacks::ReadBody;
  int32_t id = nghttp2_submit_request(session_, nullptr, nva, n,
                                      r.body.empty() ? nullptr : &provider, stream);
  if (id < 0) {
    Release(stream);
    return Status::Unavailable(std::string("HTTP/2 submit: ") + nghttp2_strerror(id));
  }
  return id;
}

Status H2ClientCodec::Receive(const uint8_t* data, size_t len) {
  ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  if (rv < 0) {
    return Status::Unavailable(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv)));
  }
  return Status::Ok();
}

Status H2ClientCodec::Drain(std::string* out) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      return Status::Unavailable(std::string("HTTP/2 send: ") +
                                 nghttp2_strerror(static_cast<int>(n)));
    }
    if (n == 0) return Status::Ok();
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

void H2ClientCodec::SubmitPing() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }

void H2ClientCodec::Terminate() { nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR); }

uint32_t H2ClientCodec::peer_max_concurrent_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool H2ClientCodec::Finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

std::vector<uint64_t> H2ClientCodec::OpenTags() const {
  std::vector<uint64_t> tags;
  tags.reserve(open_.size());
  for (const Stream* stream : open_) tags.push_back(stream->tag);
  return tags;
}

}  // namespace mdmgw::net
