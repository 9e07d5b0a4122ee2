# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read TOML with the standard library (tomllib, Python 3.11+) or tomli, and write the subset containerd uses.

The writer covers the value types in containerd's configuration: strings, booleans, integers, floats, arrays of
those, tables, and arrays of tables. Output is deterministic: keys sorted as `containerd config dump` sorts them,
plain values before sub-tables, so the same document always gives the same bytes and a rerun changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

try:
    import tomllib as _toml_reader
except ImportError:  # Python before 3.11
    try:
        import tomli as _toml_reader
    except ImportError:
        _toml_reader = None

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlError(ValueError):
    """A document that cannot be read or written, with the reason in words."""


def loads(text, source="the text"):
    """Parse TOML text into a dict; a clear error when no parser is installed or the text is not TOML."""
    if _toml_reader is None:
        raise TomlError(
            "reading TOML needs Python 3.11 or later (tomllib) or the tomli package: install python3-tomli on the "
            "host (apt-get install python3-tomli) and run again"
        )
    try:
        return _toml_reader.loads(text)
    except _toml_reader.TOMLDecodeError as exc:
        raise TomlError("%s is not valid TOML: %s" % (source, exc)) from exc


def quote_key(key):
    return key if BARE_KEY.match(key) else quote_string(key)


def quote_string(value):
    out = []
    for char in value:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def format_value(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TomlError("%s is %r, which containerd's configuration cannot hold" % (where, value))
        return repr(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item, where) for item in value) + "]"
    if isinstance(value, dict):
        # Only inside arrays (tables are written as sections); containerd's dumps have none, but users' files may.
        items = ["%s = %s" % (quote_key(str(k)), format_value(v, where)) for k, v in sorted(value.items())]
        return "{" + ", ".join(items) + "}"
    raise TomlError("%s is a %s, which TOML cannot hold" % (where, type(value).__name__))


def _is_table_array(value):
    return isinstance(value, list) and value != [] and all(isinstance(item, dict) for item in value)


def _write_table(lines, table, path, depth):
    plain = [(k, v) for k, v in sorted(table.items()) if not isinstance(v, dict) and not _is_table_array(v)]
    nested = [(k, v) for k, v in sorted(table.items()) if isinstance(v, dict) or _is_table_array(v)]
    indent = "  " * depth
    for key, value in plain:
        where = ".".join(path + [key])
        lines.append("%s%s = %s" % (indent, quote_key(key), format_value(value, where)))
    for key, value in nested:
        child = path + [key]
        header = ".".join(quote_key(part) for part in child)
        child_indent = "  " * (len(child) - 1)
        if isinstance(value, dict):
            lines.append("")
            lines.append("%s[%s]" % (child_indent, header))
            _write_table(lines, value, child, len(child))
        else:
            for item in value:
                lines.append("")
                lines.append("%s[[%s]]" % (child_indent, header))
                _write_table(lines, item, child, len(child))


def dumps(document, header=""):
    """TOML text of `document` (a dict), with `header` as leading comment lines."""
    lines = ["# " + line if line else "#" for line in header.splitlines()]
    body = []
    _write_table(body, document, [], 0)
    while body and body[0] == "":
        body.pop(0)
    if lines and body:
        lines.append("")
    return "\n".join(lines + body) + "\n"
