# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import csv

import pytest
from nvidia_smi_corpus import CASES, OUTPUT_CASES, case_id, output_of

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import (
    OptionError,
    ParseError,
    detect_format,
    parse,
    validate_fields,
)


def test_corpus_has_every_form_and_error():
    forms = {meta["format"] for _name, meta, _output in CASES}
    assert forms >= {"table", "csv", "xml", "list", "error"}
    assert all(meta["source"] for _name, meta, _output in CASES)


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=case_id)
def test_corpus_output_parses_to_what_its_meta_expects(case):
    _name, meta, output = case
    expected = meta["expected"]
    result = parse(output, fields=meta.get("fields"))
    assert result["source_format"] == meta["format"]
    assert result["gpu_count"] == expected["gpu_count"]
    assert result["driver_version"] == expected["driver_version"]
    assert result["cuda_version"] == expected["cuda_version"]
    assert [gpu["name"] for gpu in result["gpus"]] == expected["models"]
    assert any(gpu["name_truncated"] for gpu in result["gpus"]) == expected["name_truncated"]
    assert len(result["mig_devices"]) == expected["mig_devices"]
    if "mig" in expected:
        assert {gpu["mig_mode"] for gpu in result["gpus"]} == {expected["mig"]}
    if "memory_total_mib" in expected:
        assert {gpu["memory_total_mib"] for gpu in result["gpus"]} == {expected["memory_total_mib"]}


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=case_id)
def test_corpus_output_parses_the_same_when_the_format_is_named(case):
    _name, meta, output = case
    fields = meta.get("fields")
    assert parse(output, meta["format"], fields=fields) == parse(output, fields=fields)


def test_table_reads_every_column_of_a_gpu_row():
    gpu = parse(output_of("a100_80gb_x8_table_595"))["gpus"][1]
    assert gpu == {
        "index": 1, "name": "NVIDIA A100-SXM4-80GB", "name_truncated": False, "uuid": None,
        "bus_id": "00000000:2A:00.0", "memory_total_mib": 81920, "memory_used_mib": 16663, "mig_mode": "disabled",
        "persistence_mode": "enabled", "temperature_c": 43, "power_draw_w": 238, "power_limit_w": 400,
        "utilization_gpu_pct": 82,
    }  # fmt: skip


def test_table_reads_processes_and_mig_devices():
    processes = parse(output_of("a100_80gb_x8_table_595"))["processes"]
    assert [(item["gpu_index"], item["pid"], item["memory_used_mib"]) for item in processes][:2] == [
        (0, 2010386, 72288), (1, 1985992, 16654)]  # fmt: skip
    mig = parse(output_of("a100_40gb_mig_table_535"))["mig_devices"]
    assert mig == [{"gpu_index": 0, "gpu_instance_id": 5, "compute_instance_id": 0, "index": 0, "profile": None,
                    "uuid": None, "memory_used_mib": 25, "memory_total_mib": 9856}]  # fmt: skip


def test_truncated_name_is_flagged_not_guessed():
    gpu = parse(output_of("a100_80gb_pcie_mig_table_515_truncated"))["gpus"][0]
    assert (gpu["name"], gpu["name_truncated"], gpu["mig_mode"]) == ("NVIDIA A100 80G...", True, "enabled")


def test_list_attaches_mig_devices_to_their_gpu():
    result = parse(output_of("a100_80gb_pcie_mig_list_515"))
    assert [(d["gpu_index"], d["profile"], d["index"]) for d in result["mig_devices"]] == [
        (0, "3g.40gb", 0), (0, "2g.20gb", 1), (0, "1g.10gb", 2)]  # fmt: skip
    assert result["gpus"][0]["uuid"] == "GPU-9f0cc172-1db7-8b47-7302-fa9b2ade0c7b"


def test_xml_reads_uuid_power_and_mig_devices():
    result = parse(output_of("a100_80gb_mig_xml_535"))
    gpu = result["gpus"][0]
    assert (gpu["uuid"], gpu["power_draw_w"], gpu["power_limit_w"]) == (
        "GPU-513536b6-7d19-9063-b049-1e69664bb298", 67.03, 500.0)  # fmt: skip
    assert [d["gpu_instance_id"] for d in result["mig_devices"]] == [3, 4, 5, 6]


