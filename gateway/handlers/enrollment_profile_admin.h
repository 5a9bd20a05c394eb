// Admin routes for enrollment profiles and Apple Configurator exports:
//   GET    /api/v1/enrollment-methods             the method table (what each method allows)
//   POST   /api/v1/enrollment-profiles            create → 201 with the profile (and its id)
//   GET    /api/v1/enrollment-profiles            list
//   GET    /api/v1/enrollment-profiles/{id}       one (id or name)
//   PUT    /api/v1/enrollment-profiles/{id}       update (absent fields keep their values)
//   DELETE /api/v1/enrollment-profiles/{id}
//   PUT    /api/v1/enrollment-profiles/{id}/serials   Apple Configurator CSV (usb-sa), per-line
//   errors GET    /api/v1/enrollment-profiles/{id}/serials GET
//   /api/v1/enrollment-profiles/{id}/export?format=usb-sa|usb-direct|mobileconfig
//          usb-sa: the Configurator Profile URL, server name and trust anchors (JSON);
//          usb-direct (usb-direct profiles) and mobileconfig (any): the signed .mobileconfig
//   POST   /api/v1/enrollment-profiles/{id}/links {"days":14}      USB-Direct download link
//   POST   /api/v1/enrollment-profiles/{id}/invitations {"user","days":7}   OTA invitation
//   POST   /api/v1/dem-managers {"name","profile"} · GET   device enrollment managers
#pragma once

#include "configurator/enrollment_links.h"
#include "configurator/enrollment_profile_service.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddEnrollmentProfileRoutes(Router& router, configurator::EnrollmentProfileService& profiles,
                                configurator::EnrollmentLinks& links);

}  // namespace mdmgw::gateway
