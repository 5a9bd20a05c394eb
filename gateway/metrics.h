// GatewayMetrics: the gateway's own metric families, registered once in one registry.
#pragma once

#include "common/metrics.h"

namespace mdmgw::gateway {

struct GatewayMetrics {
  explicit GatewayMetrics(metrics::Registry& registry);

  metrics::Registry& registry;
  metrics::Family<metrics::Counter>& requests;   // mdmgw_http_requests_total{route,method,status}
  metrics::Family<metrics::Histogram>& latency;  // mdmgw_http_request_duration_seconds{route}
  metrics::Gauge& open_connections;              // mdmgw_open_connections
  metrics::Counter& refused_connections;         // mdmgw_refused_connections_total
};

}  // namespace mdmgw::gateway
