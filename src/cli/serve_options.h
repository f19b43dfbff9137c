#pragma once
// The settings of `memorystreamer serve`: one table of keys, each settable (weakest first) by its
// default, the config file (`key = value` lines), a MEMORYSTREAMER_* environment variable and a
// command-line flag. Unknown keys and bad values are refused with a message naming the key.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "broker/broker_config.h"

namespace ms::cli {

struct serve_option {
    std::string_view key;           // as in the config file, e.g. "data.dir"
    std::string_view default_value; // as text, shown in --help
    std::string_view help;
};

[[nodiscard]] const std::vector<serve_option>& serve_options();
// "data.dir" -> "--data-dir"; "data.dir" -> "MEMORYSTREAMER_DATA_DIR".
[[nodiscard]] std::string flag_name(std::string_view key);
[[nodiscard]] std::string env_name(std::string_view key);

struct logging_settings {
    std::string level = "info";
    std::string format = "text";
};

// Parses a config file: `key = value` per line, `#` comments, blank lines ignored.
[[nodiscard]] result<std::map<std::string, std::string>, std::string>
read_config_file(const std::string& path);

// Applies the values (key -> text) over the defaults. Errors name the key and the source.
[[nodiscard]] result<void, std::string> apply_options(const std::map<std::string, std::string>& values,
                                                      broker::broker_config& config, logging_settings& logs);

} // namespace ms::cli
