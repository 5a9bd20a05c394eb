// Admin routes for the authority switch and device housekeeping:
//   GET  /api/v1/routing            the active routing (default, upstreams, group and device rules)
//   PUT  /api/v1/routing            replace it (validated whole; 400 names what is wrong)
//   POST /api/v1/devices/cleanup    remove stale enrollments now (?dry_run=1 only reports)
#pragma once

#include "gateway/router.h"
#include "gateway/routing.h"
#include "gateway/stale_device_cleanup.h"

namespace mdmgw::gateway {

void AddRoutingAdminRoutes(Router& router, Routing& routing, StaleDeviceCleanup& cleanup);

}  // namespace mdmgw::gateway
