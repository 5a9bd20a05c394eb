// Response: what a handler answers, and the handler interface the server core calls.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "net/request.h"

namespace mdmgw::net {

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Close the connection gracefully once this response is sent: HTTP/2 GOAWAY(NO_ERROR) carrying
  // |goaway_debug|, whose last-stream-id is the newest request already handed to the handler (so
  // every request the handler saw is answered; newer streams are refused, unprocessed);
  // HTTP/1.1 Connection: close. APNs ends connections this way ({"reason":"Shutdown"}).
  bool close_connection = false;
  std::string goaway_debug;
  // Drop the connection at once instead of answering: TCP RST, every stream on it unanswered. For
  // simulators playing a peer that crashes or a middlebox that forgets the connection.
  bool abort_connection = false;

  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response Json(int status, const nlohmann::json& body);
  // {"error": {"code": code, "message": message}} — the admin API's error shape (DESIGN §4).
  static Response JsonError(int status, std::string_view code, std::string_view message);
};

// Delivers the one response to a request. Callable from any thread, exactly once; the session posts
// it onto its connection's thread. Calling it after the connection closed is harmless.
// REQUIRES: called before the Server is destroyed. Server::Shutdown waits (up to its grace) for
// in-flight requests; owners of asynchronous work that answers requests (upstream clients) stop
// that work before destroying the server.
using Respond = std::function<void(Response)>;

// What the server core calls for each request. Implemented by the gateway's router.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Body limit for a request whose headers (not body) have arrived. Larger bodies get 413.
  virtual uint64_t MaxBodyBytes(const Request& headers_only) const = 0;
  // Handles a complete request. May answer inline or later, from any thread.
  // REQUIRES: on the connection's thread when called.
  virtual void Handle(std::unique_ptr<Request> request, Respond respond) = 0;
};

}  // namespace mdmgw::net
