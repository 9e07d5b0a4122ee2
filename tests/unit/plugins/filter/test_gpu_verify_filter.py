# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_verify_failure: what its docs list, what site.yml passes and what the function takes agree, and the verdict it
gives a host that failed early has the schema of a verified host's.

Read from the files, without importing the filter plugin: importing Ansible's controller code (ansible.errors) into
this pytest process changes how later module tests see their warnings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import os
import re

import yaml

from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import (
    build_verdict,
    failure_verdict,
)

REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
FACTS = {"distribution": "Ubuntu", "distribution_version": "24.04", "distribution_major_version": "24"}


def keyword_parameters(function):
    return set(list(inspect.signature(function).parameters)[1:])


def required_parameters(function):
    parameters = list(inspect.signature(function).parameters.values())[1:]
    return {parameter.name for parameter in parameters if parameter.default is inspect.Parameter.empty}


def test_the_filter_documents_exactly_the_arguments_it_takes():
    with open(os.path.join(REPO, "plugins", "filter", "gpu_verify_failure.yml")) as handle:
        documented = set(yaml.safe_load(handle)["DOCUMENTATION"]["options"]) - {"_input"}
    assert documented == keyword_parameters(failure_verdict)


def test_site_yml_passes_every_argument_once():
    with open(os.path.join(REPO, "playbooks", "site.yml")) as handle:
        text = handle.read()
    calls = re.findall(r"gpufleet\.containers\.gpu_verify_failure\((.*?)\) \}\}", text, re.DOTALL)
    assert len(calls) == 1
    # Keyword arguments of this call, not of the filters nested in its values (dpkg_arch(strict=...)).
    passed = re.findall(r"(?:\(|,)\s*(\w+)=", "," + calls[0].replace("(strict=false)", ""))
    assert len(passed) == len(set(passed))
    assert required_parameters(failure_verdict) <= set(passed) <= keyword_parameters(failure_verdict)


def test_an_early_failure_has_the_schema_of_a_verified_host_and_the_same_distribution_spelling():
    failed = {"msg": " Docker did not start. ", "error_kind": "docker_restart_failed", "hint": "fix it"}
    early = failure_verdict("gpu-1", "Restart Docker", failed, {"count": 8}, "cuda:12", "amd64", FACTS)
    blocker = {
        "error_kind": "docker_unavailable",
        "message": "no docker",
        "unverified": False,
        "image_architecture": None,
    }
    verified = build_verdict({}, blocker, "gpu-1", {"count": 8}, "cuda:12", "amd64", None, None, FACTS)
    assert set(early) == set(verified)
    assert set(early["found"]) == set(verified["found"]) and set(early["nvidia_smi"]) == set(verified["nvidia_smi"])
    # Ubuntu by its full release in both (site.yml's own template once wrote "Ubuntu 24").
    assert early["distribution"] == verified["distribution"] == "Ubuntu 24.04"
    assert (early["verdict"], early["stage"], early["reason"]) == ("fail", "Restart Docker", "Docker did not start.")
    assert (early["cause"], early["hint"]) == ("container_runtime", "fix it")


def test_a_failure_without_a_kind_or_facts_is_a_setup_failure_with_unknowns():
    early = failure_verdict("gpu-2", "Check the host", {"msg": "Python 2 is not supported"}, {}, None, None, {})
    assert (early["cause"], early["error_kind"], early["hint"]) == ("setup", None, None)
    assert (early["architecture"], early["distribution"]) == ("unknown", None)


def test_an_early_failure_lists_the_engines_the_host_was_meant_to_have_as_failed():
    failed = {"msg": "containerd did not start", "error_kind": "containerd_unavailable", "hint": "start it"}
    early = failure_verdict(
        "gpu-3", "Restart containerd", failed, {}, "cuda:12", "amd64", FACTS, engines=["docker", "containerd"]
    )
    assert list(early["engines"]) == ["docker", "containerd"]
    line = early["engines"]["containerd"]
    assert (line["verdict"], line["error_kind"], line["hint"]) == ("fail", "containerd_unavailable", "start it")
    assert line["reason"] == "not verified: the host stopped at Restart containerd"
    assert (line["gpu_count"], line["command"], line["version"]) == (None, None, None)
    assert "engines" not in failure_verdict("gpu-3", "Check the host", failed, {}, None, None, {})
