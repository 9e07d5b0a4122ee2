# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse what nvidia-smi prints, in every form users paste and tools capture.

Forms: the default table (450 to 595 layouts), CSV from ``--query-gpu`` (with or without header and units),
``-q`` text, ``-q -x`` XML and ``-L`` lists. Each parser returns the same plain dict (see ``empty_result``).
Input that is garbage or cut short raises ``ParseError`` quoting the offending line; no input makes a parser raise
anything else (tests/unit/plugins/module_utils/test_nvidia_smi_properties.py). A list of GPUs is never shorter than
the output shows: an XML cut short is not well-formed, a table must close every GPU block and its last box, CSV
needs a row under its header. One cut stays invisible: a table cut exactly after a GPU block's closing border reads
as the GPUs before it (people paste tables that way), which is why the module asks nvidia-smi for XML.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import re
from xml.etree import ElementTree

FORMATS = ("table", "csv", "xml", "query", "list")
GPU_KEYS = (
    "index", "name", "name_truncated", "uuid", "bus_id", "memory_total_mib", "memory_used_mib", "mig_mode",
    "persistence_mode", "temperature_c", "power_draw_w", "power_limit_w", "utilization_gpu_pct",
)  # fmt: skip
TRUNCATION_MARK = "..."
# Longest line quoted whole in an error message; longer ones are cut, so hostile input cannot flood the result.
QUOTE_LIMIT = 200


class ParseError(ValueError):
    """The text is not a complete nvidia-smi output of the expected form."""


class OptionError(ValueError):
    """An option given to the parser is wrong: the task needs fixing, not the host."""


def shown(line):
    """repr() of a line for an error message, cut at QUOTE_LIMIT characters."""
    if len(line) <= QUOTE_LIMIT:
        return repr(line)
    return "%r... (%d characters)" % (line[:QUOTE_LIMIT], len(line))


def empty_result(source_format):
    return {
        "gpu_count": 0,
        "driver_version": None,
        "cuda_version": None,
        "gpus": [],
        "mig_devices": [],
        "processes": [],
        "source_format": source_format,
    }


def new_gpu(index, name):
    gpu = dict.fromkeys(GPU_KEYS)
    gpu["index"] = index
    gpu["name"] = name
    gpu["name_truncated"] = bool(name) and name.endswith(TRUNCATION_MARK)
    return gpu


def finish(result):
    result["gpu_count"] = len(result["gpus"])
    return result


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def number(value):
    """'81920 MiB' -> 81920, '67.03 W' -> 67.03, 'N/A'/'[Not Supported]' -> None."""
    match = re.match(r"^\s*(-?\d+(?:\.\d+)?)", value or "")
    if not match:
        return None
    text = match.group(1)
    return float(text) if "." in text else int(text)


# 610-series drivers add a note after deprecated values: "610.47 [Deprecated; will be removed in CUDA 14.0. ...]".
VERSION_NOTE = re.compile(r"\s*\[[^\]]*\]\s*$")


def version(value):
    """The version number alone: '610.47 [Deprecated; ...]' -> '610.47', 'N/A' -> None."""
    return known(VERSION_NOTE.sub("", value or ""))


def known(value):
    value = (value or "").strip()
    if not value or value.strip("[]") in ("N/A", "Not Supported", "Unknown Error", "Not Found"):
        return None
    return value


def mode(value):
    """Table rows say On/Off, XML and -q say Enabled/Disabled; a trailing '*' marks a pending change."""
    value = known(value)
    if not value:
        return None
    value = value.rstrip("*").lower()
    return {"on": "enabled", "off": "disabled"}.get(value, value)


