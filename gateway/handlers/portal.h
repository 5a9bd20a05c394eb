// The self-service enrollment portal: GET / PUT /api/v1/portal (branding, admin), and for users
// GET /portal/?invite=TOKEN (the branded page with the OTA profile download; looking does not use
// the invitation, downloading does) and GET /portal/logo.
#pragma once

#include "common/clock.h"
#include "gateway/router.h"
#include "store/profile_store.h"

namespace mdmgw::gateway {

void AddPortalRoutes(Router& router, store::ProfileStore& store, Clock& clock);

}  // namespace mdmgw::gateway
