# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the module's main() with real argument handling; only the commands it would run are replaced."""

import os

import pytest
from fake_commands import Commands
from fake_commands import run_main as run_module_main

from ansible_collections.gpufleet.containers.plugins.modules import nvidia_smi

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "nvidia_smi")
IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04"


def fixture(name):
    with open(os.path.join(FIXTURES, name, "output.txt")) as handle:
        return handle.read()


def run_main(args, capsys):
    return run_module_main(nvidia_smi, args, capsys)


def test_parses_given_output_and_runs_nothing(monkeypatch, capsys):
    commands = Commands()
    commands.install(monkeypatch)
    result = run_main({"output": fixture("a100_80gb_x8_table_595"), "expect": {"model": "A100", "count": 8}}, capsys)
    assert commands.calls == []
    assert (result["_exit"], result["ok"], result["changed"]) == (0, True, False)
    assert (result["gpu_count"], result["source_format"], result["driver_version"]) == (8, "table", "595.71.05")
    assert "rc" not in result


def test_container_path_runs_the_exact_docker_command(monkeypatch, capsys):
    commands = Commands(answer=(0, fixture("sim_a100_80gb_x8_xml"), ""))
    commands.install(monkeypatch)
    result = run_main({"container_image": IMAGE, "runtime": "nvidia", "_ansible_check_mode": True}, capsys)
    assert commands.calls == [
        [
            "/usr/bin/docker",
            "run",
            "--rm",
            "--gpus",
            "all",
            "--runtime",
            "nvidia",
            "--",
            IMAGE,
            "nvidia-smi",
            "-q",
            "-x",
        ]
    ]
    assert commands.environ[0]["LC_ALL"] == "C"
    assert (result["ok"], result["gpu_count"], result["cuda_version"], result["source_format"]) == (
        True,
        8,
        "12.2",
        "xml",
    )
    assert result["cmd"] == commands.calls[0] and result["rc"] == 0


