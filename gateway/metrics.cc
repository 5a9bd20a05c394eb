#include "gateway/metrics.h"

namespace mdmgw::gateway {

GatewayMetrics::GatewayMetrics(metrics::Registry& r)
    : registry(r),
      requests(r.AddCounter("mdmgw_http_requests_total",
                            "HTTP requests answered, by route, method and status",
                            {"route", "method", "status"})),
      latency(r.AddHistogram(
          "mdmgw_http_request_duration_seconds",
          "Time from a complete request to its response being queued, by route",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
          {"route"})),
      open_connections(
          r.AddGauge("mdmgw_open_connections", "Open client connections").WithLabels({})),
      refused_connections(
          r.AddCounter("mdmgw_refused_connections_total",
                       "Connections closed at accept because max_connections was reached")
              .WithLabels({})) {}

}  // namespace mdmgw::gateway
