// Device-facing enrollment routes (no admin key: devices call them):
//   POST /enroll/dep/{profile}   Setup Assistant (DEP and Apple Configurator Prepare): CMS-signed
//                                MachineInfo in, the signed .mobileconfig out
#pragma once

#include "configurator/setup_assistant_enrollment.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddEnrollmentEndpoints(Router& router,
                            configurator::SetupAssistantEnrollment& setup_assistant);

}  // namespace mdmgw::gateway
