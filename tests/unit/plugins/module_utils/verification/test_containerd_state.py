# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's CRI plugin read back from its own answers: real `containerd config dump` output of containerd 1.6.20
(tests/fixtures/containerd_verify/README.md says how each was made), with and without a TOML library."""

import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.verification import containerd_state
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.containerd_state import (
    DumpError,
    cri_plugin_status,
    parse_config_dump,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "containerd_verify")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.fixture(params=["toml", "headers"])
def parser(request, monkeypatch):
    """Both readers: the TOML library (Python 3.11+, or tomli) and the header scan older targets fall back to."""
    if request.param == "headers":
        monkeypatch.setattr(containerd_state, "_toml", None)
    return parse_config_dump


def test_a_registered_nvidia_runtime_is_listed_beside_runc(parser):
    state = parser(fixture("config_dump_nvidia_1.6.20.toml"))
    assert state == {
        "cri_plugin": "io.containerd.grpc.v1.cri",
        "cri_runtimes": ["nvidia", "runc"],
        "disabled_plugins": [],
    }


def test_containerds_defaults_have_runc_only(parser):
    assert parser(fixture("config_dump_default_1.6.20.toml"))["cri_runtimes"] == ["runc"]


def test_a_disabled_cri_plugin_leaves_no_section(parser):
    state = parser(fixture("config_dump_cri_disabled_1.6.20.toml"))
    assert (state["cri_plugin"], state["cri_runtimes"]) == (None, [])
    assert state["disabled_plugins"] == ["io.containerd.grpc.v1.cri"]


def test_a_schema_3_dump_is_read_under_the_2x_plugin_name(parser):
    text = (
        "version = 3\n"
        '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvidia]\n'
        '  runtime_type = "io.containerd.runc.v2"\n'
        '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]\n'
        '  runtime_type = "io.containerd.runc.v2"\n'
    )
    state = parser(text)
    assert (state["cri_plugin"], state["cri_runtimes"]) == ("io.containerd.cri.v1.runtime", ["nvidia", "runc"])


def test_text_that_is_not_toml_is_refused():
    if containerd_state._toml is None:
        pytest.skip("no TOML library: the header scan reads what it finds")
    with pytest.raises(DumpError, match="not TOML"):
        parse_config_dump('[plugins."io.containerd.grpc.v1.cri"\n')


@pytest.mark.parametrize(
    "name, status",
    [
        ("plugins_ls_cri_ok_derived.txt", "ok"),
        ("plugins_ls_cri_error_derived.txt", "error"),
        ("plugins_ls_no_cri_1.6.20.txt", None),
    ],
)
def test_the_cri_plugins_state_comes_from_ctr_plugins_ls(name, status):
    assert cri_plugin_status(fixture(name)) == status