def detect_format(text, fields=None):
    """The form of text; with fields (headerless CSV columns), text that is no other form is CSV."""
    stripped = text.lstrip()
    line = first_line(text)
    if not line:
        raise ParseError("nvidia-smi printed nothing to parse")
    if stripped.startswith("<"):
        return "xml"
    if "==============NVSMI LOG==============" in text:
        return "query"
    if re.match(r"^GPU \d+: ", line):
        return "list"
    if "NVIDIA-SMI " in text or re.match(r"^\+-+\+", line) or line.startswith("|"):
        return "table"
    if "," in line or fields:
        return "csv"
    raise ParseError("cannot tell which nvidia-smi output this is; first line: %s" % shown(line))


def parse(text, output_format="auto", fields=None):
    validate_fields(fields)
    if text is None or not text.strip():
        raise ParseError("nvidia-smi printed nothing to parse")
    chosen = detect_format(text, fields) if output_format == "auto" else output_format
    if chosen == "table":
        return parse_table(text)
    if chosen == "csv":
        return parse_csv(text, fields)
    if chosen == "xml":
        return parse_xml(text)
    if chosen == "query":
        return parse_query(text)
    if chosen == "list":
        return parse_list(text)
    raise ParseError("unknown format %r; expected one of auto, %s" % (output_format, ", ".join(FORMATS)))


# --- default table ---------------------------------------------------------------------------------------------

# 610-series drivers print "KMD Version" and "CUDA UMD Version" where older ones print "Driver" and "CUDA Version".
VERSION_LINE = re.compile(r"(?:Driver|KMD) Version:\s*(\S+)(?:.*CUDA (?:UMD )?Version:\s*(\S+))?")
# The name starts with a non-space so that a line of blanks cannot make the regex backtrack for minutes. The column
# after the name is persistence mode on Linux, the driver model on Windows and WSL (WDDM, TCC, MCDM); Jetson's
# integrated GPU (nvgpu) has N/A there and for the bus id.
GPU_ROW = re.compile(
    r"^\|\s*(?P<index>\d+)\s+(?P<name>\S.*?)\s+(?P<persistence>On|Off|N/A|WDDM|TCC|MCDM)\s*\|"
    r"\s*(?P<bus>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]|N/A)\s+\S+\s*\|"
)
WINDOWS_DRIVER_MODELS = ("WDDM", "TCC", "MCDM")
# nvidia-smi's table lines are about 90 characters wide; the regexes below need a bound on what they are given.
MAX_TABLE_LINE = 400
STATS_ROW = re.compile(
    r"^\|\s*(?P<fan>\S+)\s+(?P<temp>\S+)\s+(?P<perf>\S+)\s+(?P<power>.*?)\|(?P<memory>[^|]*)\|(?P<util>[^|]*)\|"
)
MIG_ROW = re.compile(r"^\|\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|\s*(\d+)MiB\s*/\s*(\d+)MiB")
PROCESS_ROW = re.compile(
    r"^\|\s*(?P<gpu>\d+)\s+(?P<gi>\S+)\s+(?P<ci>\S+)\s+(?P<pid>\d+)\s+(?P<type>\S+)\s+(?P<name>\S.*?)\s+"
    r"(?P<memory>\d+MiB|N/A)\s*\|"
)


def table_sections(lines):
    """Split the table into its GPU, MIG devices and processes parts, by their titles."""
    sections = {"gpus": [], "mig": [], "processes": []}
    current = "gpus"
    for line in lines:
        if line.startswith("| MIG devices:"):
            current = "mig"
        elif line.startswith("| Processes:"):
            current = "processes"
        sections[current].append(line)
    return sections


def is_border(line):
    return line.startswith("+-") and line.endswith("+")


def check_table_closed(lines):
    """A whole table ends with the border under its last box (processes, MIG devices or GPUs)."""
    content = [line for line in lines if line.strip()]
    if len(content) < 2 or not is_border(content[-1]) or not content[-2].startswith("|"):
        raise ParseError(
            "nvidia-smi table is cut short: it does not end with the border that closes its last box; last line: %s"
            % shown(content[-1] if content else "")
        )


