// Operational endpoints: /healthz (the process answers), /readyz (the store answers), /metrics.
#pragma once

#include <functional>

#include "common/metrics.h"
#include "gateway/router.h"
#include "store/store.h"

namespace mdmgw::gateway {

// Extra /readyz details (APNs certificate expiry, upstreams): informational fields merged into
// "checks"; they do not make the gateway unready (a fresh install without a certificate serves).
using ReadinessDetail = std::function<nlohmann::json()>;

void AddHealthRoutes(Router& router, store::Store& store, metrics::Registry& registry,
                     ReadinessDetail detail = nullptr);

}  // namespace mdmgw::gateway
