# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading CDI specs: the PyYAML-free reader against PyYAML on real-shaped specs, and the facts taken from them."""

import os

import pytest
import yaml

from ansible_collections.gpufleet.containers.plugins.module_utils.cdi import spec as cdi_spec
from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.spec import (
    CdiSpecError,
    load_spec,
    load_yaml_subset,
    same_spec,
    spec_facts,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
YAML_FIXTURES = ["nvidia-ctk-1.17.8-driver-575.64.03.yaml", "nvidia-ctk-1.13-driver-535.104.05.yaml"]


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize("name", YAML_FIXTURES)
def test_subset_reader_reads_generated_specs_as_pyyaml_does(name):
    assert load_yaml_subset(fixture(name)) == yaml.safe_load(fixture(name))


def test_subset_reader_handles_indented_sequences_comments_and_quotes():
    text = (
        "# written by hand\n"
        "cdiVersion: '0.6.0'   # quoted\n"
        "kind: nvidia.com/gpu\n"
        "devices:\n"
        '  - name: "GPU-a#b"\n'
        "    containerEdits:\n"
        "      deviceNodes:\n"
        "        - path: /dev/nvidia0\n"
        "      env: []\n"
        "      mounts:\n"
        "        - {}\n"
        "containerEdits:\n"
        "  mounts:\n"
        "    - hostPath: /usr/bin/nvidia-smi\n"
        "      options: [ro, nosuid, bind]\n"
        "      'type': bind\n"
    )
    assert load_yaml_subset(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "kind: &k nvidia.com/gpu\n",
        "kind: |\n  nvidia.com/gpu\n",
        "kind: nvidia.com/gpu\n  cdiVersion: 0.5.0\n",
        "kind: nvidia.com/gpu\nkind: other\n",
        'kind: "unterminated\n',
        "devices:\n\t- name: 0\n",
        "mounts: [{hostPath: /x}]\n",
    ],
    ids=["anchor", "block-scalar", "bad-indent", "duplicate-key", "unterminated", "tab", "nested-flow"],
)
def test_subset_reader_refuses_what_it_cannot_read_faithfully(text):
    with pytest.raises(CdiSpecError):
        load_yaml_subset(text)


def test_json_spec_reads_as_the_yaml_one():
    assert load_spec(fixture("nvidia-ctk-1.17.8-driver-575.64.03.json")) == load_spec(
        fixture("nvidia-ctk-1.17.8-driver-575.64.03.yaml")
    )


def test_load_spec_without_pyyaml_uses_the_subset_reader(monkeypatch):
    monkeypatch.setattr(cdi_spec, "_yaml", None)
    assert load_spec(fixture(YAML_FIXTURES[0]))["kind"] == "nvidia.com/gpu"


@pytest.mark.parametrize("text", ["", "{", "- a\n- b\n", '{"kind": "nvidia.com/gpu"}'])
def test_load_spec_refuses_what_is_no_cdi_spec(text):
    with pytest.raises(CdiSpecError):
        load_spec(text)


def test_facts_of_a_generated_spec():
    facts = spec_facts(load_spec(fixture("nvidia-ctk-1.17.8-driver-575.64.03.yaml")))
    assert facts["kind"] == "nvidia.com/gpu"
    assert facts["device_names"] == ["0", "GPU-520e01f2-cf30-6396-abef-e8e9a5233b0e", "all"]
    # libnvidia-ml, libcuda and the compat hook name the driver; libnvidia-egl-wayland.so.1.1.19 does not.
    assert facts["driver_versions"] == ["575.64.03"]
    assert "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.575.64.03" in facts["host_paths"]
    assert "/dev/nvidia0" in facts["host_paths"]
    assert "/usr/bin/nvidia-cdi-hook" in facts["host_paths"]
    assert "/dev/nvidiactl" in facts["host_paths"]


def test_device_node_host_path_wins_over_its_container_path():
    spec = {
        "cdiVersion": "0.5.0",
        "kind": "k/x",
        "containerEdits": {"deviceNodes": [{"path": "/dev/x", "hostPath": "/dev/host-x"}]},
    }
    assert spec_facts(spec)["host_paths"] == ["/dev/host-x"]


def test_same_spec_ignores_formatting_but_not_content():
    yaml_text = fixture("nvidia-ctk-1.17.8-driver-575.64.03.yaml")
    assert same_spec(yaml_text, fixture("nvidia-ctk-1.17.8-driver-575.64.03.json"))
    assert same_spec(yaml_text, "# a comment added by hand\n" + yaml_text)
    assert not same_spec(yaml_text, yaml_text.replace("/dev/nvidia0", "/dev/nvidia1"))
    assert not same_spec("not: [a spec", "not: [a spec ")
