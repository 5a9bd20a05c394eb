// The one table from Status to HTTP (DESIGN §4 error shape), used by every admin handler.
#pragma once

#include "common/result.h"
#include "net/response.h"

namespace mdmgw::gateway {

int HttpStatusFor(StatusCode code);

// {"error": {"code": status.reason(), "message": status.message()}} with the mapped status.
// Internal errors are logged and answered with a generic message (no internals leak to clients).
net::Response ErrorResponse(const Status& status);

}  // namespace mdmgw::gateway
