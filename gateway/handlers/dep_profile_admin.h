// Admin routes for DEP profiles and assignment (answered off the I/O threads: they wait on Apple):
//   PUT  /api/v1/dep/servers/{name}/profiles/{profile}   define at Apple (Apple's profile keys +
//        "default": true to make it the profile new devices get; "enrollment_profile": a gateway
//        dep enrollment profile whose settings and enrollment URL fill the keys not given, and
//        whose pilot groups limit the devices it is auto-assigned to); 201 new, 200 redefined
//   GET  /api/v1/dep/servers/{name}/profiles             the server's profiles
//   GET  /api/v1/dep/servers/{name}/profiles/{profile}   one (?remote=1: Apple's own copy)
//   POST /api/v1/dep/servers/{name}/profiles/{profile}/assign {"serials":[...]}  per-serial results
//   POST /api/v1/dep/servers/{name}/unassign {"serials":[...]}   remove profiles at Apple
//   POST /api/v1/dep/servers/{name}/disown {"serials":[...],"confirm":"disown"}  (irreversible)
//   GET  /api/v1/dep/servers/{name}/devices/{serial}     Apple's live record of one device
#pragma once

#include "configurator/enrollment_profile_service.h"
#include "dep/dep_assigner.h"
#include "dep/dep_clients.h"
#include "dep/dep_profile_service.h"
#include "gateway/blocking_work.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddDepProfileRoutes(Router& router, dep::DepProfileService& profiles,
                         dep::DepAssigner& assigner, dep::DepClients& clients, BlockingWork& work,
                         configurator::EnrollmentProfileService& enrollment_profiles);

}  // namespace mdmgw::gateway
