// Admin conveniences over the API: GET /api/v1/info (version, store, schema) and
// GET /api/v1/apikeys (names, ids, dates; never hashes).
#pragma once

#include "gateway/router.h"
#include "store/store.h"

namespace mdmgw::gateway {

void AddAdminInfoRoutes(Router& router, store::Store& store);

}  // namespace mdmgw::gateway
