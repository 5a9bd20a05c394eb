// Device-facing MDM routes (no admin key; the device identity is checked by CheckInService):
//   PUT /mdm/checkin   check-in messages (Authenticate, TokenUpdate, CheckOut, ...)
//   PUT /mdm/connect   the command channel (Idle, command results)
// Both take at most [devices] checkin_max_body_bytes; a larger body is refused with 413 as soon as
// its headers (Content-Length) or its first bytes past the limit arrive, never buffered whole.
#pragma once

#include <cstdint>

#include "gateway/checkin_service.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddMdmEndpoints(Router& router, CheckInService& service, uint64_t max_body_bytes);

}  // namespace mdmgw::gateway
