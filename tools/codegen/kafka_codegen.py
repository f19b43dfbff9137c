#!/usr/bin/env python3
"""Generates the C++ Kafka message codec from schemas/kafka/*.schema.

usage: kafka_codegen.py SCHEMA_DIR OUT_DIR

Writes into OUT_DIR/protocol/messages/:
  <schema stem>.h/.cc    one struct per message (nested structs inside it) with encode/decode
  all.h                  includes every message header
  api_table.h            the compile-time table of APIs (key, name, versions, first flexible)
  any_message.h/.cc      std::variant of every request / response, decode/encode by API key
  random_fill.h/.cc      fill_random() for every message (test support)
Files are only rewritten when their content changes, so incremental builds stay incremental.
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import schema as S  # noqa: E402

CPP_KEYWORDS = {"default", "operator", "class", "struct", "namespace", "template", "new", "delete",
                "private", "public", "protected", "union", "register", "this", "throw", "try",
                "int", "long", "short", "char", "bool", "float", "double", "auto", "case",
                "switch", "return", "const", "static", "version"}

PRIM_CPP = {"bool": "bool", "int8": "int8_t", "int16": "int16_t", "uint16": "uint16_t",
            "int32": "int32_t", "uint32": "uint32_t", "int64": "int64_t", "float64": "double",
            "uuid": "uuid"}
PRIM_SIZE = {"bool": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8,
             "float64": 8, "uuid": 16}
STRONG_CPP = {"offset": "::ms::model::offset", "leader_epoch": "::ms::model::leader_epoch",
              "partition_id": "::ms::model::partition_id", "node_id": "::ms::model::node_id",
              "timestamp": "::ms::model::timestamp", "api_key": "::ms::protocol::api_key",
              "error_code": "int16_t"}
# Strong types that wrap an integer (read with T(x), written with x.value()).
WRAPPED = {"offset", "leader_epoch", "partition_id", "node_id", "timestamp", "api_key"}


def snake(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def member(name: str) -> str:
    s = snake(name)
    return s + "_" if s in CPP_KEYWORDS else s


def cond(v: S.Versions, var: str = "version") -> str:
    if v.empty():
        return "false"
    parts = []
    if v.lo > 0:
        parts.append(f"{var} >= {v.lo}")
    if v.hi is not None:
        parts.append(f"{var} <= {v.hi}")
    return " && ".join(parts) if parts else "true"


class Gen:
    def __init__(self, msg: S.Message):
        self.msg = msg
        self.flex = msg.flexible
        self.cls = snake(msg.name)

    # ---- types -------------------------------------------------------------------------------

    def struct_fields(self, f: S.Field):
        return f.fields if f.fields else self.msg.common[f.element].fields

    def struct_type(self, f: S.Field) -> str:
        return snake(f.element) + "_data" if not f.fields else snake(f.element) + "_data"

    def nullable_ever(self, f: S.Field) -> bool:
        return not f.nullable.intersect(self.msg.versions).empty() and not f.nullable.empty()

    def elem_cpp(self, f: S.Field) -> str:
        e = f.element
        if e in PRIM_CPP:
            return STRONG_CPP[f.strong] if f.strong else PRIM_CPP[e]
        if e == "string":
            return "std::string"
        if e == "bytes":
            return "std::vector<std::byte>"
        if e == "records":
            return "iobuf"
        return self.struct_type(f)

    def cpp_type(self, f: S.Field) -> str:
        t = self.elem_cpp(f)
        if f.is_array:
            t = f"std::vector<{t}>"
        if f.element == "records" and not f.is_array:
            return "std::optional<iobuf>"
        if self.nullable_ever(f) and (f.is_array or f.element in ("string", "bytes") or f.element_is_struct):
            return f"std::optional<{t}>"
        return t

    def default_init(self, f: S.Field) -> str:
        d = f.default
        t = self.cpp_type(f)
        if d is None or d == "null":
            return "{}"
        if f.element == "bool":
            return "{" + d + "}"
        if f.element in PRIM_SIZE and not f.is_array:
            if f.strong in WRAPPED:
                return "{" + f"{STRONG_CPP[f.strong]}({d})" + "}"
            return "{" + d + "}"
        if f.element == "string" and not f.is_array:
            if d == '""':
                return "{}"
            return "{" + d + "}" if t == "std::string" else "{std::string(" + d + ")}"
        return "{}"

    def default_check(self, f: S.Field, v: str) -> str:
        """Expression that is true when value v differs from the field's default."""
        t = self.cpp_type(f)
        if t.startswith("std::optional"):
            if f.default in (None, "null"):
                return f"{v}.has_value()"
            return f"!{v}.has_value() || !{v}->empty()" if f.default == '""' else f"{v}.has_value()"
        if f.is_array or f.element in ("string", "bytes"):
            return f"!{v}.empty()"
        if f.element_is_struct:
            return f"!({v} == {t}{{}})"
        init = self.default_init(f)
        return f"{v} != {t}{init}"

    # ---- sizes ---------------------------------------------------------------------------------

    def min_size_expr(self, f: S.Field) -> str:
        """Minimum encoded size of a non-tagged field at `version` (C++ expression)."""
        compact = self.compact_expr(f)
        if f.is_array:
            return f"({compact} ? 1U : 4U)"
        e = f.element
        if e in PRIM_SIZE:
            return str(PRIM_SIZE[e]) + "U"
        if e == "string":
            return f"({compact} ? 1U : 2U)"
        if e in ("bytes", "records"):
            return f"({compact} ? 1U : 4U)"
        if self.nullable_ever(f):
            return "1U"
        return f"{self.struct_type(f)}::min_size(version)"

    def compact_expr(self, f: S.Field) -> str:
        return "false" if f.never_flexible else "gen_flexible"

    # ---- encode --------------------------------------------------------------------------------

    def write_elem(self, f: S.Field, v: str, w: str, lines, ind):
        e = f.element
        compact = self.compact_expr(f)
        if e in PRIM_CPP:
            val = f"{v}.value()" if f.strong in WRAPPED else v
            lines.append(f"{ind}{w}.write_{e}({val});")
        elif e == "string":
            lines.append(f"{ind}{w}.write_string({v}, {compact});")
        elif e == "bytes":
            lines.append(f"{ind}{w}.write_bytes({v}, {compact});")
        else:
            lines.append(f"{ind}{v}.encode({w}, version);")

    def write_field(self, f: S.Field, v: str, w: str, lines, ind):
        compact = self.compact_expr(f)
        nullable_now = cond(f.nullable)
        t = self.cpp_type(f)
        opt = t.startswith("std::optional") and f.element != "records"
        if f.element == "records" and not f.is_array:
            lines.append(f"{ind}if ({v} || {nullable_now}) {{")
            lines.append(f"{ind}    {w}.write_records({v}, {compact});")
            lines.append(f"{ind}}} else {{")
            lines.append(f"{ind}    {w}.write_records(iobuf(), {compact});")
            lines.append(f"{ind}}}")
            return
        if f.is_array:
            lines.append(f"{ind}{{")
            if opt:
                lines.append(f"{ind}    const bool gen_is_null = !{v}.has_value() && ({nullable_now});")
                lines.append(f"{ind}    {w}.write_array_length(gen_is_null ? std::nullopt : std::optional<size_t>({v} ? {v}->size() : 0), {compact});")
                lines.append(f"{ind}    if ({v}) {{")
                lines.append(f"{ind}        for (const auto& gen_e : *{v}) {{")
                self.write_elem(f, "gen_e", w, lines, ind + "            ")
                lines.append(f"{ind}        }}")
                lines.append(f"{ind}    }}")
            else:
                lines.append(f"{ind}    {w}.write_array_length({v}.size(), {compact});")
                lines.append(f"{ind}    for (const auto& gen_e : {v}) {{")
                self.write_elem(f, "gen_e", w, lines, ind + "        ")
                lines.append(f"{ind}    }}")
            lines.append(f"{ind}}}")
            return
        if f.element == "string" or f.element == "bytes":
            if opt:
                kind = "string" if f.element == "string" else "bytes"
                lines.append(f"{ind}if ({nullable_now}) {{")
                lines.append(f"{ind}    {w}.write_nullable_{kind}({v}, {compact});")
                lines.append(f"{ind}}} else {{")
                empty = 'std::string_view()' if kind == "string" else 'std::span<const std::byte>()'
                conv = f"std::string_view(*{v})" if kind == "string" else f"std::span<const std::byte>(*{v})"
                lines.append(f"{ind}    {w}.write_{kind}({v} ? {conv} : {empty}, {compact});")
                lines.append(f"{ind}}}")
            else:
                self.write_elem(f, v, w, lines, ind)
            return
        if f.element_is_struct:
            if opt:
                lines.append(f"{ind}if ({nullable_now}) {{")
                lines.append(f"{ind}    {w}.write_int8({v} ? 1 : -1);")
                lines.append(f"{ind}}}")
                lines.append(f"{ind}if ({v}) {{")
                lines.append(f"{ind}    {v}->encode({w}, version);")
                lines.append(f"{ind}}} else if (!({nullable_now})) {{")
                lines.append(f"{ind}    {self.struct_type(f)}{{}}.encode({w}, version);")
                lines.append(f"{ind}}}")
            else:
                lines.append(f"{ind}{v}.encode({w}, version);")
            return
        self.write_elem(f, v, w, lines, ind)

    # ---- decode --------------------------------------------------------------------------------

    def read_elem(self, f: S.Field, r: str) -> str:
        e = f.element
        compact = self.compact_expr(f)
        if e in PRIM_CPP:
            expr = f"{r}.read_{e}()"
            if f.strong in WRAPPED:
                expr = f"{STRONG_CPP[f.strong]}({expr})"
            return expr
        if e == "string":
            return f"{r}.read_string({compact})"
        if e == "bytes":
            return f"{r}.read_bytes({compact})"
        raise AssertionError("struct elements are decoded in place")

    def elem_min(self, f: S.Field) -> str:
        e = f.element
        compact = self.compact_expr(f)
        if e in PRIM_SIZE:
            return str(PRIM_SIZE[e])
        if e == "string":
            return f"({compact} ? 1U : 2U)"
        if e == "bytes":
            return f"({compact} ? 1U : 4U)"
        return f"{self.struct_type(f)}::min_size(version)"

    def read_field(self, f: S.Field, v: str, r: str, lines, ind):
        compact = self.compact_expr(f)
        nullable_now = cond(f.nullable)
        t = self.cpp_type(f)
        opt = t.startswith("std::optional") and f.element != "records"
        if f.element == "records" and not f.is_array:
            lines.append(f"{ind}{v} = {r}.read_records({compact});")
            lines.append(f"{ind}if (!{v} && {r}.ok() && !({nullable_now})) {{")
            lines.append(f"{ind}    {r}.fail(decode_errc::invalid_length);")
            lines.append(f"{ind}}}")
            return
        if f.is_array:
            lines.append(f"{ind}{{")
            lines.append(f"{ind}    const int32_t gen_n = {r}.read_array_length({compact}, {nullable_now}, {self.elem_min(f)});")
            target = v
            if opt:
                lines.append(f"{ind}    if (gen_n < 0) {{")
                lines.append(f"{ind}        {v}.reset();")
                lines.append(f"{ind}    }} else {{")
                lines.append(f"{ind}        {v}.emplace();")
                target = f"(*{v})"
            else:
                lines.append(f"{ind}    {{")
                lines.append(f"{ind}        {v}.clear();")
            # Reserve only a bounded number up front: the count is checked against the bytes left on the
            # wire, but an element takes more room in memory than its smallest encoding.
            lines.append(f"{ind}        {target}.reserve(std::min<size_t>(static_cast<size_t>(std::max(gen_n, 0)), 64));")
            lines.append(f"{ind}        for (int32_t gen_i = 0; gen_i < gen_n && {r}.ok(); ++gen_i) {{")
            if f.element_is_struct:
                lines.append(f"{ind}            {target}.emplace_back().decode({r}, version);")
            else:
                lines.append(f"{ind}            {target}.push_back({self.read_elem(f, r)});")
            lines.append(f"{ind}        }}")
            lines.append(f"{ind}    }}")
            lines.append(f"{ind}}}")
            return
        if f.element in ("string", "bytes"):
            kind = f.element
            if opt:
                lines.append(f"{ind}if ({nullable_now}) {{")
                lines.append(f"{ind}    {v} = {r}.read_nullable_{kind}({compact});")
                lines.append(f"{ind}}} else {{")
                lines.append(f"{ind}    {v} = {r}.read_{kind}({compact});")
                lines.append(f"{ind}}}")
            else:
                lines.append(f"{ind}{v} = {self.read_elem(f, r)};")
            return
        if f.element_is_struct:
            if opt:
                lines.append(f"{ind}if (!({nullable_now}) || {r}.read_int8() >= 0) {{")
                lines.append(f"{ind}    {v}.emplace().decode({r}, version);")
                lines.append(f"{ind}}} else {{")
                lines.append(f"{ind}    {v}.reset();")
                lines.append(f"{ind}}}")
            else:
                lines.append(f"{ind}{v}.decode({r}, version);")
            return
        lines.append(f"{ind}{v} = {self.read_elem(f, r)};")

    # ---- structs -------------------------------------------------------------------------------

    def nested_structs(self, fields, seen):
        """Inline structs directly under these fields (each defined once per scope)."""
        out = []
        for f in fields:
            if f.element_is_struct and f.fields:
                name = self.struct_type(f)
                if name not in seen:
                    seen.add(name)
                    out.append((name, f.fields))
        return out

    def emit_struct_decl(self, name, fields, out, ind, top=False):
        out.append(f"{ind}struct {name} {{")
        inner = ind + "    "
        if top:
            m = self.msg
            flex_first = m.flexible.lo if not m.flexible.empty() else 32767
            out.append(f"{inner}static constexpr int16_t api_key_value = {m.api_key};")
            out.append(f'{inner}static constexpr std::string_view message_name = "{m.name}";')
            out.append(f"{inner}static constexpr api_version min_version = {m.versions.lo};")
            out.append(f"{inner}static constexpr api_version max_version = {m.versions.hi};")
            out.append(f"{inner}static constexpr api_version first_flexible_version = {flex_first};")
            out.append("")
            for sname, s in sorted(self.msg.common.items()):
                self.emit_struct_decl(snake(sname) + "_data", s.fields, out, inner)
        for sname, sfields in self.nested_structs(fields, set()):
            if top or True:
                self.emit_struct_decl(sname, sfields, out, inner)
        for f in fields:
            out.append(f"{inner}{self.cpp_type(f)} {member(f.name)}{self.default_init(f)};")
        out.append(f"{inner}unknown_tagged_fields unknown_tags;")
        out.append("")
        out.append(f"{inner}void encode(wire_writer& w, api_version version) const;")
        out.append(f"{inner}void decode(wire_reader& r, api_version version);")
        out.append(f"{inner}// The fewest bytes an encoding at `version` can take (bounds array counts).")
        out.append(f"{inner}static size_t min_size(api_version version) noexcept;")
        out.append(f"{inner}bool operator==(const {name}&) const = default;")
        out.append(f"{ind}}};")
        out.append("")

    def emit_struct_defs(self, qual, fields, out):
        flex = cond(self.flex)
        body_fields = [f for f in fields]
        tagged = sorted([f for f in fields if f.tag is not None], key=lambda f: f.tag)
        # encode
        out.append(f"void {qual}::encode(wire_writer& w, api_version version) const {{")
        out.append(f"    [[maybe_unused]] const bool gen_flexible = {flex};")
        for f in body_fields:
            present = cond(f.versions.intersect(self.msg.versions))
            if present == "false":
                continue
            tagged_now = cond(f.tagged) if f.tag is not None else "false"
            c = present if tagged_now == "false" else f"({present}) && !(gen_flexible && {tagged_now})"
            out.append(f"    if ({c}) {{")
            self.write_field(f, member(f.name), "w", out, "        ")
            out.append("    }")
        out.append("    if (gen_flexible) {")
        out.append("        std::vector<std::pair<uint32_t, iobuf>> gen_tagged;")
        for f in tagged:
            c = cond(f.tagged)
            out.append(f"        if (({c}) && ({self.default_check(f, member(f.name))})) {{")
            out.append("            iobuf gen_value;")
            out.append("            {")
            out.append("                wire_writer gen_tw(gen_value);")
            self.write_field(f, member(f.name), "gen_tw", out, "                ")
            out.append("            }")
            out.append(f"            gen_tagged.emplace_back({f.tag}U, std::move(gen_value));")
            out.append("        }")
        out.append("        write_tagged_fields(w, gen_tagged, unknown_tags);")
        out.append("    }")
        out.append("}")
        out.append("")
        # decode
        out.append(f"void {qual}::decode(wire_reader& r, api_version version) {{")
        out.append(f"    [[maybe_unused]] const bool gen_flexible = {flex};")
        for f in body_fields:
            present = cond(f.versions.intersect(self.msg.versions))
            if present == "false":
                continue
            tagged_now = cond(f.tagged) if f.tag is not None else "false"
            c = present if tagged_now == "false" else f"({present}) && !(gen_flexible && {tagged_now})"
            out.append(f"    if ({c}) {{")
            self.read_field(f, member(f.name), "r", out, "        ")
            out.append("    }")
        out.append("    if (gen_flexible) {")
        out.append("        const uint32_t gen_count = r.read_unsigned_varint();")
        out.append("        for (uint32_t gen_t = 0; gen_t < gen_count && r.ok(); ++gen_t) {")
        out.append("            const uint32_t gen_tag = r.read_unsigned_varint();")
        out.append("            const uint32_t gen_size = r.read_unsigned_varint();")
        out.append("            wire_reader gen_sub = r.sub_reader(gen_size);")
        out.append("            if (!r.ok()) {")
        out.append("                break;")
        out.append("            }")
        out.append("            switch (gen_tag) {")
        for f in tagged:
            out.append(f"            case {f.tag}U:")
            out.append(f"                if ({cond(f.tagged)}) {{")
            self.read_field(f, member(f.name), "gen_sub", out, "                    ")
            out.append("                    r.merge(gen_sub);")
            out.append("                    continue;")
            out.append("                }")
            out.append("                break;")
        out.append("            default:")
        out.append("                break;")
        out.append("            }")
        out.append("            unknown_tags.push_back(tagged_field{gen_tag, gen_sub.read_raw(gen_size)});")
        out.append("        }")
        out.append("    }")
        out.append("}")
        out.append("")
        # min_size
        out.append(f"size_t {qual}::min_size(api_version version) noexcept {{")
        out.append(f"    [[maybe_unused]] const bool gen_flexible = {flex};")
        out.append("    size_t gen_n = 0;")
        for f in body_fields:
            present = cond(f.versions.intersect(self.msg.versions))
            if present == "false":
                continue
            tagged_now = cond(f.tagged) if f.tag is not None else "false"
            c = present if tagged_now == "false" else f"({present}) && !(gen_flexible && {tagged_now})"
            out.append(f"    if ({c}) {{")
            out.append(f"        gen_n += {self.min_size_expr(f)};")
            out.append("    }")
        out.append("    if (gen_flexible) {")
        out.append("        gen_n += 1; // the tagged-field count")
        out.append("    }")
        out.append("    return gen_n;")
        out.append("}")
        out.append("")
        # nested
        for f in fields:
            if f.element_is_struct and f.fields:
                pass

    def all_struct_defs(self, out):
        cls = self.cls
        for sname, s in sorted(self.msg.common.items()):
            self.defs_recursive(f"{cls}::{snake(sname)}_data", s.fields, out)
        self.defs_recursive(cls, self.msg.fields, out)

    def defs_recursive(self, qual, fields, out):
        for sname, sfields in self.nested_structs(fields, set()):
            self.defs_recursive(f"{qual}::{sname}", sfields, out)
        self.emit_struct_defs(qual, fields, out)

    # ---- random fill (test support) ------------------------------------------------------------

    def fill_field(self, f: S.Field, v: str, out, ind, depth):
        nullable_now = cond(f.nullable)
        t = self.cpp_type(f)
        opt = t.startswith("std::optional")
        e = f.element

        def elem_value(lines, target_expr, ind2):
            if e in PRIM_CPP:
                if e == "uuid":
                    lines.append(f"{ind2}{target_expr} = rnd.random_uuid();")
                elif e == "bool":
                    lines.append(f"{ind2}{target_expr} = rnd.chance(2);")
                elif e == "float64":
                    lines.append(f"{ind2}{target_expr} = rnd.random_double();")
                else:
                    cpp = PRIM_CPP[e]
                    val = f"static_cast<{cpp}>(rnd.next())"
                    if f.strong in WRAPPED:
                        val = f"{STRONG_CPP[f.strong]}({val})"
                    lines.append(f"{ind2}{target_expr} = {val};")
            elif e == "string":
                lines.append(f"{ind2}{target_expr} = rnd.random_string();")
            elif e == "bytes":
                lines.append(f"{ind2}{target_expr} = rnd.random_bytes();")
            elif e == "records":
                lines.append(f"{ind2}{target_expr} = rnd.random_records();")
            else:
                lines.append(f"{ind2}fill_random({target_expr}, version, rnd);")

        if f.is_array:
            out.append(f"{ind}if (({nullable_now}) && rnd.chance(8)) {{")
            out.append(f"{ind}    {v} = {{}};" if opt else f"{ind}    {v}.clear();")
            out.append(f"{ind}}} else {{")
            target = f"(*{v})" if opt else v
            if opt:
                out.append(f"{ind}    {v}.emplace();")
            out.append(f"{ind}    const size_t gen_n = rnd.below({4 if depth < 2 else 2});")
            out.append(f"{ind}    for (size_t gen_i = 0; gen_i < gen_n; ++gen_i) {{")
            if f.element_is_struct:
                out.append(f"{ind}        fill_random({target}.emplace_back(), version, rnd);")
            else:
                out.append(f"{ind}        {target}.emplace_back();")
                elem_value(out, f"{target}.back()", ind + "        ")
            out.append(f"{ind}    }}")
            out.append(f"{ind}}}")
            return
        if opt or e == "records":
            out.append(f"{ind}if (({nullable_now}) && rnd.chance(8)) {{")
            out.append(f"{ind}    {v}.reset();")
            out.append(f"{ind}}} else {{")
            if f.element_is_struct:
                out.append(f"{ind}    fill_random({v}.emplace(), version, rnd);")
            elif e == "records":
                out.append(f"{ind}    {v} = rnd.random_records();")
            else:
                elem_value(out, f"{v}.emplace()", ind + "    ")
            out.append(f"{ind}}}")
            return
        if f.element_is_struct:
            out.append(f"{ind}fill_random({v}, version, rnd);")
            return
        elem_value(out, v, ind)

    def fill_defs(self, qual, fields, out, depth=0):
        for sname, sfields in self.nested_structs(fields, set()):
            self.fill_defs(f"{qual}::{sname}", sfields, out, depth + 1)
        out.append(f"void fill_random({qual}& x, api_version version, random_source& rnd) {{")
        out.append(f"    [[maybe_unused]] const bool gen_flexible = {cond(self.flex)};")
        for f in fields:
            present = cond(f.versions.intersect(self.msg.versions))
            if present == "false":
                continue
            if f.tag is not None:
                c = f"({present}) && (!gen_flexible || (({cond(f.tagged)}) && rnd.chance(2)))"
            else:
                c = present
            out.append(f"    if ({c}) {{")
            self.fill_field(f, f"x.{member(f.name)}", out, "        ", depth)
            out.append("    }")
        out.append("    if (gen_flexible && rnd.chance(4)) {")
        out.append("        x.unknown_tags.push_back(tagged_field{1000U + static_cast<uint32_t>(rnd.below(10)), rnd.random_bytes()});")
        out.append("    }")
        out.append("}")
        out.append("")

    def fill_decls(self, qual, fields, out):
        for sname, sfields in self.nested_structs(fields, set()):
            self.fill_decls(f"{qual}::{sname}", sfields, out)
        out.append(f"void fill_random({qual}& x, api_version version, random_source& rnd);")

    def all_fill(self, out, decls_only):
        for sname, s in sorted(self.msg.common.items()):
            q = f"{self.cls}::{snake(sname)}_data"
            if decls_only:
                self.fill_decls(q, s.fields, out)
            else:
                self.fill_defs(q, s.fields, out, 1)
        if decls_only:
            self.fill_decls(self.cls, self.msg.fields, out)
        else:
            self.fill_defs(self.cls, self.msg.fields, out)


