# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Any input to any nvidia-smi parser gives a result or a ParseError, never another exception.

Inputs are arbitrary text, arbitrary bytes decoded the ways text reaches the module, and real captures from the
corpus cut, spliced and with lines dropped (random text alone rarely gets past the first check of a parser).
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvidia_smi_corpus import OUTPUT_CASES

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import (
    FIELDS_READ,
    FORMATS,
    GPU_KEYS,
    OptionError,
    ParseError,
    parse,
)

# database=None: nothing written into the working tree; derandomize: the same examples on every run, so a failure
# seen once is seen again. Seven tests of 300 examples each take about five seconds.
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CAPTURES = [output for _name, _meta, output in OUTPUT_CASES]


@st.composite
def damaged_capture(draw):
    """A real capture cut, spliced with other text, or with lines dropped or repeated."""
    text = draw(st.sampled_from(CAPTURES))
    how = draw(st.sampled_from(["cut", "splice", "lines"]))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=40)) + text[at + draw(st.integers(0, 40)) :]
    lines = text.splitlines()
    kept = draw(st.lists(st.integers(0, max(len(lines) - 1, 0)), max_size=len(lines)))
    return "\n".join(lines[index] for index in kept if lines)


def decoded_bytes():
    raw = st.binary(max_size=300)
    return st.one_of(
        raw.map(lambda data: data.decode("utf-8", "surrogateescape")),
        raw.map(lambda data: data.decode("latin-1")),
    )


ANY_TEXT = st.one_of(st.text(max_size=300), decoded_bytes(), damaged_capture())
FIELD_LISTS = st.one_of(st.none(), st.lists(st.sampled_from(FIELDS_READ), min_size=1, max_size=6))


def check_result(result, source_format):
    assert set(result) == {
        "gpu_count", "driver_version", "cuda_version", "gpus", "mig_devices", "processes", "source_format",
    }  # fmt: skip
    assert result["source_format"] in FORMATS
    if source_format != "auto":
        assert result["source_format"] == source_format
    assert result["gpu_count"] == len(result["gpus"]) > 0
    for gpu in result["gpus"]:
        assert set(gpu) == set(GPU_KEYS)


@pytest.mark.parametrize("source_format", ("auto",) + FORMATS)
@PROPERTY
@given(text=ANY_TEXT, fields=FIELD_LISTS)
def test_any_text_gives_a_result_or_a_parse_error(source_format, text, fields):
    try:
        result = parse(text, source_format, fields)
    except ParseError:
        return
    check_result(result, source_format)


@PROPERTY
@given(text=damaged_capture(), fields=st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_fields_are_either_read_or_refused_by_name(text, fields):
    unknown = [field for field in fields if field.strip().lower() not in FIELDS_READ]
    try:
        parse(text, "csv", fields)
    except OptionError as error:
        assert unknown and repr(unknown[0]) in str(error)
    except ParseError:
        assert not unknown
    else:
        assert not unknown
