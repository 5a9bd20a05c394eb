// Admin routes for DEP (ADE) servers:
//   GET    /api/v1/dep/servers                      every server: token expiry, days left, ...
//   PUT    /api/v1/dep/servers/{name}               create/update
//   {"base_url","sync_interval_seconds"} GET    /api/v1/dep/servers/{name}               one server
//   DELETE /api/v1/dep/servers/{name}
//   GET    /api/v1/dep/servers/{name}/certificate   token-exchange certificate (PEM download)
//   PUT    /api/v1/dep/servers/{name}/token         the .p7m from Apple Business Manager (?force=1)
//   POST   /api/v1/dep/servers/{name}/sync          sync now (202), or ?wait=1: the sync's result
//   GET    /api/v1/dep/devices?server=&status=&limit=&cursor=   the server's current devices and
//          their assignment state (status: assigned, pushed, unassigned, throttled, failed,
//          not_accessible)
#pragma once

#include "dep/dep_server_service.h"
#include "dep/dep_syncer.h"
#include "gateway/router.h"
#include "store/dep_store.h"

namespace mdmgw::gateway {

void AddDepAdminRoutes(Router& router, dep::DepServerService& servers, dep::DepSyncer& syncer,
                       store::DepStore& store);

}  // namespace mdmgw::gateway