def parse_table(text):
    result = empty_result("table")
    lines = [line.rstrip() for line in text.splitlines()]
    if not any(line.startswith("|=") for line in lines):
        raise ParseError("no nvidia-smi table found (no '|===' header rule); first line: %s" % shown(first_line(text)))
    too_long = next((line for line in lines if len(line) > MAX_TABLE_LINE), None)
    if too_long is not None:
        raise ParseError("not an nvidia-smi table: a line is longer than any table line: %s" % shown(too_long))
    for line in lines:
        versions = VERSION_LINE.search(line)
        if versions and "NVIDIA-SMI" in line:
            result["driver_version"] = version(versions.group(1))
            result["cuda_version"] = version(versions.group(2))
            break
    sections = table_sections(lines)
    parse_gpu_rows(sections["gpus"], result)
    parse_mig_rows(sections["mig"], result)
    parse_process_rows(sections["processes"], result)
    if not result["gpus"]:
        raise ParseError("nvidia-smi table lists no GPU; first line: %s" % shown(first_line(text)))
    check_table_closed(lines)
    return finish(result)


def parse_gpu_rows(lines, result):
    """Read the GPU blocks under the column titles: a GPU line, a stats line, more lines, then a closing border."""
    body = lines[next((i for i, line in enumerate(lines) if line.startswith("|=")), len(lines)) + 1 :]
    position = 0
    while position < len(body):
        line = body[position]
        row = GPU_ROW.match(line)
        if not row:
            if re.match(r"^\|\s*\d+\s", line):
                raise ParseError("unreadable GPU line in nvidia-smi table: %s" % shown(line))
            break
        stats = STATS_ROW.match(body[position + 1]) if position + 1 < len(body) else None
        if not stats:
            raise ParseError("nvidia-smi table is cut short after GPU line: %s" % shown(line))
        gpu = new_gpu(int(row.group("index")), row.group("name"))
        gpu["bus_id"] = known(row.group("bus"))
        if row.group("persistence") not in WINDOWS_DRIVER_MODELS:
            gpu["persistence_mode"] = mode(row.group("persistence"))
        gpu["temperature_c"] = number(stats.group("temp").rstrip("C"))
        power = re.match(r"\s*(\S+?)W?\s*/\s*(\S+?)W?\s*$", stats.group("power"))
        if power:
            gpu["power_draw_w"] = number(power.group(1))
            gpu["power_limit_w"] = number(power.group(2))
        memory = re.search(r"(\d+)MiB\s*/\s*(\d+)MiB", stats.group("memory"))
        if memory:
            gpu["memory_used_mib"] = int(memory.group(1))
            gpu["memory_total_mib"] = int(memory.group(2))
        gpu["utilization_gpu_pct"] = number(stats.group("util").split("%")[0]) if "%" in stats.group("util") else None
        position += 2
        if position < len(body) and body[position].startswith("|") and not GPU_ROW.match(body[position]):
            gpu["mig_mode"] = mode(body[position].split("|")[-2])
            position += 1
        if position >= len(body) or not is_border(body[position]):
            raise ParseError(
                "nvidia-smi table is cut short inside the block of GPU %s (no border closes it): %s"
                % (row.group("index"), shown(line))
            )
        position += 1
        result["gpus"].append(gpu)


def parse_mig_rows(lines, result):
    for line in lines:
        row = MIG_ROW.match(line)
        if row:
            gpu, gi, ci, device, used, total = (int(value) for value in row.groups())
            result["mig_devices"].append(
                {"gpu_index": gpu, "gpu_instance_id": gi, "compute_instance_id": ci, "index": device,
                 "profile": None, "uuid": None, "memory_used_mib": used, "memory_total_mib": total}
            )  # fmt: skip
        elif re.match(r"^\|\s*\d+\s+\d+\s", line):
            raise ParseError("unreadable MIG device line in nvidia-smi table: %s" % shown(line))


