#pragma once

// What every generated message header needs, and nothing more (they are many; keep this light).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/iobuf.h"
#include "model/fundamental.h"
#include "protocol/wire.h"

namespace ms::protocol {

struct api_key_tag {};
using api_key = model::named_int<int16_t, api_key_tag>;

} // namespace ms::protocol
