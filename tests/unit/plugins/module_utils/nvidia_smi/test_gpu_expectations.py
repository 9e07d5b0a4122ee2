# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import re

import pytest
from nvidia_smi_corpus import output_of

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.expectations import (
    check,
    compare_versions,
    validate,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import parse

A100_X8 = parse(output_of("a100_80gb_x8_table_595"))
H100 = parse(output_of("sim_h100_xml"))


def fields(mismatches):
    return [item["field"] for item in mismatches]


def test_a100_x8_host_meets_its_expectations():
    assert check(A100_X8, {"model": "a100", "count": 8, "min_memory_mib": 81920, "min_driver_version": "595.71",
                           "min_cuda_version": "13.2", "mig": "disabled"}) == []  # fmt: skip


def test_every_mismatch_is_listed_with_expected_and_found():
    expect = {"model": "H100", "count": 4, "min_memory_mib": 90000, "min_driver_version": "600",
              "min_cuda_version": "13.10", "mig": "enabled"}  # fmt: skip
    mismatches = check(A100_X8, expect)
    assert fields(mismatches) == ["model", "count", "min_memory_mib", "min_driver_version", "min_cuda_version", "mig"]
    model = mismatches[0]
    assert (model["expected"], model["found"]) == ("H100", "NVIDIA A100-SXM4-80GB x 8")
    assert "H100" in model["message"] and "NVIDIA A100-SXM4-80GB x 8" in model["message"]
    assert (mismatches[1]["expected"], mismatches[1]["found"]) == (4, 8)
    assert mismatches[4]["found"] == "13.2"


def test_model_regex():
    assert check(H100, {"model": "re:h100.*hbm3"}) == []
    assert fields(check(H100, {"model": "re:^H100"})) == ["model"]


def test_truncated_names_are_explained():
    result = parse(output_of("a100_80gb_pcie_mig_table_515_truncated"))
    message = check(result, {"model": "PCIe"})[0]["message"]
    assert "cut short" in message


def test_values_the_output_does_not_show_are_mismatches_not_passes():
    listing = parse(output_of("sim_h100_list"))
    mismatches = check(listing, {"min_driver_version": "535", "min_memory_mib": 1})
    assert [(item["field"], item["found"]) for item in mismatches] == [
        ("min_memory_mib", [None]),
        ("min_driver_version", None),
    ]
    assert "does not show" in mismatches[1]["message"]


@pytest.mark.parametrize(
    "left, right, order",
    [("535.104.05", "535.54.03", 1), ("12.2", "12.10", -1), ("550", "550.0.0", 0), ("470.57.02", "470.57.2", 0)],
)
def test_versions_compare_number_by_number(left, right, order):
    assert compare_versions(left, right) == order


@pytest.mark.parametrize("expect", [{"mig": "on"}, {"min_driver_version": "latest"}, {"colour": "green"}])
def test_invalid_expectations_are_refused(expect):
    with pytest.raises(ValueError):
        check(A100_X8, expect)


def test_mig_expectation_on_a_mig_host():
    result = parse(output_of("sim_a100_40gb_mig_xml"))
    assert check(result, {"mig": "enabled", "model": "A100-SXM4-40GB", "count": 1}) == []


@pytest.mark.parametrize("pattern", ["re:(", "re:A100[", "re:*80GB"])
def test_a_bad_model_pattern_is_refused_naming_it(pattern):
    with pytest.raises(ValueError, match=r"model %s is not a valid regular expression" % re.escape(repr(pattern))):
        check(A100_X8, {"model": pattern})


def test_expectations_are_checked_before_any_output_exists():
    validate({"model": "re:A100.*80GB", "count": 8, "mig": "disabled", "min_driver_version": "535.104.05"})
    with pytest.raises(ValueError, match="re:\\("):
        validate({"model": "re:("})
    with pytest.raises(ValueError, match="count"):
        validate({"count": "eight"})
