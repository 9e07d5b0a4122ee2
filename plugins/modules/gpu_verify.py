#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_verify
short_description: Prove a host's GPUs inside a CUDA container of each engine and give its verdict, in one call
version_added: 0.2.0
description:
  - Reads the host (dpkg architecture, the installed NVIDIA Container Toolkit, the distribution), then for each engine
    in O(engines), in order, reads the engine's version, makes O(image) present in it (loaded from O(image_tarball)
    or pulled, only when it is absent), checks that the image is built for the host's architecture, runs
    C(nvidia-smi -q -x) in it, parses the answer, holds it against O(expect), and returns the host's verdict.
  - "Docker: C(docker run --gpus GPUS), or with O(docker_cdi) C(--device nvidia.com/gpu=all) (Docker 25 and later
    with C(features.cdi))."
  - "containerd: the image is imported (C(ctr images import --platform linux/ARCH)) or pulled into
    O(containerd_namespace), then C(ctr run --rm --runc-binary RUNTIME_BINARY --env NVIDIA_VISIBLE_DEVICES=GPUS)
    runs nvidia-smi through NVIDIA's runtime, the binary the CRI plugin's C(nvidia) runtime names. The CRI
    plugin's runtimes are read back from C(containerd config dump) and its state from C(ctr plugins ls); a
    missing C(nvidia) runtime, or a CRI plugin that is disabled or did not load, fails the engine (see
    O(containerd_require_cri))."
  - "Podman: C(podman run --rm --device nvidia.com/gpu=all), the GPUs through the CDI specification."
  - The verdict fails when any engine fails; its GPU fields come from the first engine that ran nvidia-smi, and
    RV(verdict.engines) holds each engine's own verdict.
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
    description: Path on the host of a C(docker save) tarball holding O(image), loaded into each engine where the
      image is absent (air-gapped hosts). Empty to pull instead.
    type: str
    default: ""
  pull_timeout:
    description: Seconds before a pull of O(image) (C(docker pull), C(ctr images pull), C(podman pull)) is given up.
    type: int
    default: 300
  run_timeout:
    description: Seconds before the nvidia-smi container run is given up.
    type: int
    default: 120
  gpus:
    description:
      - The GPUs to verify, in C(docker run --gpus) terms. Engines other than Docker with C(--gpus), which name GPUs
        one by one (CDI devices, C(NVIDIA_VISIBLE_DEVICES)), take V(all) or C(device=0,1) (indexes or UUIDs), not a
        count.
    type: str
    default: all
  runtime:
    description: Value of C(docker run --runtime); empty for Docker's default runtime.
    type: str
    default: ""
  network:
    description: Value of C(docker run --network) and C(podman run --network); nvidia-smi needs none.
    type: str
    default: none
  docker_bin:
    description: The Docker CLI.
    type: str
    default: docker
  engines:
    description:
      - The container engines to verify, in this order (usually C(gpufleet_container_engines)).
    type: list
    elements: str
    choices: [docker, containerd, podman]
    default: [docker]
  docker_cdi:
    description:
      - Ask Docker for the GPUs as CDI devices (C(--device nvidia.com/gpu=all)) instead of C(--gpus); for Docker 25
        and later with C(features.cdi) and a CDI specification on the host. O(runtime) still applies.
    type: bool
    default: false
  ctr_bin:
    description: containerd's CLI.
    type: str
    default: ctr
  containerd_bin:
    description: The containerd daemon binary, whose C(config dump) gives the configuration containerd reads.
    type: str
    default: containerd
  containerd_namespace:
    description: The containerd namespace the image is imported into and the container runs in.
    type: str
    default: gpufleet
  containerd_snapshotter:
    description:
      - The snapshotter for C(ctr images import), C(ctr images pull) and C(ctr run); empty for containerd's
        default (overlayfs).
      - Hosts whose root is itself an overlay filesystem (containers used as test hosts) need V(native).
    type: str
    default: ""
  containerd_runtime_binary:
    description: The runtime C(ctr run --runc-binary) starts the container with, NVIDIA's.
    type: str
    default: /usr/bin/nvidia-container-runtime
  containerd_net_host:
    description: Run containerd's container in the host's network namespace (C(ctr run --net-host)); nvidia-smi needs
      no network.
    type: bool
    default: false
  containerd_require_cri:
    description:
      - Fail the containerd engine when its CRI plugin is disabled, did not load, or has no C(nvidia) runtime.
      - Set it false on standalone containerd hosts that serve no Kubernetes; the findings are still recorded in
        the engine's C(detail).
    type: bool
    default: true
  podman_bin:
    description: The Podman CLI.
    type: str
    default: podman
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
      - The read-only steps run, nvidia-smi included, so a host that has its engines and the image gets its verdict.
      - An image that is absent from an engine is not added; C(changed) and RV(actions) say it would be, and the
        result is RV(unverified) with the reason, as it is on a host whose engine a real run installs first.
  diff_mode:
    support: none
    description: Adding an image is the only change; RV(actions) names it.
  platform:
    support: full
    platforms: posix
    description: Debian and Ubuntu hosts with Docker, containerd or Podman and, for a passing verdict, an NVIDIA GPU,
      driver and toolkit.
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

