#pragma once
// The names of Kafka's API keys, as Kafka spells them (clients/src/main/java/org/apache/kafka/
// common/protocol/ApiKeys.java), used as the `api` label of the request metrics.
#include <cstdint>
#include <string>

namespace ms::admin {

// "Produce" for 0, ...; "ApiKey<n>" for a key without a name here; "Unknown" for -1 (the slot of
// requests whose key is outside every table, or whose header did not parse).
[[nodiscard]] std::string api_name(int16_t key);

} // namespace ms::admin
