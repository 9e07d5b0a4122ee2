# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's wanted configuration for NVIDIA's runtime: config.toml importing a drop-in that registers `nvidia`.

Plain Python (no Ansible import). The decisions, and why:

- Schema: containerd 1.x reads config version 2, where the CRI plugin is `io.containerd.grpc.v1.cri`; 2.x reads
  version 3, where the runtimes live under `io.containerd.cri.v1.runtime`. A config.toml without `version` is read
  as version 1: one without plugin sections (Docker's containerd.io ships such a file) is given the schema's
  `version` line, with "cri" in `disabled_plugins` spelled out as containerd 1.6 wants it in version 2; one with
  plugin sections is refused with the fix, since their short names would have to be renamed by hand.
- The drop-in carries containerd's whole CRI section: containerd before 2.1 replaces a plugin's section by the
  imported file's. So the section is taken from `containerd config dump` of the configuration WITHOUT this drop-in:
  users' later edits to config.toml reach the drop-in on the next run, instead of being shadowed by it forever.
  containerd resolves the globs of `imports` itself, so the dump runs on a copy of config.toml whose imports are
  spelled out, minus the drop-in.
- Nothing is written before containerd itself has read the candidate: a copy of config.toml importing the candidate
  drop-in (in the place the real one sorts to) must give a dump that shows the nvidia runtime as wanted.
- config.toml is edited as text, and only where needed (the `imports` array, a `version` line, the CRI entry of
  `disabled_plugins`), so users' comments and layout stay.
- Users' own settings (`settings`) go into the same drop-in, merged the way containerd before 2.1 merges an imported
  file (measured with 1.6.20's `config dump`): a plugin section replaces config.toml's by key, so each plugin section
  named in the settings is carried whole, taken from the dump and the settings merged into it (the CRI one into the
  computed section); top-level sections (`debug`, `grpc`, `oom_score`...) are merged field by field, so only the
  settings are written there; but an imported zero value (0, false, "") does not override config.toml's, and
  containerd drops keys it does not know, so every setting is looked for in the candidate's dump.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import fnmatch
import glob
import os
import re
import shutil
import tempfile

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.toml import TomlError, dumps, loads
from ansible_collections.gpufleet.containers.plugins.module_utils.merge import deep_merge

DEFAULT_CONFIG = "/etc/containerd/config.toml"
DEFAULT_DROPIN = "/etc/containerd/conf.d/99-nvidia.toml"
RUNC_V2 = "io.containerd.runc.v2"
CRI_PLUGIN = {2: "io.containerd.grpc.v1.cri", 3: "io.containerd.cri.v1.runtime"}
# Entries of disabled_plugins that turn the CRI plugin (and so Kubernetes' use of containerd) off.
CRI_DISABLING = ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime")
# Version 1 names plugins by their short ID; version 2 wants the full URI (containerd 1.6: "invalid disabled plugin
# URI "cri" expect io.containerd.x.vx").
V1_PLUGIN_URIS = {"cri": "io.containerd.grpc.v1.cri"}
DEFAULT_CDI_SPEC_DIRS = ["/etc/cdi", "/var/run/cdi"]
# The plugins `ctr plugins ls` must show as ok once containerd runs with its CRI plugin: in 2.x CRI is split into
# io.containerd.cri.v1 plugins (images, runtime) under the io.containerd.grpc.v1 cri service.
CRI_PLUGINS_LOADED = {2: ["io.containerd.grpc.v1.cri"], 3: ["io.containerd.cri.v1", "io.containerd.grpc.v1.cri"]}
# Top-level keys this module writes itself: settings may not carry them.
MANAGED_TOP_LEVEL = ("version", "imports")
HEADER = (
    "Written by gpufleet.containers.containerd_config (Ansible); the next run rewrites it, so change settings in\n"
    "config.toml or its other imports instead. It registers NVIDIA's runtime `nvidia` with the CRI plugin and\n"
    "carries that plugin's whole section, computed by `containerd config dump` from config.toml and its other\n"
    "imports, because containerd before 2.1 replaces a plugin's section with an imported file's."
)


class ConfigError(Exception):
    """A configuration this module will not write, with what to do about it."""

    def __init__(self, message, hint=None, stderr=None):
        Exception.__init__(self, message)
        self.message = message
        self.hint = hint
        self.stderr = stderr


# --- version and schema ---------------------------------------------------------------------------------------------


def parse_version(text):
    """(major, minor, patch) from `containerd --version`, e.g. "containerd github.com/containerd/containerd 1.6.20~ds1
    1.6.20~ds1-1+deb12u3" or "containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7"."""
    match = re.search(r"\sv?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        raise ConfigError("cannot read containerd's version from %r" % (text or "").strip())
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def schema_for(version):
    """The config schema the installed containerd reads natively: 2 for 1.x, 3 for 2.x."""
    if version[0] == 1:
        return 2
    if version[0] == 2:
        return 3
    raise ConfigError(
        "containerd %d.%d is newer than this module knows (it writes schema 2 for 1.x and 3 for 2.x)" % version[:2],
        hint="Use containerd 1.6, 1.7 or 2.x, or a newer gpufleet.containers.",
    )


# --- minimal text edits of config.toml ------------------------------------------------------------------------------


def _top_level_end(text):
    """Offset of the first table header: top-level keys (version, imports, disabled_plugins) must come before it."""
    match = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    return match.start() if match else len(text)


def _array_end(text, start):
    """Offset just past the `]` closing the array that opens at text[start] == "[", skipping strings and comments."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char in "\"'":
            quote = char
            index += 1
            while index < len(text) and text[index] != quote:
                index += 2 if quote == '"' and text[index] == "\\" else 1
        elif char == "#":
            while index < len(text) and text[index] != "\n":
                index += 1
            continue
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise ConfigError("an array in the configuration is not closed")


def find_top_level_array(text, key):
    """(value start, value end, items) of `key = [...]` before the first table, or None when it is not there."""
    top = _top_level_end(text)
    match = re.search(r"^[ \t]*%s[ \t]*=[ \t]*(?=\[)" % re.escape(key), text[:top], re.MULTILINE)
    if not match:
        return None
    start = match.end()
    end = _array_end(text, start)
    items = loads("value = " + text[start:end], source="%s's value" % key)["value"]
    return start, end, items


def _render_array(values, multiline_like=None):
    quoted = ['"%s"' % value.replace("\\", "\\\\").replace('"', '\\"') for value in values]
    if multiline_like and "\n" in multiline_like and quoted:
        indent = re.search(r"\n([ \t]*)\S", multiline_like)
        pad = indent.group(1) if indent and indent.group(1) else "  "
        return "[\n" + "".join("%s%s,\n" % (pad, item) for item in quoted) + "]"
    return "[" + ", ".join(quoted) + "]"


def set_top_level_array(text, key, values):
    """text with `key = [values]` at the top level: the array's own text replaced, or a new line added after
    `version` (or before the first setting) when the key is not there."""
    found = find_top_level_array(text, key)
    if found:
        start, end, _items = found
        return text[:start] + _render_array(values, text[start:end]) + text[end:]
    return insert_top_level_line(text, "%s = %s" % (key, _render_array(values)))


def insert_top_level_line(text, line):
    """A new top-level line after `version = ...`, else before the first line that is not a comment or blank."""
    top = _top_level_end(text)
    version = re.search(r"^[ \t]*version[ \t]*=.*$", text[:top], re.MULTILINE)
    if version:
        at = version.end() + 1 if version.end() < len(text) else version.end()
        prefix = text[:at] if text[:at].endswith("\n") or not text[:at] else text[:at] + "\n"
        return prefix + line + "\n" + text[at:]
    first = re.search(r"^[ \t]*[^#\s]", text, re.MULTILINE)
    at = first.start() if first else len(text)
    prefix = text[:at] if not text[:at] or text[:at].endswith("\n") else text[:at] + "\n"
    return prefix + line + "\n" + text[at:]


# --- reading config.toml ---------------------------------------------------------------------------------------------


def config_schema(document):
    """The `version` a config.toml declares; containerd reads a file without one as version 1."""
    return int(document.get("version", 1))


def cri_disabled_by(document):
    """The entries of disabled_plugins that switch the CRI plugin off."""
    return [name for name in document.get("disabled_plugins", []) if name in CRI_DISABLING]


def wanted_config_text(text, schema, want_dropin_glob, enable_cri):
    """config.toml as it should be: (new text, list of what was edited, warnings). text None: no file yet."""
    edits = []
    if text is None:
        if not want_dropin_glob:
            return None, edits
        edits.append("created with version %d, importing %s" % (schema, want_dropin_glob))
        return 'version = %d\nimports = ["%s"]\n' % (schema, want_dropin_glob), edits
    document = loads(text, source="config.toml")
    if config_schema(document) == 1:
        if "plugins" in document:
            raise ConfigError(
                "config.toml has no `version` line, so containerd reads it as schema 1, and it has plugin sections "
                "named the schema-1 way ([plugins.cri] and the like); the nvidia runtime needs schema %d" % schema,
                hint="Add `version = 2` at the top of config.toml and rename each [plugins.<short id>] section to its "
                'full name (cri is "io.containerd.grpc.v1.cri"; `containerd config default` shows them all; '
                "containerd 1.7 and later do it with `containerd config migrate`), then run again.",
            )
        unknown = [name for name in document.get("disabled_plugins", []) if "." not in name]
        unknown = [name for name in unknown if name not in V1_PLUGIN_URIS]
        if unknown:
            raise ConfigError(
                "config.toml has no `version` line (schema 1) and disables plugins by short names this module "
                "cannot spell out: %s" % ", ".join(unknown),
                hint="Add `version = 2` at the top of config.toml and give each disabled plugin its full name "
                "(`containerd config default` shows them), then run again.",
            )
        if want_dropin_glob or (enable_cri and cri_disabled_by(document)):
            text = insert_top_level_line(text, "version = %d" % schema)
            edits.append("version %d declared (the file had none, which containerd reads as version 1)" % schema)
            disabled = document.get("disabled_plugins", [])
            spelled = [V1_PLUGIN_URIS.get(name, name) for name in disabled]
            if spelled != disabled:
                text = set_top_level_array(text, "disabled_plugins", spelled)
    if enable_cri:
        found = find_top_level_array(text, "disabled_plugins")
        if found and any(name in CRI_DISABLING for name in found[2]):
            kept = [name for name in found[2] if name not in CRI_DISABLING]
            text = set_top_level_array(text, "disabled_plugins", kept)
            edits.append("the CRI plugin enabled (removed from disabled_plugins)")
    if want_dropin_glob:
        found = find_top_level_array(text, "imports")
        imports = found[2] if found else []
        if want_dropin_glob not in imports:
            text = set_top_level_array(text, "imports", imports + [want_dropin_glob])
            edits.append("imports %s" % want_dropin_glob)
    return text, edits


# --- what containerd itself makes of a configuration -----------------------------------------------------------------


def expand_imports(config_path, imports, dropin_path, candidate_path=None):
    """The files `imports` names, spelled out in containerd's order, with the drop-in left out or, given a
    candidate, the candidate in its place (also where the drop-in does not exist yet but a pattern matches it)."""
    folder = os.path.dirname(os.path.abspath(config_path))
    files = []
    for pattern in imports:
        if "*" in pattern or "?" in pattern or "[" in pattern:
            # containerd (1.6-2.x) globs a pattern as written; a relative one is taken from the config's folder here.
            absolute = pattern if os.path.isabs(pattern) else os.path.join(folder, pattern)
            matches = [path for path in glob.glob(absolute) if os.path.abspath(path) != os.path.abspath(dropin_path)]
            if candidate_path and fnmatch.fnmatch(dropin_path, absolute):
                matches.append(dropin_path)
            for path in sorted(matches):
                files.append(candidate_path if path == dropin_path else path)
        else:
            path = os.path.normpath(pattern if os.path.isabs(pattern) else os.path.join(folder, pattern))
            if os.path.abspath(path) == os.path.abspath(dropin_path):
                if candidate_path:
                    files.append(candidate_path)
            else:
                files.append(path)
    return files


def dump_config(run, containerd_bin, config_text, config_path, dropin_path, candidate_text=None):
    """containerd's own dump (parsed) of config_text as config.toml, its imports spelled out, with the drop-in left
    out or replaced by candidate_text. run(argv) -> (rc, stdout, stderr)."""
    folder = tempfile.mkdtemp(prefix="gpufleet-containerd-")
    try:
        candidate_path = None
        if candidate_text is not None:
            candidate_path = os.path.join(folder, os.path.basename(dropin_path))
            with open(candidate_path, "w") as handle:
                handle.write(candidate_text)
        temporary_config = os.path.join(folder, "config.toml")
        text = config_text or ""
        found = find_top_level_array(text, "imports") if text else None
        if found:
            spelled = expand_imports(config_path, found[2], dropin_path, candidate_path)
            text = set_top_level_array(text, "imports", spelled)
        with open(temporary_config, "w") as handle:
            handle.write(text)
        argv = [containerd_bin, "--config", temporary_config, "config", "dump"]
        rc, stdout, stderr = run(argv)
        said = (stderr or stdout or "").strip().replace(folder + "/", "")
        if rc != 0:
            raise ConfigError(
                "containerd refuses the %s configuration: %s"
                % ("new" if candidate_text is not None else "current", said or "rc %d and no message" % rc),
                hint="Fix what containerd names (in config.toml, the files it imports, or this task's options) and "
                "run again; nothing was written.",
                stderr=stderr,
            )
        return loads(stdout, source="containerd's config dump")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def cri_section(dump, schema):
    plugins = dump.get("plugins") or {}
    return plugins.get(CRI_PLUGIN[schema])


def runtime_names(dump, schema):
    section = cri_section(dump, schema) or {}
    return sorted((section.get("containerd") or {}).get("runtimes") or {})


def nvidia_runtime(section, runtime_binary):
    """The nvidia runtime: runc's settings (SystemdCgroup and the rest) with NVIDIA's binary; (runtime, warnings)."""
    containerd = section.get("containerd") or {}
    runtimes = containerd.get("runtimes") or {}
    base_name = "runc" if "runc" in runtimes else containerd.get("default_runtime_name")
    base = runtimes.get(base_name) if base_name != "nvidia" else None
    warnings = []
    if not base:
        warnings.append(
            "containerd has no runc runtime to copy options from: the nvidia runtime gets runc.v2's defaults "
            "(set SystemdCgroup under it in config.toml if the kubelet uses the systemd cgroup driver)"
        )
        return {"runtime_type": RUNC_V2, "options": {"BinaryName": runtime_binary}}, warnings
    runtime = copy.deepcopy(base)
    if runtime.get("runtime_type") != RUNC_V2:
        warnings.append(
            "the %s runtime is of type %s, not %s: its options were not copied to the nvidia runtime"
            % (base_name, runtime.get("runtime_type"), RUNC_V2)
        )
        runtime["options"] = {}
    runtime["runtime_type"] = RUNC_V2
    runtime.setdefault("options", {})["BinaryName"] = runtime_binary
    return runtime, warnings


def wanted_cri_section(section, schema, options):
    """The CRI section the drop-in carries, or None when nothing of ours is wanted; (section, warnings)."""
    if not (options["nvidia_runtime"] or options["default_runtime"] or options["cdi"]):
        return None, []
    wanted = copy.deepcopy(section)
    warnings = []
    runtimes = wanted.setdefault("containerd", {}).setdefault("runtimes", {})
    if options["nvidia_runtime"]:
        runtimes["nvidia"], warnings = nvidia_runtime(section, options["runtime_binary"])
    if options["default_runtime"]:
        if "nvidia" not in runtimes:
            raise ConfigError(
                "default_runtime asks for the nvidia runtime as containerd's default, but it is not registered",
                hint="Set nvidia_runtime: true (containerd_nvidia_runtime in the role) as well, or define a runtime "
                "named nvidia in config.toml.",
            )
        wanted["containerd"]["default_runtime_name"] = "nvidia"
    if options["cdi"]:
        wanted["enable_cdi"] = True
        wanted["cdi_spec_dirs"] = list(options.get("cdi_spec_dirs") or section.get("cdi_spec_dirs") or [])
        if not wanted["cdi_spec_dirs"]:
            wanted["cdi_spec_dirs"] = list(DEFAULT_CDI_SPEC_DIRS)
    return wanted, warnings


def dropin_document(base_dump, schema, wanted_cri, settings):
    """The drop-in as a document: our CRI section with the settings merged in, the other plugin sections the
    settings name carried whole (containerd replaces a plugin's section by an imported one's), and the settings'
    top-level keys as they are (containerd merges those field by field). None when there is nothing to write."""
    plugin_settings = settings.get("plugins") or {}
    top_level = {key: value for key, value in settings.items() if key != "plugins"}
    plugins = {}
    dumped = base_dump.get("plugins") or {}
    cri_name = CRI_PLUGIN[schema]
    if wanted_cri is not None or cri_name in plugin_settings:
        base = wanted_cri if wanted_cri is not None else dumped.get(cri_name) or {}
        plugins[cri_name] = deep_merge(base, plugin_settings.get(cri_name) or {})
    for name, section in plugin_settings.items():
        if name != cri_name:
            plugins[name] = deep_merge(dumped.get(name) or {}, section)
    if not plugins and not top_level:
        return None
    document = dict(top_level, version=schema)
    if plugins:
        document["plugins"] = plugins
    return document


def check_candidate(dump, schema, options, version):
    """What the candidate's dump lacks of what was asked; containerd drops settings it does not know."""
    section = cri_section(dump, schema) or {}
    problems = []
    runtime = ((section.get("containerd") or {}).get("runtimes") or {}).get("nvidia")
    if options["nvidia_runtime"]:
        binary = ((runtime or {}).get("options") or {}).get("BinaryName")
        if binary != options["runtime_binary"]:
            problems.append(
                "the nvidia runtime is %s" % ("missing" if runtime is None else "using %r" % binary)
                + " (another file imported after the drop-in may replace the CRI section)"
            )
    default_name = (section.get("containerd") or {}).get("default_runtime_name")
    runtimes = (section.get("containerd") or {}).get("runtimes") or {}
    if section and default_name and default_name not in runtimes:
        # containerd starts, but the CRI plugin does not load: "no corresponding runtime configured in
        # `containerd.runtimes` for `containerd` `default_runtime_name`".
        problems.append(
            "the CRI plugin's default_runtime_name %r names none of its runtimes (%s), so containerd would start "
            "without its CRI plugin" % (default_name, ", ".join(sorted(runtimes)) or "none")
        )
    if options["default_runtime"] and default_name != "nvidia":
        problems.append("the default runtime is not nvidia")
    if options["cdi"] and section.get("enable_cdi") is not True:
        problems.append(
            "enable_cdi is not set: containerd %d.%d.%d does not know it (CDI in the CRI plugin came with 1.7)"
            % version
        )
    return problems


# --- users' own settings ---------------------------------------------------------------------------------------------


def leaves(document, path=()):
    """(path tuple, value) of every value in a nested dict that is not itself a table."""
    for key, value in document.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, path + (key,))
        else:
            yield path + (key,), value


def dotted(path):
    return ".".join('"%s"' % part if "." in part else part for part in path)


MISSING = object()


def value_at(document, path):
    """The value at path in a nested dict, or the MISSING marker."""
    for key in path:
        if not isinstance(document, dict) or key not in document:
            return MISSING
        document = document[key]
    return document


def check_settings(settings, schema, options):
    """Refuse settings this module cannot write or that contradict what it manages, naming both; nothing is read or
    written yet. Returns nothing; raises ConfigError."""
    problems = []
    for key in MANAGED_TOP_LEVEL:
        if key in settings:
            problems.append(
                "settings set `%s`, which containerd_config writes itself (the drop-in's schema %d, config.toml's "
                "imports)" % (key, schema)
            )
    plugins = settings.get("plugins", {})
    if not isinstance(plugins, dict) or not all(isinstance(section, dict) for section in plugins.values()):
        problems.append("settings' `plugins` must map plugin names to tables, e.g. {%s: {...}}" % CRI_PLUGIN[schema])
        plugins = {}
    wanted_any = options["nvidia_runtime"] or options["default_runtime"] or options["cdi"]
    disabling = [name for name in settings.get("disabled_plugins") or [] if name in CRI_DISABLING]
    if disabling and (wanted_any or options["enable_cri"]):
        problems.append(
            "settings' disabled_plugins %s switch off the CRI plugin that the nvidia runtime, default_runtime or "
            "cdi registers with (and enable_cri enables)" % disabling
        )
    cri = plugins.get(CRI_PLUGIN[schema], {})
    prefix = 'plugins."%s".containerd' % CRI_PLUGIN[schema]
    containerd = cri.get("containerd") or {}
    nvidia = (containerd.get("runtimes") or {}).get("nvidia") or {}
    if options["nvidia_runtime"] and nvidia:
        binary = (nvidia.get("options") or {}).get("BinaryName")
        if binary is not None and binary != options["runtime_binary"]:
            problems.append(
                "settings' %s.runtimes.nvidia.options.BinaryName = %r contradicts runtime_binary %r "
                "(containerd_runtime_binary in the role)" % (prefix, binary, options["runtime_binary"])
            )
        if nvidia.get("runtime_type") not in (None, RUNC_V2):
            problems.append(
                "settings' %s.runtimes.nvidia.runtime_type = %r contradicts the nvidia runtime this module registers "
                "(%s)" % (prefix, nvidia["runtime_type"], RUNC_V2)
            )
    default_name = containerd.get("default_runtime_name")
    if options["default_runtime"] and default_name not in (None, "nvidia"):
        problems.append(
            "settings' %s.default_runtime_name = %r contradicts default_runtime: true (containerd_default_runtime in "
            "the role), which makes it nvidia" % (prefix, default_name)
        )
    if not options["default_runtime"] and default_name == "nvidia":
        problems.append(
            'settings\' %s.default_runtime_name = "nvidia" contradicts default_runtime: false '
            "(containerd_default_runtime in the role); set that to true instead" % prefix
        )
    if options["cdi"] and cri.get("enable_cdi") is False:
        problems.append(
            'settings\' plugins."%s".enable_cdi = false contradicts cdi: true (containerd_cdi in the role)'
            % CRI_PLUGIN[schema]
        )
    spec_dirs = cri.get("cdi_spec_dirs")
    asked_dirs = list(options.get("cdi_spec_dirs") or [])
    if options["cdi"] and asked_dirs and spec_dirs is not None and list(spec_dirs) != asked_dirs:
        problems.append(
            'settings\' plugins."%s".cdi_spec_dirs = %r contradicts cdi_spec_dirs %r'
            % (CRI_PLUGIN[schema], spec_dirs, asked_dirs)
        )
    if problems:
        raise ConfigError(
            "; ".join(problems) + "; nothing was written",
            hint="Drop the contradicting entries from settings (containerd_config_options in the role) and set the "
            "module's own option instead, or the other way round.",
        )


def settings_missing_from(dump, settings):
    """The settings containerd's dump of the candidate does not show as given, in words."""
    missing = []
    for path, value in leaves(settings):
        found = value_at(dump, path)
        if found is MISSING:
            missing.append("%s is not in it (a key containerd does not know is dropped)" % dotted(path))
        elif path[0] != "plugins" and isinstance(value, list) and isinstance(found, list):
            # containerd appends an imported file's top-level arrays (disabled_plugins...) to config.toml's.
            absent = [item for item in value if item not in found]
            if absent:
                missing.append("%s lacks %r" % (dotted(path), absent))
        elif found != value and not (value == {} and isinstance(found, dict)):
            zero = path[0] != "plugins" and not value and value is not None
            missing.append(
                "%s is %r, not %r%s"
                % (
                    dotted(path),
                    found,
                    value,
                    " (a file containerd imports cannot set a top-level value to zero, false or empty: "
                    "set it in config.toml)"
                    if zero
                    else "",
                )
            )
    return missing


def read_text(path):
    """A file's text, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigError("%s is not UTF-8 text, so it is not TOML containerd could read" % path) from exc


def plan(run, options):
    """The wanted config.toml and drop-in, checked by containerd; nothing is written here.

    options: containerd_bin, config_path, dropin_path, nvidia_runtime, runtime_binary, default_runtime, cdi,
    cdi_spec_dirs, enable_cri, settings (users' own, merged into the drop-in). run(argv) -> (rc, stdout, stderr).
    Returns {version, schema, config: {path, before, after, edits}, dropin: {path, before, after}, cri_disabled,
    cri_disabled_by, runtimes, expect_plugins, warnings}; before/after are texts, None for a file that is (to be)
    absent; expect_plugins: what `ctr plugins ls` must show as ok once containerd runs it ([] without CRI).
    """
    rc, stdout, stderr = run([options["containerd_bin"], "--version"])
    if rc != 0:
        raise ConfigError(
            "%s --version failed: %s" % (options["containerd_bin"], (stderr or stdout).strip()),
            hint="Install containerd (Debian's containerd package) or give containerd_bin.",
        )
    version = parse_version(stdout)
    schema = schema_for(version)
    settings = options.get("settings") or {}
    check_settings(settings, schema, options)
    config_path, dropin_path = options["config_path"], options["dropin_path"]
    config_before = read_text(config_path)
    dropin_before = read_text(dropin_path)
    warnings = []
    dropin_glob = os.path.join(os.path.dirname(dropin_path), "*.toml")
    wanted_any = bool(options["nvidia_runtime"] or options["default_runtime"] or options["cdi"] or settings)

    current = loads(config_before, source=config_path) if config_before is not None else {}
    disabled_on_disk = cri_disabled_by(current)
    # What containerd makes of config.toml as it will be, without our drop-in: the base of the drop-in.
    config_after, edits = wanted_config_text(config_before, schema, dropin_glob if wanted_any else None, False)
    base_dump = dump_config(run, options["containerd_bin"], config_after, config_path, dropin_path)
    disabled = [name for name in base_dump.get("disabled_plugins", []) if name in CRI_DISABLING]
    result = {
        "version": "%d.%d.%d" % version,
        "schema": schema,
        "cri_disabled": bool(disabled),
        "cri_disabled_by": disabled,
        "warnings": warnings,
    }
    if disabled and options["enable_cri"]:
        if not disabled_on_disk:
            raise ConfigError(
                "the CRI plugin is disabled (%s) by a file config.toml imports, not by config.toml itself"
                % ", ".join(disabled),
                hint="Remove it from disabled_plugins in the imported file that sets it, and run again.",
            )
        config_after, edits = wanted_config_text(config_before, schema, dropin_glob if wanted_any else None, True)
        base_dump = dump_config(run, options["containerd_bin"], config_after, config_path, dropin_path)
    elif disabled:
        warnings.append(
            "containerd's CRI plugin is disabled (disabled_plugins = %s), so Kubernetes cannot use this containerd "
            "and the nvidia runtime cannot be registered with it; nothing was changed. Set enable_cri: true "
            "(containerd_enable_cri in the role) to remove that entry."
            % disabled
            + (" The settings given were not applied either." if settings else "")
        )
        result.update(
            config={"path": config_path, "before": config_before, "after": config_before, "edits": []},
            dropin={"path": dropin_path, "before": dropin_before, "after": dropin_before},
            runtimes=[],
            expect_plugins=[],
        )
        return result

    section = cri_section(base_dump, schema)
    if section is None:
        raise ConfigError(
            "containerd's dump has no %s section, so there is no CRI plugin to register the runtime with"
            % CRI_PLUGIN[schema],
            hint="Check that containerd %s was built with CRI (Debian's is)." % result["version"],
        )
    wanted, runtime_warnings = wanted_cri_section(section, schema, options)
    warnings.extend(runtime_warnings)
    dropin_after = None
    document = dropin_document(base_dump, schema, wanted, settings)
    if document is not None:
        dropin_after = dumps(document, header=HEADER)
    # containerd reads the candidate as it would at start: config.toml as it will be, the drop-in in its place.
    final_dump = dump_config(
        run, options["containerd_bin"], config_after, config_path, dropin_path, candidate_text=dropin_after
    )
    problems = check_candidate(final_dump, schema, options, version)
    missing = settings_missing_from(final_dump, settings)
    if missing:
        problems.append("its dump does not show these settings as given: " + "; ".join(missing))
    if problems:
        raise ConfigError(
            "containerd read the new configuration, but %s; nothing was written" % "; ".join(problems),
            hint="Look at `containerd config dump` and the files config.toml imports after %s." % dropin_path,
        )
    result.update(
        config={"path": config_path, "before": config_before, "after": config_after, "edits": edits},
        dropin={"path": dropin_path, "before": dropin_before, "after": dropin_after},
        runtimes=runtime_names(final_dump, schema),
        expect_plugins=list(CRI_PLUGINS_LOADED[schema]),
    )
    return result


__all__ = ["ConfigError", "TomlError", "plan"]
