"""Parser for the project's Kafka schema files (format: schemas/kafka/README.md)."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


class SchemaError(Exception):
    pass


@dataclass(frozen=True)
class Versions:
    """An inclusive version range; hi None = open ended; empty when lo > hi."""

    lo: int
    hi: Optional[int]

    @staticmethod
    def parse(text: str, where: str) -> "Versions":
        if text == "none":
            return Versions(1, 0)
        m = re.fullmatch(r"(\d+)\+", text)
        if m:
            return Versions(int(m.group(1)), None)
        m = re.fullmatch(r"(\d+)-(\d+)", text)
        if m:
            return Versions(int(m.group(1)), int(m.group(2)))
        m = re.fullmatch(r"(\d+)", text)
        if m:
            return Versions(int(m.group(1)), int(m.group(1)))
        raise SchemaError(f"{where}: bad version range '{text}'")

    def empty(self) -> bool:
        return self.hi is not None and self.lo > self.hi

    def contains(self, v: int) -> bool:
        return not self.empty() and v >= self.lo and (self.hi is None or v <= self.hi)

    def intersect(self, other: "Versions") -> "Versions":
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        return Versions(lo, min(his) if his else None)


PRIMITIVES = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid",
              "string", "bytes", "records"}
STRONG_TYPES = {"offset": "int64", "leader_epoch": "int32", "partition_id": "int32",
                "node_id": "int32", "timestamp": "int64", "api_key": "int16", "error_code": "int16"}


@dataclass
class Field:
    name: str
    type: str                      # as written: "int32", "[]Foo", "Foo"
    versions: Versions
    line: int
    nullable: Versions = Versions(1, 0)
    default: Optional[str] = None
    tag: Optional[int] = None
    tagged: Versions = Versions(1, 0)
    ignorable: bool = False
    strong: Optional[str] = None
    never_flexible: bool = False
    fields: list = field(default_factory=list)   # inline struct fields

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[]")

    @property
    def element(self) -> str:
        return self.type[2:] if self.is_array else self.type

    @property
    def element_is_struct(self) -> bool:
        return self.element not in PRIMITIVES


@dataclass
class Struct:
    name: str
    fields: list


@dataclass
class Message:
    name: str
    api_key: int
    kind: str
    versions: Versions
    flexible: Versions
    fields: list
    common: dict                   # name -> Struct
    path: Path


def _parse_attrs(tokens, f: Field, where: str):
    for tok in tokens:
        if tok == "ignorable":
            f.ignorable = True
            continue
        if "=" not in tok:
            raise SchemaError(f"{where}: unknown attribute '{tok}'")
        key, value = tok.split("=", 1)
        if key == "nullable":
            f.nullable = Versions.parse(value, where)
        elif key == "default":
            f.default = value
        elif key == "tag":
            f.tag = int(value)
        elif key == "tagged":
            f.tagged = Versions.parse(value, where)
        elif key == "as":
            if value not in STRONG_TYPES:
                raise SchemaError(f"{where}: unknown strong type '{value}'")
            f.strong = value
        elif key == "flexible":
            if value != "none":
                raise SchemaError(f"{where}: field flexible= only takes 'none'")
            f.never_flexible = True
        else:
            raise SchemaError(f"{where}: unknown attribute '{key}'")


def _tokenize(line: str):
    # Quoted defaults may contain spaces: default="a b".
    return re.findall(r'[^\s"]+="[^"]*"|"[^"]*"|\S+', line)


def parse(path: Path) -> Message:
    header = {}
    roots = []
    common = {}
    # Stack of (indent, list to append to, owner field or struct).
    stack = []
    current_struct = None
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.name}:{lineno}"
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip(" "))
        if indent % 2:
            raise SchemaError(f"{where}: indentation must be a multiple of two spaces")
        tokens = _tokenize(text.strip())
        if indent == 0 and tokens[0] in ("message", "api", "versions", "flexible"):
            header[tokens[0]] = tokens[1:]
            continue
        if indent == 0 and tokens[0] == "struct":
            if len(tokens) != 2:
                raise SchemaError(f"{where}: expected 'struct Name'")
            current_struct = Struct(tokens[1], [])
            common[tokens[1]] = current_struct
            stack = [(0, current_struct.fields)]
            continue
        if indent == 0:
            current_struct = None
            stack = [(0, roots)]
        if len(tokens) < 3:
            raise SchemaError(f"{where}: expected 'Name type versions [attributes]'")
        base = 2 if current_struct is not None else 0
        level = (indent - base) // 2
        if current_struct is not None and indent == 0:
            raise SchemaError(f"{where}: struct fields must be indented")
        while len(stack) > level + 1:
            stack.pop()
        if len(stack) != level + 1:
            raise SchemaError(f"{where}: unexpected indentation")
        f = Field(tokens[0], tokens[1], Versions.parse(tokens[2], where), lineno)
        _parse_attrs(tokens[3:], f, where)
        stack[-1][1].append(f)
        stack.append((indent, f.fields))

    for key in ("message", "api", "versions", "flexible"):
        if key not in header:
            raise SchemaError(f"{path.name}: missing '{key}' line")
    api = header["api"]
    msg = Message(header["message"][0], int(api[0]), api[1],
                  Versions.parse(header["versions"][0], path.name),
                  Versions.parse(header["flexible"][0], path.name), roots, common, path)
    _check(msg)
    return msg


def _check(msg: Message):
    def walk(fields, where):
        names = set()
        tags = set()
        for f in fields:
            if f.name in names:
                raise SchemaError(f"{where}:{f.line}: duplicate field {f.name}")
            names.add(f.name)
            if f.tag is not None:
                if f.tag in tags:
                    raise SchemaError(f"{where}:{f.line}: duplicate tag {f.tag}")
                tags.add(f.tag)
                if f.tagged.empty():
                    raise SchemaError(f"{where}:{f.line}: tag without tagged= versions")
            if f.element_is_struct:
                if not f.fields and f.element not in msg.common:
                    raise SchemaError(f"{where}:{f.line}: struct {f.element} has no fields and no 'struct' block")
                walk(f.fields, where)
            elif f.fields:
                raise SchemaError(f"{where}:{f.line}: primitive field {f.name} has nested fields")
            if f.strong and STRONG_TYPES[f.strong] != f.type:
                raise SchemaError(f"{where}:{f.line}: as={f.strong} needs type {STRONG_TYPES[f.strong]}")
    walk(msg.fields, msg.path.name)
    for s in msg.common.values():
        walk(s.fields, msg.path.name)


def load_all(directory: Path):
    return [parse(p) for p in sorted(directory.glob("*.schema"))]
