# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, merge and write Docker's daemon.json without losing what is already there.

Plain Python, no Ansible import: the module docker_daemon_config and the unit tests share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import math
import re

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.nvidia_runtime import (
    ContributionConflict,
    with_nvidia_runtime,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.json_types import json_type_name
from ansible_collections.gpufleet.containers.plugins.module_utils.merge import deep_merge

DEFAULT_INDENT = 2
_UTF8_BOM = "\ufeff"
# No dockerd setting is nested more than five levels; Python's own recursion (json, deepcopy, the merge) gives out
# well before 1000. A limit far above the first and far below the second refuses hostile files with a clear error.
MAX_NESTING_DEPTH = 100
# What the JSON text holds outside strings: a string (skipped whole), a bracket, or a number.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class DaemonJsonError(Exception):
    """The file cannot be used as daemon.json; line/column point at the fault when known."""

    def __init__(self, message, line=None, column=None):
        super(DaemonJsonError, self).__init__(message)
        self.message = message
        self.line = line
        self.column = column


class DaemonJsonInputError(ValueError):
    """The requested settings or removals are malformed."""


def _reject_constant(name):
    # Python's json accepts NaN/Infinity; Go's encoding/json (dockerd) does not.
    raise ValueError("%s is not valid JSON" % name)


class _NumberOutOfRange(ValueError):
    def __init__(self, literal):
        super(_NumberOutOfRange, self).__init__(literal)
        self.literal = literal


def _finite_float(literal):
    # Python reads 1e999 as infinity; dockerd reads every number as a 64-bit float and refuses one out of its range.
    value = float(literal)
    if math.isinf(value):
        raise _NumberOutOfRange(literal)
    return value


def _float_sized_int(literal):
    value = int(literal)
    if not _fits_a_float(value):
        raise _NumberOutOfRange(literal)
    return value


def _fits_a_float(number):
    try:
        return not math.isinf(float(number)) and not math.isnan(float(number))
    except OverflowError:
        return False


def _line_and_column(text, index):
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _tokens_outside_strings(text):
    for match in _JSON_TOKEN.finditer(text):
        if not match.group().startswith('"'):
            yield match


def _check_nesting_depth(text):
    """Refuse text nested deeper than MAX_NESTING_DEPTH, before Python's recursion meets it."""
    depth = 0
    for match in _tokens_outside_strings(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                line, column = _line_and_column(text, match.start())
                raise DaemonJsonError(
                    "objects and arrays are nested more than %d levels deep; no dockerd setting is" % MAX_NESTING_DEPTH,
                    line,
                    column,
                )
        elif token in "]}":
            depth -= 1


def _position_of_number(text, literal):
    for match in _tokens_outside_strings(text):
        if match.group() == literal:
            return _line_and_column(text, match.start())
    return None, None


def parse_daemon_json(text):
    """Return (config dict, warnings) for the text of a daemon.json.

    Empty or whitespace-only text is {} (dockerd starts with it too). A leading UTF-8 byte order
    mark is ignored. Anything that is not one JSON object raises DaemonJsonError with line and column.
    """
    warnings = []
    if text.startswith(_UTF8_BOM):
        text = text[len(_UTF8_BOM) :]
        warnings.append(
            "daemon.json starts with a UTF-8 byte order mark, which dockerd 20.10 refuses; "
            "it is dropped when the file is rewritten"
        )
    if not text.strip():
        return {}, warnings

    duplicates = []

    def _object_without_losing_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        parsed = json.loads(
            text,
            object_pairs_hook=_object_without_losing_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_float_sized_int,
        )
    except json.JSONDecodeError as exc:
        raise DaemonJsonError("invalid JSON: %s" % exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        # The text up to the depth Python gave up at is valid JSON, so the scan finds the position quickly.
        _check_nesting_depth(text)
        raise DaemonJsonError("objects and arrays are nested too deeply to read") from None
    except _NumberOutOfRange as exc:
        shown = exc.literal if len(exc.literal) <= 40 else exc.literal[:20] + "..." + exc.literal[-10:]
        line, column = _position_of_number(text, exc.literal)
        raise DaemonJsonError(
            "the number %s is out of range: dockerd reads numbers as 64-bit floats and refuses it" % shown,
            line,
            column,
        ) from None
    except ValueError as exc:
        raise DaemonJsonError("invalid JSON: %s" % exc) from None
    # Scanned only once the text is known to be JSON: on valid JSON the scan is linear.
    _check_nesting_depth(text)
    if not isinstance(parsed, dict):
        raise DaemonJsonError(
            "daemon.json must hold one JSON object, found %s" % json_type_name(parsed),
            1,
            _first_content_column(text),
        )
    for key in duplicates:
        warnings.append("key %r appears more than once; dockerd and this module keep the last value" % key)
    return parsed, warnings


def _first_content_column(text):
    first_line = text.lstrip("\r\n").splitlines()[0]
    return len(first_line) - len(first_line.lstrip()) + 1


def normalize_key_paths(remove):
    """Accept each removal as a list of keys, or a plain string for a top-level key."""
    paths = []
    for entry in remove or []:
        if isinstance(entry, str):
            entry = [entry]
        if not isinstance(entry, (list, tuple)) or not entry:
            raise DaemonJsonInputError("each entry of remove must be a non-empty list of keys, got %r" % (entry,))
        for key in entry:
            if not isinstance(key, str):
                raise DaemonJsonInputError("keys in remove must be strings, got %r in %r" % (key, entry))
        paths.append(list(entry))
    return paths


def _describe_path(path):
    text = "settings"
    for step in path:
        text += "[%d]" % step if isinstance(step, int) else "." + step
    return text


def _lone_surrogate(text):
    match = _LONE_SURROGATE.search(text)
    return "U+%04X" % ord(match.group()) if match else None


def settings_problems(settings):
    """What in settings dockerd cannot read back as given, each naming its key path; [] when all is well.

    Walked without recursion, so settings nested thousands deep are reported instead of crashing the walk.
    """
    problems = []
    pending = [((), settings, 1)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, (dict, list)) and depth > MAX_NESTING_DEPTH:
            problems.append("%s: nested more than %d levels deep" % (_describe_path(path), MAX_NESTING_DEPTH))
            continue
        if isinstance(value, dict):
            for key in reversed(list(value)):
                if isinstance(key, str) and _lone_surrogate(key):
                    problems.append(
                        "%s: the key %r holds a lone surrogate %s, which is not a character (dockerd would read it "
                        "as U+FFFD); write the character you mean" % (_describe_path(path), key, _lone_surrogate(key))
                    )
                pending.append((path + (key,), value[key], depth + 1))
        elif isinstance(value, list):
            for index in reversed(range(len(value))):
                pending.append((path + (index,), value[index], depth + 1))
        elif isinstance(value, str) and _lone_surrogate(value):
            problems.append(
                "%s: holds a lone surrogate %s, which is not a character (dockerd would read it as U+FFFD); write "
                "the character you mean" % (_describe_path(path), _lone_surrogate(value))
            )
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not _fits_a_float(value):
            problems.append(
                "%s: %s is not a finite number that JSON can hold (a YAML .inf or .nan?); dockerd refuses the file"
                % (_describe_path(path), "a huge integer" if isinstance(value, int) else value)
            )
    return problems


def merge_settings(current, settings):
    """Return a new dict: settings merged into current.

    Objects merge key by key at every depth; every other value (lists included) replaces the old
    one. Keys not named in settings stay as they are, in their order; new keys go at the end: merge.deep_merge, the
    rule containerd's settings follow too.
    """
    if not isinstance(settings, dict):
        raise DaemonJsonInputError("settings must be a mapping, got %s" % json_type_name(settings))
    return deep_merge(current, settings)


def remove_key_paths(config, key_paths):
    """Return a new dict without the given key paths; paths that are absent are ignored."""
    result = copy.deepcopy(config)
    for path in key_paths:
        parent = result
        for key in path[:-1]:
            parent = parent.get(key)
            if not isinstance(parent, dict):
                break
        else:
            parent.pop(path[-1], None)
    return result


def _paths_of(settings, prefix=()):
    for key, value in settings.items():
        path = prefix + (key,)
        yield path
        if isinstance(value, dict):
            yield from _paths_of(value, path)


def contradictions(settings, key_paths):
    """Key paths that settings set and remove deletes at the same time (or below)."""
    set_paths = set(_paths_of(settings))
    found = []
    for path in key_paths:
        path = tuple(path)
        if any(candidate[: len(path)] == path for candidate in set_paths):
            found.append(list(path))
    return found


def desired_config(current, settings, key_paths):
    """The content the file should have: removals first, then the merge."""
    if not isinstance(settings, dict):
        raise DaemonJsonInputError("settings must be a mapping, got %s" % json_type_name(settings))
    problems = settings_problems(settings)
    if problems:
        raise DaemonJsonInputError("settings cannot be written to daemon.json: %s" % "; ".join(problems))
    clashes = contradictions(settings, key_paths)
    if clashes:
        raise DaemonJsonInputError(
            "these keys are both set in settings and listed in remove: %s"
            % ", ".join(".".join(path) for path in clashes)
        )
    return merge_settings(remove_key_paths(current, key_paths), settings)


def detect_indent(text):
    """The indentation unit the file already uses, so a rewrite keeps its look; None if flat."""
    for line in text.splitlines()[1:]:
        match = re.match(r"^([ \t]+)\S", line)
        if match:
            unit = match.group(1)
            return "\t" if unit.startswith("\t") else len(unit)
    return None


def render_daemon_json(config, indent=None):
    """JSON text for the file: UTF-8 kept readable, key order kept, trailing newline."""
    if indent is None:
        indent = DEFAULT_INDENT
    text = json.dumps(config, indent=indent, ensure_ascii=False, separators=(",", ": ")) + "\n"
    # A lone surrogate can only come from a "\ud800"-style escape already in the file (settings with one are
    # refused): it cannot be written as UTF-8, so it is written back as the escape it was read from.
    return _LONE_SURROGATE.sub(lambda match: "\\u%04x" % ord(match.group()), text)


def same_content(left, right):
    """Equal as JSON: key order is not a difference, but true is not 1 and 1 is not 1.0."""
    return _canonical(left) == _canonical(right)


def _canonical(config):
    return json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plan_update(text, settings, remove, exists=True, nvidia_runtime=None):
    """Everything the module needs to decide, from the current text alone.

    Returns a dict with before, after (parsed), changed, new_text (None when unchanged) and warnings.
    An existing empty file is rewritten even when nothing else changes: it means {} to this module,
    but dockerd 20.10 refuses to start with it ("EOF"). nvidia_runtime is the toolkit's contribution
    (see _daemon_nvidia_runtime), folded into settings and remove so the file is written once.
    """
    before, warnings = parse_daemon_json(text)
    if not isinstance(settings or {}, dict):
        raise DaemonJsonInputError("settings must be a mapping, got %s" % json_type_name(settings))
    try:
        settings, key_paths = with_nvidia_runtime(settings, normalize_key_paths(remove), nvidia_runtime, before)
    except ContributionConflict as exc:
        raise DaemonJsonInputError(str(exc)) from exc
    after = desired_config(before, settings, key_paths)
    empty_file = exists and not text.lstrip(_UTF8_BOM).strip()
    changed = empty_file or not same_content(after, before)
    new_text = None
    if changed:
        new_text = render_daemon_json(after, detect_indent(text))
    return {"before": before, "after": after, "changed": changed, "new_text": new_text, "warnings": warnings}