def test_host_path_runs_nvidia_smi_xml_with_a_timeout(monkeypatch, capsys):
    commands = Commands(answer=(0, fixture("sim_h100_xml"), ""))
    commands.install(monkeypatch)
    result = run_main({"timeout": 30, "gpus": "device=0"}, capsys)
    assert commands.calls == [["/usr/bin/timeout", "--kill-after=5", "30", "/usr/bin/nvidia-smi", "-q", "-x"]]
    assert result["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


def test_expectations_failing_list_every_mismatch(monkeypatch, capsys):
    Commands().install(monkeypatch)
    expect = {"model": "H100", "count": 4, "min_driver_version": "600.1", "mig": "enabled"}
    result = run_main({"output": fixture("a100_80gb_x8_table_595"), "expect": expect}, capsys)
    assert (result["_exit"], result["failed"], result["ok"]) == (1, True, False)
    assert [item["field"] for item in result["mismatches"]] == ["model", "count", "min_driver_version", "mig"]
    assert (
        "'H100'" in result["msg"]
        and "NVIDIA A100-SXM4-80GB x 8" in result["msg"]
        and "expected 4 GPUs, found 8" in result["msg"]
    )


def test_mismatch_without_failing_returns_a_verdict(monkeypatch, capsys):
    Commands().install(monkeypatch)
    result = run_main(
        {"output": fixture("sim_h100_table"), "expect": {"model": "A100"}, "fail_on_mismatch": False}, capsys
    )
    assert (result["_exit"], result["ok"], result.get("failed", False)) == (0, False, False)
    assert result["mismatches"][0]["found"] == "NVIDIA H100 80GB HBM3 x 1"


@pytest.mark.parametrize(
    "answer, kind",
    [
        ((125, "", fixture("err_docker_no_gpu_runtime")), "no_gpu_runtime"),
        ((6, fixture("err_no_devices"), ""), "no_devices"),
        ((18, fixture("err_nvml_mismatch"), ""), "nvml_mismatch"),
    ],
)
def test_failures_get_their_error_kind_and_hint(monkeypatch, capsys, answer, kind):
    Commands(answer=answer).install(monkeypatch)
    result = run_main({"container_image": IMAGE}, capsys)
    assert (result["_exit"], result["error_kind"], result["rc"]) == (1, kind, answer[0])
    assert result["hint"] and result["hint"] in result["msg"]


def test_missing_nvidia_smi_on_the_host(monkeypatch, capsys):
    commands = Commands(missing=("nvidia-smi",))
    commands.install(monkeypatch)
    result = run_main({"fail_on_mismatch": False}, capsys)
    assert commands.calls == []
    assert (result["ok"], result["error_kind"]) == (False, "nvidia_smi_missing")


def test_garbage_output_is_a_parse_error_not_a_traceback(monkeypatch, capsys):
    Commands().install(monkeypatch)
    result = run_main({"output": fixture("sim_h100_xml")[:3000]}, capsys)
    assert (result["_exit"], result["error_kind"]) == (1, "parse_error")
    assert "cut short" in result["msg"]


def test_error_text_given_as_output_is_classified(monkeypatch, capsys):
    Commands().install(monkeypatch)
    result = run_main({"output": fixture("err_nvml_unknown"), "fail_on_mismatch": False}, capsys)
    assert result["error_kind"] == "nvml_unknown"


def test_a_failed_command_without_failing_says_failed_false_explicitly(monkeypatch, capsys):
    # Ansible marks a result that has a non-zero rc and no `failed` key as failed, whatever the module meant.
    Commands(answer=(6, fixture("err_no_devices"), "")).install(monkeypatch)
    result = run_main({"container_image": IMAGE, "fail_on_mismatch": False}, capsys)
    assert (result["_exit"], result["rc"], result["error_kind"]) == (0, 6, "no_devices")
    assert result["failed"] is False


# A healthy answer that lists a process whose path quotes an error message: any local user can start one.
HEALTHY_XML_QUOTING_AN_ERROR = fixture("sim_h100_xml").replace(
    "<processes />",
    "<processes><process_info><pid>4242</pid><type>C</type>"
    "<process_name>/tmp/exec format error/No devices were found</process_name>"
    "<used_memory>10 MiB</used_memory></process_info></processes>",
    1,
)


def test_healthy_output_quoting_an_error_is_not_classified(monkeypatch, capsys):
    assert "exec format error" in HEALTHY_XML_QUOTING_AN_ERROR
    Commands().install(monkeypatch)
    result = run_main({"output": HEALTHY_XML_QUOTING_AN_ERROR, "expect": {"count": 1}}, capsys)
    assert (result["_exit"], result["ok"], result["error_kind"], result["gpu_count"]) == (0, True, None, 1)


def test_successful_run_quoting_an_error_is_not_classified(monkeypatch, capsys):
    Commands(answer=(0, HEALTHY_XML_QUOTING_AN_ERROR, "")).install(monkeypatch)
    result = run_main({"container_image": IMAGE}, capsys)
    assert (result["_exit"], result["ok"], result["error_kind"]) == (0, True, None)


def test_a_failed_run_is_still_classified(monkeypatch, capsys):
    Commands(answer=(255, fixture("err_gpu_lost_unspaced"), "")).install(monkeypatch)
    result = run_main({"fail_on_mismatch": False}, capsys)
    assert (result["ok"], result["error_kind"]) == (False, "gpu_lost")
    assert "Xid 79" in result["hint"]


@pytest.mark.parametrize("option", ["container_image", "gpus", "runtime", "network"])
def test_values_starting_with_a_dash_are_refused_before_docker_runs(monkeypatch, capsys, option):
    commands = Commands()
    commands.install(monkeypatch)
    args = {"container_image": IMAGE, option: "--privileged"}
    result = run_main(args, capsys)
    assert commands.calls == []
    assert result["_exit"] == 1
    assert "%s '--privileged' starts with '-'" % option in result["msg"]


def test_a_bad_model_pattern_fails_naming_it_before_anything_runs(monkeypatch, capsys):
    commands = Commands()
    commands.install(monkeypatch)
    result = run_main({"container_image": IMAGE, "expect": {"model": "re:("}}, capsys)
    assert commands.calls == []
    assert result["_exit"] == 1 and "'re:('" in result["msg"] and "not a valid regular expression" in result["msg"]


def test_unknown_fields_fail_naming_the_field_before_anything_runs(monkeypatch, capsys):
    commands = Commands()
    commands.install(monkeypatch)
    result = run_main({"fields": ["index", "nmae"]}, capsys)
    assert commands.calls == []
    assert result["_exit"] == 1 and "'nmae'" in result["msg"]


def test_headerless_csv_with_fields_needs_no_format(monkeypatch, capsys):
    Commands().install(monkeypatch)
    result = run_main({"output": "GPU-1\nGPU-2\n", "fields": ["uuid"], "expect": {"count": 2}}, capsys)
    assert (result["_exit"], result["ok"], result["source_format"]) == (0, True, "csv")
