// Admin conveniences over the API: GET /api/v1/info (version, store, schema) and
// GET /api/v1/apikeys (names, ids, scopes, dates; never hashes), POST /api/v1/apikeys
// {"name", "scope"} (the new key, shown once) and DELETE /api/v1/apikeys/{name or id} (never the
// last active admin key); GET /api/v1/audit?limit=&before= (the admin audit log, newest first);
// GET /api/v1/cluster (this instance's id and the leases of run-once work: who holds each).
#pragma once

#include "gateway/api_keys.h"
#include "gateway/router.h"
#include "store/store.h"

namespace mdmgw::gateway {

void AddAdminInfoRoutes(Router& router, store::Store& store, ApiKeys& api_keys);

}  // namespace mdmgw::gateway
