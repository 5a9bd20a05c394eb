// Admin routes for DEP (ADE) servers:
//   GET    /api/v1/dep/servers                      every server: token expiry, days left, ...
//   PUT    /api/v1/dep/servers/{name}               create/update
//   {"base_url","sync_interval_seconds"} GET    /api/v1/dep/servers/{name}               one server
//   DELETE /api/v1/dep/servers/{name}
//   GET    /api/v1/dep/servers/{name}/certificate   token-exchange certificate (PEM download)
//   PUT    /api/v1/dep/servers/{name}/token         the .p7m from Apple Business Manager (?force=1)
#pragma once

#include "dep/dep_server_service.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddDepAdminRoutes(Router& router, dep::DepServerService& servers);

}  // namespace mdmgw::gateway