def parse_process_rows(lines, result):
    for line in lines:
        row = PROCESS_ROW.match(line)
        if row:
            result["processes"].append(
                {"gpu_index": int(row.group("gpu")), "pid": int(row.group("pid")), "type": row.group("type"),
                 "name": row.group("name"), "memory_used_mib": number(row.group("memory"))}
            )  # fmt: skip


# --- CSV from --query-gpu ---------------------------------------------------------------------------------------

CSV_FIELDS = {
    "index": ("index", int),
    "name": ("name", str),
    "gpu_name": ("name", str),
    "uuid": ("uuid", str),
    "gpu_uuid": ("uuid", str),
    "pci.bus_id": ("bus_id", str),
    "gpu_bus_id": ("bus_id", str),
    "memory.total": ("memory_total_mib", number),
    "memory.used": ("memory_used_mib", number),
    "mig.mode.current": ("mig_mode", mode),
    "persistence_mode": ("persistence_mode", mode),
    "temperature.gpu": ("temperature_c", number),
    "power.draw": ("power_draw_w", number),
    "power.limit": ("power_limit_w", number),
    "utilization.gpu": ("utilization_gpu_pct", number),
}
HEADER_UNIT = re.compile(r"\s*\[[^\]]*\]\s*$")
FIELDS_READ = tuple(sorted(CSV_FIELDS)) + ("driver_version",)


def validate_fields(fields):
    """Refuse names in option fields that this module does not read: a typo would silently lose a column."""
    unknown = [field for field in fields or () if str(field).strip().lower() not in FIELDS_READ]
    if unknown:
        raise OptionError(
            "fields: unknown name(s) %s; the names read are %s. Ask nvidia-smi for those columns only, or keep its "
            "header line (--format=csv without noheader), under which columns not read are skipped"
            % (", ".join(repr(field) for field in unknown), ", ".join(FIELDS_READ))
        )


def csv_rows(text):
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append((line, next(csv.reader([line], skipinitialspace=True))))
        except csv.Error as error:
            raise ParseError("unreadable nvidia-smi CSV line (%s): %s" % (error, shown(line))) from None
    return rows


def parse_csv(text, fields=None):
    validate_fields(fields)
    result = empty_result("csv")
    rows = csv_rows(text)
    if not rows:
        raise ParseError("nvidia-smi printed nothing to parse")
    header_line = rows[0][0]
    header = [HEADER_UNIT.sub("", cell).strip().lower() for cell in rows[0][1]]
    if fields:
        names = [field.strip().lower() for field in fields]
        if header == names:
            rows = rows[1:]
    elif any(name in CSV_FIELDS or name == "driver_version" for name in header):
        names, rows = header, rows[1:]
    else:
        raise ParseError("CSV without a header row needs option fields; first line: %s" % shown(rows[0][0]))
    if not rows:
        raise ParseError("nvidia-smi CSV has a header but no GPU rows (cut short?): %s" % shown(header_line))
    drivers = set()
    for position, (line, cells) in enumerate(rows):
        if len(cells) != len(names):
            raise ParseError("CSV line has %d values for %d fields: %s" % (len(cells), len(names), shown(line)))
        gpu = new_gpu(position, None)
        for name, cell in zip(names, cells):
            value = known(cell)
            if name == "driver_version":
                drivers.add(version(value))
            elif name in CSV_FIELDS and value is not None:
                key, convert = CSV_FIELDS[name]
                try:
                    gpu[key] = convert(value)
                except ValueError:
                    message = "CSV value %s for field %s is not valid: %s" % (shown(cell), name, shown(line))
                    raise ParseError(message) from None
        gpu["name_truncated"] = bool(gpu["name"]) and gpu["name"].endswith(TRUNCATION_MARK)
        result["gpus"].append(gpu)
    if len(drivers) == 1:
        result["driver_version"] = drivers.pop()
    return finish(result)


# --- -q -x XML --------------------------------------------------------------------------------------------------


