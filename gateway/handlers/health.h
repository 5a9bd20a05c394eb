// Operational endpoints: /healthz (the process answers), /readyz (the store answers), /metrics.
#pragma once

#include "common/metrics.h"
#include "gateway/router.h"
#include "store/store.h"

namespace mdmgw::gateway {

void AddHealthRoutes(Router& router, store::Store& store, metrics::Registry& registry);

}  // namespace mdmgw::gateway
