# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from nvidia_smi_corpus import ERROR_CASES, OUTPUT_CASES, case_id

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.errors import (
    ERROR_KINDS,
    HINTS,
    classify,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import ParseError, parse


@pytest.mark.parametrize("case", ERROR_CASES, ids=case_id)
def test_every_error_in_the_corpus_gets_its_kind(case):
    _name, meta, output = case
    found = classify(output)
    assert found is not None
    assert found["error_kind"] == meta["expected"]["error_kind"]
    assert found["message"] in output


@pytest.mark.parametrize("case", ERROR_CASES, ids=case_id)
def test_error_on_stderr_is_classified_too(case):
    _name, meta, output = case
    assert classify("", output)["error_kind"] == meta["expected"]["error_kind"]


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=case_id)
def test_good_output_is_not_an_error(case):
    assert classify(case[2]) is None


def test_every_kind_has_a_hint_and_the_corpus_covers_all_but_parse_error():
    assert set(HINTS) == set(ERROR_KINDS)
    covered = {meta["expected"]["error_kind"] for _name, meta, _output in ERROR_CASES}
    assert covered == set(ERROR_KINDS) - {"parse_error"}


def test_hints_name_the_fix():
    assert "restart docker" in classify('could not select device driver "" with capabilities: [[gpu]]')["hint"]
    assert "Reboot" in classify("Failed to initialize NVML: Driver/library version mismatch")["hint"]


def test_image_not_found_locally_alone_is_a_normal_first_pull():
    assert classify("Unable to find image 'nvidia/cuda:12.4.1-base-ubuntu22.04' locally\n") is None
    failed = classify(
        "Unable to find image 'nvidia/cuda:99-base' locally\n",
        'docker: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: i/o timeout.\n',
    )
    assert failed["error_kind"] == "image_unavailable"


@pytest.mark.parametrize(
    "line",
    [
        "Unable to determine the device handle for GPU 0000:0B:00.0: Unknown Error",
        "Unable to determine the device handle for GPU0000:07:00.0: Unknown Error",
        "Unable to determine the device handle for GPU0: 0000:C1:00.0: Unknown Error",
        "Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost. Reboot the system to recover it",
    ],
)
def test_a_gpu_that_fell_off_the_bus_is_named_before_the_no_devices_line_that_follows(line):
    found = classify(line + "\nNo devices were found\n")
    assert (found["error_kind"], found["message"]) == ("gpu_lost", line)
    assert "Xid 79" in found["hint"] and "Drain the host" in found["hint"]


def test_gpu_access_blocked_by_the_operating_system_keeps_the_first_line():
    found = classify(
        "Failed to initialize NVML: GPU access blocked by the operating system\n"
        "Failed to properly shut down NVML: GPU access blocked by the operating system\n"
    )
    assert found["error_kind"] == "gpu_access_blocked"
    assert found["message"].startswith("Failed to initialize NVML")


@pytest.mark.parametrize("case", ERROR_CASES, ids=case_id)
def test_no_error_text_parses_as_gpus(case):
    # The module classifies text only after the parser refused it, so an error must never read as a GPU list.
    with pytest.raises(ParseError):
        parse(case[2])
