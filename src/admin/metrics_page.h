#pragma once
// metrics_page: the /metrics page, every metric the broker exports, in the Prometheus text format.
// docs/admin-http.md lists them with their types and labels; keep the two in step.
#include <string>

#include "admin/collect.h"

namespace ms::admin {

[[nodiscard]] std::string render_metrics(const broker_totals& totals);

} // namespace ms::admin
