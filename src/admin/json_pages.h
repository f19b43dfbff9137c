#pragma once
// The JSON bodies of the admin API's /v1 pages (docs/admin-http.md shows each).
#include <string>
#include <vector>

#include "admin/collect.h"
#include "broker/broker_config.h"

namespace ms::admin {

// /v1/topics: every topic with its id, partitions, overrides, log size and segments.
[[nodiscard]] std::string render_topics(const broker_totals& totals);
// /v1/groups: every consumer group with its state and the shard coordinating it.
[[nodiscard]] std::string render_groups(const std::vector<group_entry>& groups);
// /v1/config: every setting with its value, default, source and help.
[[nodiscard]] std::string render_config(const std::vector<broker::resolved_setting>& settings);

} // namespace ms::admin
