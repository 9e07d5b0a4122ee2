# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gpu_verify filters' arguments: what their docs list, what the role passes, and what the functions take agree.

Read from the files, without importing the filter plugin: importing Ansible's controller code (ansible.errors) into
this pytest process changes how later module tests see their warnings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import inspect
import os
import re

import pytest
import yaml

from ansible_collections.gpufleet.containers.plugins.module_utils._gpu_verdict import build_verdict, find_blocker

REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
FILTERS = [("gpu_verify_blocker", find_blocker), ("gpu_verify_verdict", build_verdict)]


def keyword_parameters(function):
    return set(list(inspect.signature(function).parameters)[1:])


def documented_options(name):
    with open(os.path.join(REPO, "plugins", "filter", name + ".yml")) as handle:
        return set(yaml.safe_load(handle)["DOCUMENTATION"]["options"]) - {"_input"}


def role_call_arguments(name):
    """Keyword names in each call of the filter in roles/gpu_verify/tasks (arguments are `name=value`)."""
    calls = []
    for path in glob.glob(os.path.join(REPO, "roles", "gpu_verify", "tasks", "*.yml")):
        with open(path) as handle:
            text = handle.read()
        for match in re.finditer(r"gpufleet\.containers\.%s\((.*?)\) \}\}" % name, text, re.DOTALL):
            calls.append(set(re.findall(r"(\w+)=", match.group(1))))
    return calls


@pytest.mark.parametrize("name, function", FILTERS)
def test_each_filter_documents_exactly_the_arguments_it_takes(name, function):
    assert documented_options(name) == keyword_parameters(function)


@pytest.mark.parametrize("name, function", FILTERS)
def test_the_role_passes_every_argument_once(name, function):
    calls = role_call_arguments(name)
    assert calls == [keyword_parameters(function)]
