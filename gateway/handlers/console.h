// The admin web console: GET /console/ and /console/{file}, static files compiled into the
// binary. The files themselves are public (they hold no data); every figure they show comes from
// /api/v1 with the admin key the login page keeps in the browser's session storage.
#pragma once

#include "gateway/router.h"

namespace mdmgw::gateway {

void AddConsoleRoutes(Router& router);

}  // namespace mdmgw::gateway
