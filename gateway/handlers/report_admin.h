// Admin reports:
//   GET /api/v1/reports/incomplete-enrollments?hours=24   who got stuck: devices handed a profile
//       (DEP, usb-sa) with no TokenUpdate since, DEP-assigned devices that never fetched their
//       enrollment profile, and how many link downloads (OTA, USB-Direct, DEM) are not yet tied
//       to a device
#pragma once

#include "gateway/router.h"
#include "store/report_store.h"

namespace mdmgw::gateway {

void AddReportRoutes(Router& router, store::ReportStore& reports);

}  // namespace mdmgw::gateway
