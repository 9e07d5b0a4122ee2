# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""deep_merge, the one rule for a user's settings in daemon.json and in containerd's config."""

import json

from ansible_collections.gpufleet.containers.plugins.module_utils.merge import deep_merge

# A daemon.json as operators write it, and containerd 1.6's CRI table as `containerd config dump` prints it (trimmed).
DAEMON_JSON = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "100m", "max-file": "3"},
    "dns": ["10.0.0.2"],
    "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}},
}
CRI = {
    "sandbox_image": "registry.k8s.io/pause:3.6",
    "containerd": {
        "default_runtime_name": "runc",
        "runtimes": {"runc": {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": False}}},
    },
}


def test_tables_merge_key_by_key_at_every_depth():
    merged = deep_merge(CRI, {"containerd": {"runtimes": {"runc": {"options": {"SystemdCgroup": True}}}}})
    assert merged["containerd"]["runtimes"]["runc"] == {
        "runtime_type": "io.containerd.runc.v2",
        "options": {"SystemdCgroup": True},
    }
    assert merged["containerd"]["default_runtime_name"] == "runc"
    assert merged["sandbox_image"] == "registry.k8s.io/pause:3.6"


def test_arrays_and_scalars_replace_the_old_value_whole():
    merged = deep_merge(DAEMON_JSON, {"dns": ["1.1.1.1"], "log-driver": "journald"})
    assert merged["dns"] == ["1.1.1.1"]
    assert merged["log-driver"] == "journald"


def test_a_table_and_a_plain_value_replace_each_other():
    assert deep_merge({"features": {"cdi": True}}, {"features": "off"}) == {"features": "off"}
    assert deep_merge({"features": "off"}, {"features": {"cdi": True}}) == {"features": {"cdi": True}}


def test_existing_keys_keep_their_place_and_new_keys_go_last():
    merged = deep_merge(DAEMON_JSON, {"default-runtime": "nvidia", "log-opts": {"compress": "true"}})
    assert list(merged) == ["log-driver", "log-opts", "dns", "runtimes", "default-runtime"]
    assert list(merged["log-opts"]) == ["max-size", "max-file", "compress"]


def test_neither_input_changes_and_the_result_shares_nothing_with_them():
    before_base, overrides = json.dumps(DAEMON_JSON), {"runtimes": {"nvidia": {"runtimeArgs": ["--debug"]}}}
    before_overrides = json.dumps(overrides)
    merged = deep_merge(DAEMON_JSON, overrides)
    merged["log-opts"]["max-size"] = "1k"
    merged["runtimes"]["nvidia"]["runtimeArgs"].append("--more")
    assert json.dumps(DAEMON_JSON) == before_base
    assert json.dumps(overrides) == before_overrides