CSV_NOUNITS = "0, NVIDIA A100-SXM4-80GB, 81920, 535.104.05\n1, NVIDIA A100-SXM4-80GB, 81920, 535.104.05\n"


def test_headerless_csv_uses_the_given_fields():
    result = parse(CSV_NOUNITS, "csv", fields=["index", "name", "memory.total", "driver_version"])
    assert (result["gpu_count"], result["driver_version"]) == (2, "535.104.05")
    assert [gpu["memory_total_mib"] for gpu in result["gpus"]] == [81920, 81920]


def test_headerless_csv_without_fields_says_what_is_missing():
    with pytest.raises(ParseError, match="needs option fields.*NVIDIA A100"):
        parse(CSV_NOUNITS, "csv")


def test_csv_header_with_units_and_not_supported_values():
    text = "index, name, power.draw [W], mig.mode.current\n0, Tesla T4, 27.84 W, [N/A]\n"
    gpu = parse(text)["gpus"][0]
    assert (gpu["name"], gpu["power_draw_w"], gpu["mig_mode"]) == ("Tesla T4", 27.84, None)


QUERY = """
==============NVSMI LOG==============

Timestamp                                 : Thu Nov 14 07:00:14 2024
Driver Version                            : 565.57.01
CUDA Version                              : 12.7

Attached GPUs                             : 1
GPU 00000000:18:00.0
    Product Name                          : NVIDIA H100 80GB HBM3
    Persistence Mode                      : Enabled
    MIG Mode
        Current                           : Disabled
        Pending                           : Disabled
    GPU UUID                              : GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1
    PCI
        Bus                               : 0x18
        Bus Id                            : 00000000:18:00.0
    FB Memory Usage
        Total                             : 81559 MiB
        Reserved                          : 454 MiB
        Used                              : 1 MiB
    BAR1 Memory Usage
        Total                             : 131072 MiB
    GPU Power Readings
        Power Draw                        : 100.89 W
        Current Power Limit               : 700.00 W
"""  # lines copied from the -q text embedded in thamada/nvidia-smi nvsim/H100SXMx8_smi.py, other lines left out


def test_query_text_reads_nested_sections():
    result = parse(QUERY)
    gpu = result["gpus"][0]
    assert result["source_format"] == "query"
    assert (result["driver_version"], result["cuda_version"]) == ("565.57.01", "12.7")
    assert (gpu["name"], gpu["memory_total_mib"], gpu["bus_id"], gpu["mig_mode"]) == (
        "NVIDIA H100 80GB HBM3", 81559, "00000000:18:00.0", "disabled")  # fmt: skip
    assert (gpu["power_draw_w"], gpu["power_limit_w"], gpu["persistence_mode"]) == (100.89, 700.0, "enabled")


def test_query_text_cut_before_any_gpu_is_an_error():
    with pytest.raises(ParseError, match="1 GPUs are attached but lists none"):
        parse(QUERY.split("GPU 00000000", maxsplit=1)[0])


def test_query_text_capture_reads_a_whole_real_log():
    gpu = parse(output_of("tesla_t4_query_530"))["gpus"][0]
    assert (gpu["uuid"], gpu["bus_id"], gpu["memory_used_mib"], gpu["temperature_c"]) == (
        "GPU-c1d02d08-2915-752a-ef58-a46a0718a45d", "00000000:00:08.0", 31, 38)  # fmt: skip
    # 530 still says "Power Readings/Power Limit"; a T4 has no MIG, so N/A must stay unknown, not "disabled"
    assert (gpu["power_draw_w"], gpu["power_limit_w"], gpu["mig_mode"]) == (14.04, 70.0, None)


def test_headerless_csv_capture_reads_every_uuid_in_order():
    result = parse(output_of("a800_x8_csv_noheader"), fields=["index", "name", "uuid", "memory.total"])
    assert [gpu["index"] for gpu in result["gpus"]] == list(range(8))
    assert (result["gpus"][0]["uuid"], result["gpus"][7]["uuid"]) == (
        "GPU-12845128-f0d6-bc49-c86d-696e956dd9b0", "GPU-0d208f82-9a0e-c478-23f1-d239178fc2cb")  # fmt: skip


