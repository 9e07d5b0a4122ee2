# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a CDI specification (YAML or JSON) and the facts about it that tell whether it still fits the host.

Plain Python (no Ansible import). Target hosts may lack PyYAML: JSON needs only the standard library, PyYAML is used
when importable, and otherwise a reader of the YAML subset that CDI specs are written in (block mappings and
sequences of scalars, as `nvidia-ctk cdi generate` writes them through go-yaml, plus comments and quoted strings).
A spec outside that subset (anchors, block scalars, multi-line flow collections) raises CdiSpecError instead of
being guessed at; the caller then compares the text as it is. Parsing serves two ends: a reformatted but equal spec
is not rewritten, and a stale one is reported with its reason (driver version, missing files, devices).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

try:
    import yaml as _yaml
except ImportError:  # pragma: no cover - exercised on hosts without PyYAML
    _yaml = None

# The files whose names carry the driver's version in every driver release (libnvidia-ml.so.550.54.15). Other
# libraries in the spec carry their own versions (libnvidia-egl-wayland.so.1.1.19), so only these count.
DRIVER_VERSIONED_FILE = re.compile(r"^(?:libnvidia-ml|libcuda)\.so\.(\d+\.\d+(?:\.\d+)?)$")
# nvidia-cdi-hook enable-cuda-compat (toolkit 1.17.5 and later) names the driver too.
HOST_DRIVER_VERSION_ARG = re.compile(r"^--host-driver-version=(\S+)$")
# CDI names the whole-set device "all"; it is no GPU of its own.
ALL_DEVICES = "all"


class CdiSpecError(Exception):
    """The text is not a CDI spec this reader understands."""


def _strip_comment(text):
    """The line without a trailing ` # comment` outside quotes."""
    quote = None
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (position == 0 or text[position - 1] in " \t"):
            return text[:position].rstrip()
    return text.rstrip()


def _logical_lines(text):
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise CdiSpecError("line %d: a tab in the indentation (YAML forbids it)" % number)
        content = _strip_comment(raw.strip())
        if not content or content in ("---", "..."):
            continue
        if content.startswith(("%", "&", "*", "!", "|", ">")):
            raise CdiSpecError("line %d: YAML beyond what CDI specs use (%s)" % (number, content[:20]))
        lines.append([len(raw) - len(raw.lstrip()), content, number])
    return lines


