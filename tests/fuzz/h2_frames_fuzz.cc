// HTTP/2 from a client, after the connection preface: frames of any kind, header blocks
// (HPACK), CONTINUATION, SETTINGS, RST_STREAM, WINDOW_UPDATE — through the server codec with the
// gateway's limits, answering each complete request, draining what it sends back.
#include <cstdint>
#include <string>

#include "net/h2_server_codec.h"

namespace {

class Answer : public mdmgw::net::H2ServerCodec::Listener {
 public:
  mdmgw::net::H2ServerCodec* codec = nullptr;
  uint64_t BodyLimit(const mdmgw::net::Request&) override { return 64 << 10; }
  void OnRequest(int32_t stream_id, std::unique_ptr<mdmgw::net::Request> request) override {
    (void)request->QueryParam("x");
    codec->SubmitResponse(stream_id, mdmgw::net::Response::Text(200, "ok", "text/plain"));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  mdmgw::net::H2Limits limits;
  Answer answer;
  mdmgw::net::H2ServerCodec codec(limits, answer, mdmgw::net::Request{});
  answer.codec = &codec;
  if (!codec.Start().ok()) return 0;
  std::string out;
  if (!codec.Receive(reinterpret_cast<const uint8_t*>(kPreface.data()), kPreface.size()).ok())
    return 0;
  // In two pieces, as TCP may deliver them.
  size_t half = size / 2;
  if (codec.Receive(data, half).ok()) (void)codec.Receive(data + half, size - half);
  (void)codec.Drain(&out);
  return 0;
}