def write_if_changed(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    path.write_text(text)


BANNER = "// Generated by tools/codegen/kafka_codegen.py from {src}. Do not edit.\n"


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2]) / "protocol" / "messages"
    try:
        messages = S.load_all(schema_dir)
    except S.SchemaError as e:
        print(f"kafka_codegen: {e}", file=sys.stderr)
        return 1

    for m in messages:
        g = Gen(m)
        stem = m.path.stem
        h = [BANNER.format(src=f"schemas/kafka/{m.path.name}"), "#pragma once", "",
             '#include "protocol/message_support.h"', "", "namespace ms::protocol {", ""]
        g.emit_struct_decl(g.cls, m.fields, h, "", top=True)
        h += ["} // namespace ms::protocol", ""]
        write_if_changed(out_dir / f"{stem}.h", "\n".join(h))
        c = [BANNER.format(src=f"schemas/kafka/{m.path.name}"),
             f'#include "protocol/messages/{stem}.h"', "", "#include <algorithm>", "",
             "namespace ms::protocol {", ""]
        g.all_struct_defs(c)
        c += ["} // namespace ms::protocol", ""]
        write_if_changed(out_dir / f"{stem}.cc", "\n".join(c))

    apis = {}
    for m in messages:
        if m.kind in ("request", "response"):
            apis.setdefault(m.api_key, {})[m.kind] = m
    for key, pair in apis.items():
        if set(pair) != {"request", "response"}:
            print(f"kafka_codegen: API {key} lacks a request or response schema", file=sys.stderr)
            return 1
        rq, rs = pair["request"], pair["response"]
        if rq.versions != rs.versions or rq.flexible != rs.flexible:
            print(f"kafka_codegen: {rq.name} and {rs.name} disagree on versions", file=sys.stderr)
            return 1

    keys = sorted(apis)
    all_h = [BANNER.format(src="schemas/kafka/*.schema"), "#pragma once", ""]
    all_h += [f'#include "protocol/messages/{m.path.stem}.h"' for m in messages]
    write_if_changed(out_dir / "all.h", "\n".join(all_h) + "\n")

    t = [BANNER.format(src="schemas/kafka/*.schema"), "#pragma once", "",
         "#include <array>", "#include <cstdint>", "#include <string_view>", "",
         '#include "protocol/wire.h"', "", "namespace ms::protocol {", "",
         "struct api_info {", "    int16_t key;", "    std::string_view name;",
         "    api_version min_version;", "    api_version max_version;",
         "    api_version first_flexible_version; // max_version + 1 when never flexible",
         "};", "",
         f"inline constexpr std::array<api_info, {len(keys)}> api_table{{{{"]
    for k in keys:
        rq = apis[k]["request"]
        flex = rq.flexible.lo if not rq.flexible.empty() else rq.versions.hi + 1
        t.append(f'    {{{k}, "{rq.name[:-len("Request")]}", {rq.versions.lo}, {rq.versions.hi}, {flex}}},')
    t += ["}};", "",
          "// The table entry for an API key, or nullptr. O(log n), usable at compile time.",
          "constexpr const api_info* find_api(int16_t key) noexcept {",
          "    size_t lo = 0;", "    size_t hi = api_table.size();",
          "    while (lo < hi) {", "        const size_t mid = (lo + hi) / 2;",
          "        if (api_table[mid].key < key) {", "            lo = mid + 1;",
          "        } else {", "            hi = mid;", "        }", "    }",
          "    return lo < api_table.size() && api_table[lo].key == key ? &api_table[lo] : nullptr;",
          "}", "",
          "constexpr bool is_flexible(const api_info& api, api_version version) noexcept {",
          "    return version >= api.first_flexible_version;", "}", "",
          "} // namespace ms::protocol", ""]
    write_if_changed(out_dir / "api_table.h", "\n".join(t))

    # any_message: variants and dispatch by API key.
    reqs = [snake(apis[k]["request"].name) for k in keys]
    resps = [snake(apis[k]["response"].name) for k in keys]
    a = [BANNER.format(src="schemas/kafka/*.schema"), "#pragma once", "", "#include <variant>", "",
         '#include "protocol/messages/all.h"', "", "namespace ms::protocol {", "",
         "using any_request = std::variant<" + ", ".join(reqs) + ">;",
         "using any_response = std::variant<" + ", ".join(resps) + ">;", "",
         "// Decodes a body of the given API and version; the whole input must be consumed.",
         "result<any_request, decode_error> decode_request_body(int16_t key, api_version version, wire_reader& r);",
         "result<any_response, decode_error> decode_response_body(int16_t key, api_version version, wire_reader& r);",
         "void encode_body(const any_request& body, api_version version, wire_writer& w);",
         "void encode_body(const any_response& body, api_version version, wire_writer& w);",
         "int16_t api_key_of(const any_request& body) noexcept;",
         "int16_t api_key_of(const any_response& body) noexcept;", "",
         "} // namespace ms::protocol", ""]
    write_if_changed(out_dir / "any_message.h", "\n".join(a))
    c = [BANNER.format(src="schemas/kafka/*.schema"), '#include "protocol/messages/any_message.h"', "",
         "namespace ms::protocol {", "", "namespace {", "",
         "template<typename Message, typename Variant>",
         "result<Variant, decode_error> decode_as(api_version version, wire_reader& r) {",
         "    if (version < Message::min_version || version > Message::max_version) {",
         "        return unexpected(decode_error{decode_errc::unsupported_version, r.position()});",
         "    }",
         "    Message m;", "    m.decode(r, version);", "    r.expect_end();",
         "    if (auto s = r.status(); !s) {", "        return unexpected(s.error());", "    }",
         "    return Variant(std::move(m));", "}", "", "} // namespace", ""]
    for kind, names, var in (("request", reqs, "any_request"), ("response", resps, "any_response")):
        c.append(f"result<{var}, decode_error> decode_{kind}_body(int16_t key, api_version version, wire_reader& r) {{")
        c.append("    switch (key) {")
        for k, n in zip(keys, names):
            c.append(f"    case {k}: return decode_as<{n}, {var}>(version, r);")
        c.append("    default: return unexpected(decode_error{decode_errc::unknown_api, r.position()});")
        c.append("    }")
        c.append("}")
        c.append("")
        c.append(f"void encode_body(const {var}& body, api_version version, wire_writer& w) {{")
        c.append("    std::visit([&](const auto& m) { m.encode(w, version); }, body);")
        c.append("}")
        c.append("")
        c.append(f"int16_t api_key_of(const {var}& body) noexcept {{")
        c.append("    return std::visit([](const auto& m) { return static_cast<int16_t>(m.api_key_value); }, body);")
        c.append("}")
        c.append("")
    c += ["} // namespace ms::protocol", ""]
    write_if_changed(out_dir / "any_message.cc", "\n".join(c))

    # random fill (test support)
    rh = [BANNER.format(src="schemas/kafka/*.schema"), "#pragma once", "",
          '#include "protocol/messages/any_message.h"', '#include "protocol/testing/random_source.h"', "",
          "namespace ms::protocol {", ""]
    rc = [BANNER.format(src="schemas/kafka/*.schema"), '#include "protocol/messages/random_fill.h"', "",
          "namespace ms::protocol {", ""]
    for m in messages:
        g = Gen(m)
        g.all_fill(rh, True)
        g.all_fill(rc, False)
    rh += ["", "// A random request/response of the given API and version.",
           "any_request random_request(int16_t key, api_version version, random_source& rnd);",
           "any_response random_response(int16_t key, api_version version, random_source& rnd);", "",
           "} // namespace ms::protocol", ""]
    for kind, names, var in (("request", reqs, "any_request"), ("response", resps, "any_response")):
        rc.append(f"{var} random_{kind}(int16_t key, api_version version, random_source& rnd) {{")
        rc.append("    switch (key) {")
        for k, n in zip(keys, names):
            rc.append(f"    case {k}: {{")
            rc.append(f"        {n} m;")
            rc.append("        fill_random(m, version, rnd);")
            rc.append(f"        return {var}(std::move(m));")
            rc.append("    }")
        rc.append("    default: break;")
        rc.append("    }")
        rc.append(f"    return {var}();")
        rc.append("}")
        rc.append("")
    rc += ["} // namespace ms::protocol", ""]
    write_if_changed(out_dir / "random_fill.h", "\n".join(rh))
    write_if_changed(out_dir / "random_fill.cc", "\n".join(rc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
