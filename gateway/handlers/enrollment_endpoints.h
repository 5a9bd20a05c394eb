// Device-facing enrollment routes (no admin key: devices call them):
//   POST /enroll/dep/{profile}   Setup Assistant (DEP and Apple Configurator Prepare): CMS-signed
//                                MachineInfo in, the signed .mobileconfig out
//   GET  /enroll/configurator/{profile}.mobileconfig?token=   USB-Direct download link
//   GET  /enroll/ota/{profile}?invite=                       a user's one-time OTA invitation
//   GET  /enroll/dem/{manager}?token=                        a device enrollment manager's link
#pragma once

#include "configurator/enrollment_links.h"
#include "configurator/setup_assistant_enrollment.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddEnrollmentEndpoints(Router& router, configurator::SetupAssistantEnrollment& setup_assistant,
                            configurator::EnrollmentLinks& links);

}  // namespace mdmgw::gateway
