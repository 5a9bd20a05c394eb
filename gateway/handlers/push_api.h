// Push and device routes:
//   POST /api/v1/push {"enrollment_ids":[...]}     push now; one result per id
//   GET|POST /v1/push/{id,id,...}                  NanoMDM-compatible push (for cores calling it)
//   GET /api/v1/devices[?after=&limit=]            enrollments and their push state
//   GET /api/v1/devices/{id}
//   PUT /api/v1/devices/{id}                       import an enrollment's push identity
//                                                  {"topic","push_token_hex","push_magic",...}
//                                                  (check-in recording fills it by itself)
#pragma once

#include "apns/push_service.h"
#include "gateway/router.h"
#include "store/enrollment_store.h"

namespace mdmgw::gateway {

void AddPushRoutes(Router& router, apns::PushService& pushes, store::EnrollmentStore& enrollments);

}  // namespace mdmgw::gateway
