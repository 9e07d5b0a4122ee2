# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print how long parsing takes per nvidia-smi output form. Figures only, nothing asserted.

Run from the repository root: .venv/bin/python tests/bench/bench_nvidia_smi_parse.py
"""

import os
import sys
import timeit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "collections"))

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import parse  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "nvidia_smi")
CASES = [
    ("table, 8 x A100 80GB", "a100_80gb_x8_table_595", None),
    ("xml, 8 x A100 80GB", "sim_a100_80gb_x8_xml", None),
    ("csv with header, 8 x A100 80GB", "a100_80gb_x8_csv_570", None),
    ("list, 8 x A100 80GB", "a100_80gb_x8_list_570", None),
]


def main():
    print("%-34s %10s %12s" % ("form", "bytes", "us/parse"))
    for label, case, fields in CASES:
        with open(os.path.join(FIXTURES, case, "output.txt")) as handle:
            text = handle.read()

        def once(text=text, fields=fields):
            return parse(text, fields=fields)

        runs, _seconds = timeit.Timer(once).autorange()
        best = min(timeit.repeat(once, number=runs, repeat=3)) / runs
        print("%-34s %10d %12.1f" % (label, len(text), best * 1e6))


if __name__ == "__main__":
    main()
