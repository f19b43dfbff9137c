#include "cli/consume/record_format.h"

#include <fmt/format.h>

#include "cli/common/output.h"

namespace ms::cli {

namespace {

constexpr std::string_view directives = "tpokKvVsShT";

} // namespace

result<record_format, std::string> record_format::parse(std::string_view spec) {
    record_format f;
    if (spec == "json") {
        f._json = true;
        return f;
    }
    if (spec == "text") {
        spec = "%v\\n";
    }
    std::string literal;
    const auto flush_literal = [&] {
        if (!literal.empty()) {
            f._pieces.push_back({0, std::move(literal)});
            literal.clear();
        }
    };
    for (size_t i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        if (c == '%') {
            if (i + 1 >= spec.size()) {
                return unexpected(std::string("--format: the template ends with a lone '%'"));
            }
            const char d = spec[++i];
            if (d == '%') {
                literal += '%';
                continue;
            }
            if (directives.find(d) == std::string_view::npos) {
                return unexpected(
                  fmt::format("--format: unknown directive '%{}' (known: %t %p %o %k %K %v %V %s %S "
                              "%h %T %%)",
                              d));
            }
            flush_literal();
            f._pieces.push_back({d, {}});
        } else if (c == '\\' && i + 1 < spec.size()) {
            const char e = spec[++i];
            switch (e) {
            case 'n': literal += '\n'; break;
            case 'r': literal += '\r'; break;
            case 't': literal += '\t'; break;
            case '0': literal += '\0'; break;
            case '\\': literal += '\\'; break;
            default: literal += '\\'; literal += e;
            }
        } else {
            literal += c;
        }
    }
    flush_literal();
    return f;
}

void record_format::render(const std::string& topic, const client::client_record& r, std::string& out) const {
    if (_json) {
        json_writer j;
        j.begin_object()
          .field("topic", topic)
          .field("partition", r.partition)
          .field("offset", r.offset)
          .field("timestamp", r.timestamp_ms)
          .field("key", r.key)
          .field("value", r.value)
          .key("headers")
          .begin_array();
        for (const auto& h : r.headers) {
            j.begin_object().field("key", h.key).field("value", h.value).end_object();
        }
        j.end_array().end_object();
        out += j.str();
        out += '\n';
        return;
    }
    const auto length = [](const std::optional<std::string>& s) {
        return s ? std::to_string(s->size()) : std::string("-1");
    };
    for (const auto& p : _pieces) {
        switch (p.directive) {
        case 0: out += p.literal; break;
        case 't': out += topic; break;
        case 'p': out += std::to_string(r.partition); break;
        case 'o': out += std::to_string(r.offset); break;
        case 'k': out += r.key.value_or(""); break;
        case 'K': out += length(r.key); break;
        case 'v':
        case 's': out += r.value.value_or(""); break;
        case 'V':
        case 'S': out += length(r.value); break;
        case 'T': out += std::to_string(r.timestamp_ms); break;
        case 'h':
            for (size_t i = 0; i < r.headers.size(); ++i) {
                out += (i == 0 ? "" : ",") + r.headers[i].key;
                if (r.headers[i].value) {
                    out += '=' + *r.headers[i].value;
                }
            }
            break;
        default: break;
        }
    }
}

} // namespace ms::cli
