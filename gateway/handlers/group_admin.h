// Admin routes for groups (staged roll-outs: an enrollment profile's pilot_groups name them):
//   PUT    /api/v1/groups/{name} {"serials":[...],"users":[...]}   create or replace members
//   GET    /api/v1/groups · GET /api/v1/groups/{name} · DELETE /api/v1/groups/{name}
#pragma once

#include "gateway/router.h"
#include "store/profile_store.h"

namespace mdmgw::gateway {

void AddGroupRoutes(Router& router, store::ProfileStore& store);

}  // namespace mdmgw::gateway