def test_arm64_tables_keep_the_pci_domain_and_power_cap():
    grace_hopper = parse(output_of("gh200_table_535"))["gpus"][0]
    assert (grace_hopper["bus_id"], grace_hopper["power_draw_w"], grace_hopper["power_limit_w"]) == (
        "00000009:01:00.0", 106, 900)  # fmt: skip
    graviton = parse(output_of("t4g_table_570"))["gpus"][0]
    assert (graviton["bus_id"], graviton["persistence_mode"], graviton["mig_mode"]) == (
        "00000000:00:1F.0", "enabled", None)  # fmt: skip


def cut(text, fraction):
    return text[: int(len(text) * fraction)]


@pytest.mark.parametrize("name", ["a100_80gb_mig_xml_535", "sim_a100_80gb_x8_xml"])
def test_xml_cut_short_quotes_the_line(name):
    text = cut(output_of(name), 0.5)
    with pytest.raises(ParseError) as error:
        parse(text)
    message = str(error.value)
    assert "broken or cut short at line" in message
    quoted = message.rsplit(": ", 1)[1]
    assert quoted.strip("'\"") in text.splitlines()


def test_table_cut_after_a_gpu_line_quotes_it():
    lines = output_of("h100_x4_table_560").splitlines()
    text = "\n".join(lines[:9])
    with pytest.raises(ParseError, match=r"cut short after GPU line.*H100 80GB HBM3"):
        parse(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "printed nothing"),
        ("hello world\n", "cannot tell which nvidia-smi output this is; first line: 'hello world'"),
        (
            "GPU 0: NVIDIA A100 (UUID: GPU-1)\nsomething else\n",
            "unreadable line in nvidia-smi -L output: 'something else'",
        ),
        ("<other/>", "not <nvidia_smi_log>"),
        ('<!DOCTYPE x [<!ENTITY e "x">]><nvidia_smi_log/>', "declares entities"),
        ("+---+\n|===|\n|   0  garbage |\n", "unreadable GPU line"),
    ],
)
def test_garbage_raises_parse_error_quoting_the_line(text, message):
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_detect_format_names_each_form():
    assert detect_format(output_of("sim_h100_xml")) == "xml"
    assert detect_format(QUERY) == "query"
    assert detect_format(output_of("sim_h100_list")) == "list"
    assert detect_format(output_of("a100_40gb_table_450")) == "table"
    assert detect_format(output_of("a100_80gb_x8_csv_570")) == "csv"
    assert detect_format(output_of("tesla_t4_query_530")) == "query"
    assert detect_format(output_of("a800_x8_csv_noheader")) == "csv"
    assert detect_format(output_of("tesla_t4_table_470")) == "table"


# --- incomplete and hostile input: a parse error, never a smaller machine or a traceback -------------------------

A100_X8_TABLE = output_of("a100_80gb_x8_table_595").splitlines()
FIRST_GPU_ROW = next(i for i, line in enumerate(A100_X8_TABLE) if line.startswith("|   0  "))
PROCESSES_TITLE = next(i for i, line in enumerate(A100_X8_TABLE) if line.startswith("| Processes:"))


# Where a cut leaves whole GPU blocks and nothing after them, the table alone cannot tell it from a capture that ends
# there (tests/fixtures/nvidia_smi/a100_40gb_table_450 was pasted that way): those cuts read as fewer GPUs.
# Blank lines after such a cut change nothing.
BLOCK_BORDERS = [
    i for i in range(FIRST_GPU_ROW, PROCESSES_TITLE) if A100_X8_TABLE[i].startswith("+-") and "-+-" in A100_X8_TABLE[i]
]
WHOLE_BLOCK_CUTS = {
    border + 1 + blank: count
    for count, border in enumerate(BLOCK_BORDERS, start=1)
    for blank in (0, 1)
    if blank == 0 or not A100_X8_TABLE[border + 1].strip()
}


