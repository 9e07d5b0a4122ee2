#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_verify
short_description: Prove a host's GPUs inside a CUDA container and give its verdict, in one call
version_added: 0.2.0
description:
  - Reads the host (dpkg architecture, the installed NVIDIA Container Toolkit, the distribution, the Docker daemon's
    version), makes O(image) present (loaded from O(image_tarball) or pulled, only when it is absent), checks that
    the image is built for the host's architecture, runs C(nvidia-smi -q -x) in it through Docker, parses the
    answer, holds it against O(expect), and returns the host's verdict.
  - The verdict has the same schema as the one written for a host that failed earlier in a play (the filter
    C(gpufleet.containers.gpu_verify_failure)), so every verdict file of a fleet reads alike.
  - A failed verification is a verdict (RV(verdict.verdict) is C(fail), with its cause, reason and hint), not a
    failed task; the caller decides whether it stops the host.
author: gpufleet maintainers (@gpufleet)
options:
  host:
    description: The name the verdict is filed under (the inventory name).
    type: str
    required: true
  image:
    description:
      - The CUDA image nvidia-smi runs in. Use a full multi-arch C(nvidia/cuda) tag; short tags and C(latest) no
        longer exist. A value starting with C(-) is refused.
    type: str
    required: true
  image_tarball:
    description: Path on the host of a C(docker save) tarball holding O(image), loaded when the image is absent
      (air-gapped hosts). Empty to pull instead.
    type: str
    default: ""
  pull_timeout:
    description: Seconds before a C(docker pull) of O(image) is given up.
    type: int
    default: 300
  run_timeout:
    description: Seconds before the nvidia-smi container run is given up.
    type: int
    default: 120
  gpus:
    description: Value of C(docker run --gpus).
    type: str
    default: all
  runtime:
    description: Value of C(docker run --runtime); empty for Docker's default runtime.
    type: str
    default: ""
  network:
    description: Value of C(docker run --network); nvidia-smi needs none.
    type: str
    default: none
  docker_bin:
    description: The Docker CLI.
    type: str
    default: docker
  expect:
    description: What the host should have; every mismatch is reported. See M(gpufleet.containers.nvidia_smi).
    type: dict
    default: {}
    suboptions:
      model:
        description: Case-insensitive substring of every GPU name, or C(re:) and a regular expression.
        type: str
      count:
        description: Exact number of GPUs.
        type: int
      min_memory_mib:
        description: Least memory each GPU must have, in MiB.
        type: int
      min_driver_version:
        description: Oldest acceptable driver.
        type: str
      min_cuda_version:
        description: Oldest acceptable CUDA version the driver supports.
        type: str
      mig:
        description: MIG mode every GPU must be in.
        type: str
        choices: [enabled, disabled]
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details:
      - The read-only steps run, nvidia-smi included, so a host that has Docker and the image gets its verdict.
      - An image that is absent is not added; C(changed) and RV(actions) say it would be, and the result is
        RV(unverified) with the reason, as it is on a host whose Docker a real run installs first.
  diff_mode:
    support: none
    description: Adding an image is the only change; RV(actions) names it.
  platform:
    support: full
    platforms: posix
    description: Debian and Ubuntu hosts with Docker and, for a passing verdict, an NVIDIA GPU, driver and toolkit.
notes:
  - Commands run as argument lists with C(LC_ALL=C).
seealso:
  - module: gpufleet.containers.nvidia_smi
  - module: gpufleet.containers.fleet_report
"""

EXAMPLES = r"""
- name: Prove the GPUs of an 8 x A100 80GB node and get its verdict
  gpufleet.containers.gpu_verify:
    host: "{{ inventory_hostname }}"
    image: nvidia/cuda:12.9.1-base-ubuntu24.04
    expect: {model: A100, count: 8, min_memory_mib: 80000}
  register: verification

- name: Stop the host on a failed verdict
  ansible.builtin.fail:
    msg: "{{ verification.verdict.reason }}. Fix: {{ verification.verdict.hint }}"
  when: verification.verdict.verdict == 'fail'
"""

RETURN = r"""
verdict:
  description: The host's verdict; null when RV(unverified).
  returned: always
  type: dict
  contains:
    verdict:
      description: C(pass) or C(fail).
      type: str
    cause:
      description: What to act on when it fails, C(driver), C(container_runtime), C(gpus), C(image),
        C(verification) or C(unknown).
      type: str
    reason:
      description: One line, the cause's headline and the detail.
      type: str
    error_kind:
      description: The exact failure (see M(gpufleet.containers.nvidia_smi)), or null.
      type: str
    hint:
      description: The fix.
      type: str
    found:
      description: GPU count, models, memory, driver and CUDA versions, MIG devices.
      type: dict
  sample:
    host: gpu-a100-01
    verdict: pass
    reason: "8 x NVIDIA A100-SXM4-80GB, driver 535.129.03, CUDA 12.2: as expected {\"count\": 8, \"model\": \"A100\"}"
unverified:
  description: True in check mode when Docker or the image is not there yet, so nothing could be verified.
  returned: always
  type: bool
message:
  description: Why the host is unverified.
  returned: always
  type: str
actions:
  description:
    - What was (or in check mode would be) done to the host, for example C(pull nvidia/cuda:12.9.1-base-ubuntu24.04).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.expectations import EXPECT_OPTIONS
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.run import ModuleRunner
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.run import verify

OS_RELEASE = "/etc/os-release"
# Values that land on docker's command line, where a leading '-' would be read as an option.
DOCKER_VALUES = ("image", "image_tarball", "gpus", "runtime", "network")


def build_module():
    return AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "image": {"type": "str", "required": True},
            "image_tarball": {"type": "str", "default": ""},
            "pull_timeout": {"type": "int", "default": 300},
            "run_timeout": {"type": "int", "default": 120},
            "gpus": {"type": "str", "default": "all"},
            "runtime": {"type": "str", "default": ""},
            "network": {"type": "str", "default": "none"},
            "docker_bin": {"type": "str", "default": "docker"},
            "expect": {"type": "dict", "default": {}, "options": EXPECT_OPTIONS},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    for name in DOCKER_VALUES:
        value = module.params[name]
        if value.startswith("-"):
            module.fail_json(msg="%s %r starts with '-', which docker would read as an option" % (name, value))
    try:
        with open(OS_RELEASE) as handle:
            os_release = handle.read()
    except OSError:
        os_release = ""
    try:
        result = verify(ModuleRunner(module), module.params, module.check_mode, os_release, os.uname().machine)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