def xml_text(element, path):
    found = element.find(path)
    return known(found.text) if found is not None and found.text is not None else None


def parse_xml(text):
    if "<!ENTITY" in text:
        raise ParseError("refusing XML that declares entities; nvidia-smi never does")
    try:
        # "replace": a lone surrogate cannot be encoded, and no nvidia-smi output has one.
        root = ElementTree.fromstring(text.strip().encode("utf-8", "replace"))
    except ElementTree.ParseError as error:
        line_number = error.position[0]
        lines = text.strip().splitlines()
        offending = lines[min(max(line_number, 1), len(lines)) - 1] if lines else ""
        message = "nvidia-smi XML is broken or cut short at line %d (%s): %s" % (line_number, error, shown(offending))
        raise ParseError(message) from None
    except (LookupError, ValueError) as error:
        # An XML declaration naming an encoding Python does not know or expat cannot read.
        raise ParseError("nvidia-smi XML cannot be read: %s" % error) from None
    if root.tag != "nvidia_smi_log":
        raise ParseError("XML root is <%s>, not <nvidia_smi_log>" % root.tag)
    result = empty_result("xml")
    result["driver_version"] = version(xml_text(root, "driver_version"))
    result["cuda_version"] = version(xml_text(root, "cuda_version"))
    for index, element in enumerate(root.findall("gpu")):
        gpu = new_gpu(index, xml_text(element, "product_name"))
        gpu["uuid"] = xml_text(element, "uuid")
        gpu["bus_id"] = xml_text(element, "pci/pci_bus_id") or element.get("id")
        gpu["memory_total_mib"] = number(xml_text(element, "fb_memory_usage/total"))
        gpu["memory_used_mib"] = number(xml_text(element, "fb_memory_usage/used"))
        gpu["mig_mode"] = mode(xml_text(element, "mig_mode/current_mig"))
        gpu["persistence_mode"] = mode(xml_text(element, "persistence_mode"))
        gpu["temperature_c"] = number(xml_text(element, "temperature/gpu_temp"))
        readings = "gpu_power_readings" if element.find("gpu_power_readings") is not None else "power_readings"
        gpu["power_draw_w"] = number(xml_text(element, readings + "/power_draw"))
        gpu["power_limit_w"] = number(
            xml_text(element, readings + "/current_power_limit") or xml_text(element, readings + "/power_limit")
        )
        gpu["utilization_gpu_pct"] = number(xml_text(element, "utilization/gpu_util"))
        result["gpus"].append(gpu)
        for device in element.findall("mig_devices/mig_device"):
            result["mig_devices"].append(
                {"gpu_index": index, "gpu_instance_id": number(xml_text(device, "gpu_instance_id")),
                 "compute_instance_id": number(xml_text(device, "compute_instance_id")),
                 "index": number(xml_text(device, "index")), "profile": None, "uuid": xml_text(device, "uuid"),
                 "memory_used_mib": number(xml_text(device, "fb_memory_usage/used")),
                 "memory_total_mib": number(xml_text(device, "fb_memory_usage/total"))}
            )  # fmt: skip
    if not result["gpus"]:
        attached = number(xml_text(root, "attached_gpus"))
        if attached:
            raise ParseError("nvidia-smi XML says %s GPUs are attached but lists none (cut short?)" % attached)
        raise ParseError("nvidia-smi XML lists no GPU")
    return finish(result)


# --- -q text ----------------------------------------------------------------------------------------------------