@pytest.mark.parametrize("end", range(FIRST_GPU_ROW + 1, len(A100_X8_TABLE) + 1))
def test_table_cut_anywhere_after_the_first_gpu_is_refused_unless_whole_blocks_remain(end):
    text = "\n".join(A100_X8_TABLE[:end]) + "\n"
    if end == len(A100_X8_TABLE):
        assert parse(text)["gpu_count"] == 8
    elif end in WHOLE_BLOCK_CUTS:
        assert parse(text)["gpu_count"] == WHOLE_BLOCK_CUTS[end]
    else:
        with pytest.raises(ParseError, match="cut short"):
            parse(text)


def test_table_gpu_block_without_its_closing_border_is_cut_short():
    lines = output_of("h100_x4_table_560").splitlines()
    with pytest.raises(ParseError, match=r"cut short.*GPU 0"):
        parse("\n".join(lines[:11]))


def test_header_only_csv_is_a_parse_error_not_zero_gpus():
    with pytest.raises(ParseError, match="header but no GPU rows"):
        parse("index, name, memory.total [MiB]\n")


def test_csv_field_longer_than_the_csv_module_limit_is_a_parse_error():
    text = "index, name\n0, %s\n" % ("A" * (csv.field_size_limit() + 10))
    with pytest.raises(ParseError, match="CSV"):
        parse(text)


def test_xml_with_attached_gpus_but_no_gpu_element_is_a_parse_error():
    text = "<?xml version='1.0'?><nvidia_smi_log><attached_gpus>8</attached_gpus></nvidia_smi_log>"
    with pytest.raises(ParseError, match="8 GPUs are attached but lists none"):
        parse(text)


def test_xml_without_any_gpu_is_a_parse_error():
    with pytest.raises(ParseError, match="lists no GPU"):
        parse("<nvidia_smi_log><driver_version>535.54.03</driver_version></nvidia_smi_log>")


def test_query_text_without_any_gpu_is_a_parse_error():
    with pytest.raises(ParseError, match="lists no GPU"):
        parse(QUERY.split("Attached GPUs", maxsplit=1)[0])


@pytest.mark.parametrize("fields", [["index", "nmae"], ["index", "memory.totl", "power.draw"]])
def test_unknown_field_names_are_refused_naming_them(fields):
    with pytest.raises(OptionError, match=r"fields: unknown name.*(nmae|memory\.totl)"):
        parse(CSV_NOUNITS, "csv", fields=fields)


def test_unknown_field_names_are_refused_whatever_the_format():
    with pytest.raises(OptionError, match="nmae"):
        validate_fields(["nmae"])


def test_headerless_csv_with_fields_needs_no_format():
    result = parse("GPU-1\nGPU-2\n", fields=["uuid"])
    assert (result["source_format"], [gpu["uuid"] for gpu in result["gpus"]]) == ("csv", ["GPU-1", "GPU-2"])
    assert parse(CSV_NOUNITS, fields=["index", "name", "memory.total", "driver_version"])["gpu_count"] == 2


def test_610_query_text_reports_the_driver_version_alone_even_from_the_deprecated_key():
    text = output_of("query_kmd_610").replace("KMD Version", "Other Version").replace("CUDA UMD", "Other UMD")
    result = parse(text)
    assert (result["driver_version"], result["cuda_version"]) == ("610.47", "13.3")


def test_windows_driver_model_is_not_read_as_persistence_mode():
    wddm = parse(output_of("gtx1650_wddm_table_457"))["gpus"][0]
    tcc = parse(output_of("l40s_tcc_table_555"))["gpus"][0]
    assert (wddm["persistence_mode"], wddm["bus_id"], wddm["memory_used_mib"]) == (None, "00000000:01:00.0", 134)
    assert (tcc["persistence_mode"], tcc["power_limit_w"]) == (None, 350)


def test_jetson_na_columns_stay_unknown():
    result = parse(output_of("orin_nvgpu_table_540"))
    gpu = result["gpus"][0]
    assert (gpu["bus_id"], gpu["memory_total_mib"], gpu["temperature_c"], gpu["persistence_mode"]) == (
        None, None, None, None)  # fmt: skip
