#include "gateway/http_errors.h"

#include "common/log.h"

namespace mdmgw::gateway {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kTimeout:
      return 504;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

net::Response ErrorResponse(const Status& status) {
  int http = HttpStatusFor(status.code());
  if (http == 500) {
    log::Error("internal error", {{"error", status.ToString()}});
    return net::Response::JsonError(500, status.reason(), "internal error; see the gateway log");
  }
  net::Response r = net::Response::JsonError(http, status.reason(), status.message());
  if (http == 503) r.headers.Add("retry-after", "5");
  if (http == 401) r.headers.Add("www-authenticate", "Bearer realm=\"mdm-gateway\"");
  return r;
}

}  // namespace mdmgw::gateway
