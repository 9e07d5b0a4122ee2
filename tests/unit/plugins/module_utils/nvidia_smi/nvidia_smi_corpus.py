# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nvidia-smi fixture corpus (tests/fixtures/nvidia_smi), read once for the parser and error tests."""

import os

import yaml

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvidia_smi")


def load_cases():
    cases = []
    for name in sorted(os.listdir(CORPUS)):
        folder = os.path.join(CORPUS, name)
        if not os.path.isdir(folder):
            continue
        with open(os.path.join(folder, "meta.yml")) as handle:
            meta = yaml.safe_load(handle)
        with open(os.path.join(folder, "output.txt")) as handle:
            output = handle.read()
        cases.append((name, meta, output))
    return cases


CASES = load_cases()
OUTPUT_CASES = [case for case in CASES if case[1]["format"] != "error"]
ERROR_CASES = [case for case in CASES if case[1]["format"] == "error"]


def case_id(case):
    return case[0]


def output_of(name):
    return next(output for case_name, _meta, output in CASES if case_name == name)