_INTEGER = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(text, number):
    if text.startswith('"'):
        if not text.endswith('"') or len(text) < 2:
            raise CdiSpecError("line %d: unterminated double-quoted string" % number)
        try:
            return json.loads(text)
        except ValueError:
            message = "line %d: a double-quoted string with escapes this reader does not know" % number
            raise CdiSpecError(message) from None
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise CdiSpecError("line %d: unterminated single-quoted string" % number)
        return text[1:-1].replace("''", "'")
    if text.startswith(("[", "{")):
        return _flow(text, number)
    if text[0] in "&*!|>%@`":
        # Anchors, aliases, tags, block scalars and reserved indicators: YAML beyond what CDI specs use.
        raise CdiSpecError("line %d: YAML beyond what CDI specs use (%s)" % (number, text[:20]))
    if text in ("null", "Null", "NULL", "~"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INTEGER.match(text):
        return int(text)
    if _FLOAT.match(text) and any(char.isdigit() for char in text):
        return float(text)
    return text


def _flow(text, number):
    """`[]`, `{}` and one-line flow sequences of scalars ([ro, nosuid]); anything richer is refused."""
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    if text.startswith("[") and text.endswith("]") and not re.search(r"[\[\]{}]", text[1:-1]):
        items = [item.strip() for item in text[1:-1].split(",")]
        if any(not item or item[0] in "\"'" for item in items):
            raise CdiSpecError("line %d: a flow sequence this reader does not handle" % number)
        return [_scalar(item, number) for item in items]
    raise CdiSpecError("line %d: a flow collection this reader does not handle" % number)


def _split_key(content, number):
    """(key, rest) for `key: rest`, or None when the line is no mapping entry."""
    if content.startswith(('"', "'")):
        quote = content[0]
        end = content.find(quote, 1)
        if end < 0 or content[end + 1 : end + 2] != ":" or content[end + 2 : end + 3] not in ("", " "):
            return None
        return _scalar(content[: end + 1], number), content[end + 2 :].strip()
    match = re.match(r"^([^\s:#\[\]{},][^:]*?):(?:\s+(.*))?$", content)
    if not match:
        return None
    return match.group(1), (match.group(2) or "").strip()


def _is_item(content):
    return content == "-" or content.startswith("- ")


class _Reader:
    def __init__(self, text):
        self.lines = _logical_lines(text)

    def node(self, index, parent_indent):
        """The node starting at lines[index], which must be indented deeper than parent_indent."""
        if index >= len(self.lines) or self.lines[index][0] <= parent_indent:
            return None, index
        indent, content, number = self.lines[index]
        if _is_item(content):
            return self.sequence(index, indent)
        if _split_key(content, number) is not None:
            return self.mapping(index, indent)
        if index + 1 < len(self.lines) and self.lines[index + 1][0] > parent_indent:
            raise CdiSpecError("line %d: a multi-line scalar (not used by CDI specs)" % number)
        return _scalar(content, number), index + 1

    def sequence(self, index, indent):
        items = []
        while index < len(self.lines):
            line_indent, content, number = self.lines[index]
            if line_indent != indent or not _is_item(content):
                if line_indent > indent:
                    raise CdiSpecError("line %d: unexpected indentation" % number)
                break
            rest = content[1:].lstrip()
            if not rest:
                value, index = self.node(index + 1, indent)
            elif _is_item(rest) or _split_key(rest, number) is not None:
                # `- key: value` opens a mapping whose keys line up under `key`.
                self.lines[index] = [indent + len(content) - len(rest), rest, number]
                value, index = self.node(index, indent)
            else:
                value, index = _scalar(rest, number), index + 1
            items.append(value)
        return items, index

    def mapping(self, index, indent):
        result = {}
        while index < len(self.lines):
            line_indent, content, number = self.lines[index]
            if line_indent != indent or _is_item(content):
                if line_indent > indent:
                    raise CdiSpecError("line %d: unexpected indentation" % number)
                break
            entry = _split_key(content, number)
            if entry is None:
                raise CdiSpecError("line %d: expected `key: value`, found %r" % (number, content[:40]))
            key, rest = entry
            if key in result:
                raise CdiSpecError("line %d: duplicate key %r" % (number, key))
            if rest:
                result[key], index = _scalar(rest, number), index + 1
                continue
            following = self.lines[index + 1] if index + 1 < len(self.lines) else None
            if following is not None and following[0] == indent and _is_item(following[1]):
                # go-yaml writes a mapping's sequence at the key's own indentation.
                result[key], index = self.sequence(index + 1, indent)
            else:
                result[key], index = self.node(index + 1, indent)
        return result, index


def load_yaml_subset(text):
    """Parse the block-style YAML subset that CDI specs use; CdiSpecError for anything beyond it."""
    reader = _Reader(text)
    if not reader.lines:
        return None
    value, index = reader.node(0, -1)
    if index != len(reader.lines):
        raise CdiSpecError("line %d: content after the document's end" % reader.lines[index][2])
    return value


def load_spec(text):
    """The spec as Python data: JSON when it starts with `{`, else YAML (PyYAML when importable)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise CdiSpecError("not valid JSON: %s" % error) from None
    elif _yaml is not None:
        try:
            document = _yaml.safe_load(text)
        except _yaml.YAMLError as error:
            raise CdiSpecError("not valid YAML: %s" % str(error).replace("\n", " ")) from None
    else:
        document = load_yaml_subset(text)
    if not isinstance(document, dict) or "kind" not in document or "cdiVersion" not in document:
        raise CdiSpecError("not a CDI spec (no cdiVersion and kind at the top)")
    return document


def _edits(spec):
    """Every containerEdits block: the spec's own and each device's."""
    blocks = [spec.get("containerEdits") or {}]
    for device in spec.get("devices") or []:
        if isinstance(device, dict):
            blocks.append(device.get("containerEdits") or {})
    return [block for block in blocks if isinstance(block, dict)]


def spec_facts(spec):
    """What the spec says about the host: its kind, device names, host files and the driver version(s) it names."""
    host_paths = []
    driver_versions = set()
    for edits in _edits(spec):
        for node in edits.get("deviceNodes") or []:
            path = node.get("hostPath") or node.get("path") if isinstance(node, dict) else None
            if path:
                host_paths.append(path)
        for mount in edits.get("mounts") or []:
            path = mount.get("hostPath") if isinstance(mount, dict) else None
            if path:
                host_paths.append(path)
                match = DRIVER_VERSIONED_FILE.match(path.rsplit("/", 1)[-1])
                if match:
                    driver_versions.add(match.group(1))
        for hook in edits.get("hooks") or []:
            if not isinstance(hook, dict):
                continue
            if hook.get("path"):
                host_paths.append(hook["path"])
            for arg in hook.get("args") or []:
                match = HOST_DRIVER_VERSION_ARG.match(str(arg))
                if match:
                    driver_versions.add(match.group(1))
    names = [str(device.get("name")) for device in spec.get("devices") or [] if isinstance(device, dict)]
    return {
        "kind": spec.get("kind"),
        "cdi_version": str(spec.get("cdiVersion")),
        "device_names": names,
        "host_paths": sorted(set(host_paths)),
        "driver_versions": sorted(driver_versions),
    }


def same_spec(text_a, text_b):
    """Whether two spec texts say the same thing: equal once parsed, or (when either cannot be parsed) equal text."""
    if text_a == text_b:
        return True
    try:
        return load_spec(text_a) == load_spec(text_b)
    except CdiSpecError:
        return False
