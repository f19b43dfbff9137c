#include "broker/config_description.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

namespace ms::broker {

namespace {

struct topic_key_facts {
    std::string_view name;
    std::string_view broker_key; // the broker setting it defaults to; empty when none
    config_type type;
};

constexpr std::array<topic_key_facts, 10> topic_keys{{
  {"cleanup.policy", "log.cleanup.policy", config_type::list},
  {"compression.type", "", config_type::string},
  {"delete.retention.ms", "log.cleaner.delete.retention.ms", config_type::int64},
  {"max.message.bytes", "message.max.bytes", config_type::int32},
  {"message.timestamp.type", "log.message.timestamp.type", config_type::string},
  {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", config_type::float64},
  {"retention.bytes", "log.retention.bytes", config_type::int64},
  {"retention.ms", "log.retention.ms", config_type::int64},
  {"segment.bytes", "log.segment.bytes", config_type::int32},
  {"segment.ms", "log.roll.ms", config_type::int64},
}};

const topic_key_facts* facts_of(std::string_view key) noexcept {
    const auto* it = std::find_if(topic_keys.begin(), topic_keys.end(),
                                  [&](const topic_key_facts& f) { return f.name == key; });
    return it == topic_keys.end() ? nullptr : it;
}

const resolved_setting* setting_of(const broker_config& broker, std::string_view key) noexcept {
    const auto it = std::find_if(broker.settings.begin(), broker.settings.end(),
                                 [&](const resolved_setting& s) { return s.key == key; });
    return it == broker.settings.end() ? nullptr : &*it;
}

bool wanted(const std::optional<std::vector<std::string>>& names, std::string_view key) {
    return !names || std::find(names->begin(), names->end(), key) != names->end();
}

// A broker setting's type, from its default: settings are all booleans, numbers or words.
config_type type_of_setting(std::string_view default_value) {
    if (default_value == "true" || default_value == "false") {
        return config_type::boolean;
    }
    int64_t i = 0;
    if (!default_value.empty() &&
        std::from_chars(default_value.data(), default_value.data() + default_value.size(), i).ptr ==
          default_value.data() + default_value.size()) {
        return config_type::int64;
    }
    double d = 0;
    if (!default_value.empty() &&
        std::from_chars(default_value.data(), default_value.data() + default_value.size(), d).ptr ==
          default_value.data() + default_value.size()) {
        return config_type::float64;
    }
    return config_type::string;
}

config_source source_of(const resolved_setting& s) {
    return s.source == "default" ? config_source::default_config : config_source::static_broker;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const std::string_view item =
          text.substr(start, comma == std::string_view::npos ? comma : comma - start);
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return items;
}

} // namespace

std::optional<std::string_view> broker_synonym(std::string_view topic_key) noexcept {
    const topic_key_facts* f = facts_of(topic_key);
    if (f == nullptr || f->broker_key.empty()) {
        return std::nullopt;
    }
    return f->broker_key;
}

std::vector<described_config> describe_topic_configs(const topic_metadata& topic, const broker_config& broker,
                                                     const std::optional<std::vector<std::string>>& names) {
    std::vector<described_config> out;
    for (const topic_config_key& key : topic_config_keys()) {
        if (!wanted(names, key.name)) {
            continue;
        }
        described_config d;
        d.name = std::string(key.name);
        d.value = config_value(topic.config, key.name);
        d.documentation = std::string(key.help);
        const topic_key_facts* facts = facts_of(key.name);
        d.type = facts != nullptr ? facts->type : config_type::string;
        if (auto o = topic.overrides.find(key.name); o != topic.overrides.end()) {
            d.source = config_source::dynamic_topic;
            d.synonyms.push_back({d.name, o->second, config_source::dynamic_topic});
        }
        const resolved_setting* setting =
          facts != nullptr && !facts->broker_key.empty() ? setting_of(broker, facts->broker_key) : nullptr;
        if (setting != nullptr) {
            if (source_of(*setting) == config_source::static_broker) {
                d.synonyms.push_back({setting->key, setting->value, config_source::static_broker});
            }
            d.synonyms.push_back({setting->key, setting->default_value, config_source::default_config});
            if (d.source != config_source::dynamic_topic) {
                d.source = source_of(*setting);
            }
        } else if (d.source != config_source::dynamic_topic) {
            d.synonyms.push_back({d.name, d.value, config_source::default_config});
        }
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<described_config> describe_broker_configs(const broker_config& broker,
                                                      const std::optional<std::vector<std::string>>& names) {
    std::vector<described_config> out;
    for (const resolved_setting& s : broker.settings) {
        if (!wanted(names, s.key)) {
            continue;
        }
        described_config d;
        d.name = s.key;
        d.value = s.value;
        d.read_only = true;
        d.source = source_of(s);
        d.type = type_of_setting(s.default_value);
        d.documentation = s.help;
        if (d.source == config_source::static_broker) {
            d.synonyms.push_back({s.key, s.value, config_source::static_broker});
        }
        d.synonyms.push_back({s.key, s.default_value, config_source::default_config});
        out.push_back(std::move(d));
    }
    return out;
}

result<config_overrides, std::string> apply_config_changes(config_overrides overrides,
                                                           const topic_config& current,
                                                           const std::vector<config_change>& changes) {
    for (const config_change& c : changes) {
        const topic_key_facts* facts = facts_of(c.name);
        if (facts == nullptr) {
            return unexpected(fmt::format("unknown topic config '{}'", c.name));
        }
        switch (c.operation) {
        case config_operation::set:
            if (!c.value) {
                return unexpected(fmt::format("{}: SET needs a value", c.name));
            }
            overrides[c.name] = *c.value;
            break;
        case config_operation::remove: overrides.erase(c.name); break;
        case config_operation::append:
        case config_operation::subtract: {
            if (facts->type != config_type::list) {
                return unexpected(fmt::format("{}: APPEND and SUBTRACT apply only to list configs", c.name));
            }
            if (!c.value) {
                return unexpected(fmt::format("{}: APPEND and SUBTRACT need a value", c.name));
            }
            const auto it = overrides.find(c.name);
            std::vector<std::string> items =
              split_list(it != overrides.end() ? it->second : config_value(current, c.name));
            for (const std::string& item : split_list(*c.value)) {
                const auto found = std::find(items.begin(), items.end(), item);
                if (c.operation == config_operation::append && found == items.end()) {
                    items.push_back(item);
                } else if (c.operation == config_operation::subtract && found != items.end()) {
                    items.erase(found);
                }
            }
            std::string joined;
            for (const std::string& item : items) {
                joined += joined.empty() ? item : "," + item;
            }
            overrides[c.name] = joined;
            break;
        }
        default:
            return unexpected(fmt::format("{}: unknown operation {}", c.name, static_cast<int>(c.operation)));
        }
    }
    return overrides;
}

} // namespace ms::broker