QUERY_KEYS = {
    "Product Name": ("name", str),
    "GPU UUID": ("uuid", str),
    "PCI/Bus Id": ("bus_id", str),
    "FB Memory Usage/Total": ("memory_total_mib", number),
    "FB Memory Usage/Used": ("memory_used_mib", number),
    "MIG Mode/Current": ("mig_mode", mode),
    "Persistence Mode": ("persistence_mode", mode),
    "Temperature/GPU Current Temp": ("temperature_c", number),
    "GPU Power Readings/Power Draw": ("power_draw_w", number),
    "Power Readings/Power Draw": ("power_draw_w", number),
    "GPU Power Readings/Instantaneous Power Draw": ("power_draw_w", number),
    "GPU Power Readings/Current Power Limit": ("power_limit_w", number),
    "Power Readings/Power Limit": ("power_limit_w", number),
    "Utilization/Gpu": ("utilization_gpu_pct", number),
}


# Keys of the -q header, newest first: 610-series drivers print KMD Version and CUDA UMD Version, and still print the
# deprecated Driver Version and CUDA Version with a bracketed note, which version() removes.
QUERY_VERSIONS = {
    "driver_version": ("KMD Version", "Driver Version"),
    "cuda_version": ("CUDA UMD Version", "CUDA Version"),
}


def parse_query(text):
    result = empty_result("query")
    attached = None
    header = {}
    gpu, sections = None, []
    for line in text.splitlines():
        if not line.strip() or line.startswith("="):
            continue
        indent = len(line) - len(line.lstrip())
        key, _separator, value = (part.strip() for part in line.partition(":"))
        if indent == 0 and re.match(r"^GPU [0-9A-Fa-f]+:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]$", line.strip()):
            gpu, sections = new_gpu(len(result["gpus"]), None), []
            result["gpus"].append(gpu)
            continue
        if indent == 0:
            if key == "Attached GPUs":
                attached = number(value)
            else:
                header.setdefault(key, version(value))
            continue
        if gpu is None:
            continue
        sections = [(level, name) for level, name in sections if level < indent]
        if not line.strip().endswith(":") and ":" not in line:
            sections.append((indent, line.strip()))
            continue
        path = "/".join([name for _level, name in sections] + [key])
        if path in QUERY_KEYS and gpu[QUERY_KEYS[path][0]] is None and known(value) is not None:
            field, convert = QUERY_KEYS[path]
            gpu[field] = convert(value)
    for field, keys in QUERY_VERSIONS.items():
        result[field] = next((header[key] for key in keys if header.get(key)), None)
    if not result["gpus"] and attached:
        raise ParseError("nvidia-smi -q says %s GPUs are attached but lists none (cut short?)" % attached)
    if not result["gpus"]:
        raise ParseError("nvidia-smi -q output lists no GPU")
    for gpu in result["gpus"]:
        gpu["name_truncated"] = bool(gpu["name"]) and gpu["name"].endswith(TRUNCATION_MARK)
    return finish(result)


# --- -L list ----------------------------------------------------------------------------------------------------

LIST_GPU = re.compile(r"^GPU (\d+): (.+?) \(UUID: ([^)]+)\)$")
LIST_MIG = re.compile(r"^\s*MIG (\S+)\s+Device\s+(\d+): \(UUID: ([^)]+)\)$")


def parse_list(text):
    result = empty_result("list")
    for line in text.splitlines():
        if not line.strip():
            continue
        gpu_line = LIST_GPU.match(line.strip())
        mig_line = LIST_MIG.match(line)
        if gpu_line:
            gpu = new_gpu(int(gpu_line.group(1)), gpu_line.group(2))
            gpu["uuid"] = gpu_line.group(3)
            result["gpus"].append(gpu)
        elif mig_line and result["gpus"]:
            parent = result["gpus"][-1]
            parent["mig_mode"] = "enabled"
            result["mig_devices"].append(
                {"gpu_index": parent["index"], "gpu_instance_id": None, "compute_instance_id": None,
                 "index": int(mig_line.group(2)), "profile": mig_line.group(1), "uuid": mig_line.group(3),
                 "memory_used_mib": None, "memory_total_mib": None}
            )  # fmt: skip
        else:
            raise ParseError("unreadable line in nvidia-smi -L output: %s" % shown(line))
    return finish(result)