- name: Prove the GPUs through each engine of a Kubernetes node that also runs Podman
  gpufleet.containers.gpu_verify:
    host: "{{ inventory_hostname }}"
    image: nvidia/cuda:12.9.1-base-ubuntu24.04
    image_tarball: /var/tmp/cuda-12.9.1-base-ubuntu24.04.tar
    engines: [containerd, podman]
    expect: {count: 4}
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
    engines:
      description:
        - Each engine's own verdict, keyed by engine name in the order verified, with C(verdict), C(cause),
          C(reason), C(hint), C(error_kind), C(version) (the engine's), C(gpu_count), C(command) (the nvidia-smi run,
          containerd's unique container name written as C(gpufleet-verify-RUN)) and C(detail) (containerd's
          C(namespace), C(snapshotter), C(runtime_binary), C(image), C(cri_runtimes) and C(cri_plugin_status); the
          CDI C(device) for Podman and Docker with O(docker_cdi); Docker's C(gpus) otherwise).
      type: dict
  sample:
    host: gpu-a100-01
    verdict: pass
    reason: "8 x NVIDIA A100-SXM4-80GB, driver 535.129.03, CUDA 12.2: as expected {\"count\": 8, \"model\": \"A100\"}"
unverified:
  description: True in check mode when an engine or its image is not there yet, so nothing could be verified.
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
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.expectations import EXPECT_OPTIONS
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.run import ModuleRunner
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.run import verify

OS_RELEASE = "/etc/os-release"
# Values that land on an engine's command line, where a leading '-' would be read as an option.
DOCKER_VALUES = (
    "image", "image_tarball", "gpus", "runtime", "network", "containerd_namespace", "containerd_snapshotter",
    "containerd_runtime_binary",
)  # fmt: skip


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
            "engines": {
                "type": "list",
                "elements": "str",
                "choices": ["docker", "containerd", "podman"],
                "default": ["docker"],
            },
            "docker_cdi": {"type": "bool", "default": False},
            "ctr_bin": {"type": "str", "default": "ctr"},
            "containerd_bin": {"type": "str", "default": "containerd"},
            "containerd_namespace": {"type": "str", "default": "gpufleet"},
            "containerd_snapshotter": {"type": "str", "default": ""},
            "containerd_runtime_binary": {"type": "str", "default": "/usr/bin/nvidia-container-runtime"},
            "containerd_net_host": {"type": "bool", "default": False},
            "containerd_require_cri": {"type": "bool", "default": True},
            "podman_bin": {"type": "str", "default": "podman"},
            "expect": {"type": "dict", "default": {}, "options": EXPECT_OPTIONS},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    for name in DOCKER_VALUES:
        value = module.params[name]
        if value.startswith("-"):
            module.fail_json(msg="%s %r starts with '-', which the engine would read as an option" % (name, value))
    try:
        with open(OS_RELEASE) as handle:
            os_release = handle.read()
    except OSError:
        os_release = ""
    # containerd's container needs a name; a unique one, so a run stopped by its timeout never blocks the next.
    options = dict(module.params, run_id=uuid.uuid4().hex[:12])
    try:
        result = verify(ModuleRunner(module), options, module.check_mode, os_release, os.uname().machine)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
