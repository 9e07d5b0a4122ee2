#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nvidia_smi
short_description: Read a host's NVIDIA GPUs through nvidia-smi and check them against what it should have
version_added: 0.1.0
description:
  - Gets nvidia-smi output in one of three ways. With O(output), it parses text captured elsewhere. With
    O(container_image), it runs C(docker run --rm --gpus GPUS [--runtime RUNTIME] -- IMAGE nvidia-smi -q -x), which
    proves the whole container path (Docker, the NVIDIA Container Toolkit, the driver). Otherwise it runs
    C(nvidia-smi -q -x) on the host.
  - When it runs nvidia-smi itself it asks for XML, which has every field (CUDA version, MIG devices) and never cuts
    names short.
  - Parses every form nvidia-smi prints (see O(format)), that is the default table across driver generations
    (names cut short like C(NVIDIA A100 80G...) are flagged with C(name_truncated) in RV(gpus)), CSV from
    C(--query-gpu) with or without a header, C(-q) text, C(-q -x) XML, and C(-L) lists with MIG devices.
  - Names known failures with a fixed RV(error_kind) and a RV(hint) at the fix, telling "no GPU driver on this host"
    from "the container runtime is not wired up" from "the image cannot run here". Only output of a command that
    failed, or output with no GPU in it, is searched for failures, so a healthy answer that quotes an error message
    (a process name, say) is not read as one.
  - Output that is cut short (a table that stops inside a GPU block or a box, XML that is not well-formed or lists no
    GPU, CSV with a header and no row) is a RV(error_kind=parse_error), never a machine with fewer GPUs. A table cut
    exactly after a GPU block cannot be told from a shorter one; the XML the module asks for has no such gap.
  - Compares the result with O(expect) and reports B(every) mismatch, expected against found.
  - Reads only; it changes nothing on the host, so C(changed) is always false.
author: gpufleet maintainers (@gpufleet)
options:
  output:
    description:
      - nvidia-smi output captured elsewhere, to parse instead of running anything.
      - Error text (for example C(No devices were found)) is classified like the output of a run, when it does not
        parse as nvidia-smi output.
    type: str
  format:
    description:
      - Form of O(output). V(auto) tells the forms apart by their first lines; with O(fields) set, text that is no
        other form is read as CSV.
      - V(query) is C(nvidia-smi -q) text, V(xml) is C(nvidia-smi -q -x), V(list) is C(nvidia-smi -L).
      - Ignored when the module runs nvidia-smi itself (it then asks for XML).
    type: str
    choices: [auto, table, csv, xml, query, list]
    default: auto
  fields:
    description:
      - Column names of CSV output printed with C(--format=csv,noheader), in C(--query-gpu) order,
        for example V([index, name, memory.total, driver_version]).
      - Each must be one the module reads (index, name, gpu_name, uuid, gpu_uuid, pci.bus_id, gpu_bus_id,
        memory.total, memory.used, mig.mode.current, persistence_mode, temperature.gpu, power.draw, power.limit,
        utilization.gpu, driver_version); any other name fails the task before anything runs. To keep other
        columns, print the header instead (C(--format=csv)); columns under a header that the module does not read are
        skipped.
    type: list
    elements: str
  container_image:
    description:
      - Run nvidia-smi in this image. Use a full C(nvidia/cuda) tag (short tags and C(latest) no longer exist);
        C(nvidia/cuda) tags are multi-arch, so the same tag works on amd64 and arm64 hosts.
      - A value starting with C(-) is refused (docker would read it as an option); C(--) ends docker's options
        before the image.
    type: str
  gpus:
    description: Value of C(docker run --gpus) when O(container_image) is set; a value starting with C(-) is refused.
    type: str
    default: all
  runtime:
    description:
      - Value of C(docker run --runtime), for example V(nvidia); left out when not set.
      - A value starting with C(-) is refused.
    type: str
  network:
    description:
      - Value of C(docker run --network) when O(container_image) is set; left out when not set.
      - nvidia-smi needs no network, so V(none) keeps the verification container off every network.
      - A value starting with C(-) is refused.
    type: str
  docker_bin:
    description: Docker CLI to run with O(container_image).
    type: str
    default: docker
  nvidia_smi_bin:
    description: nvidia-smi to run on the host when neither O(output) nor O(container_image) is set.
    type: str
    default: nvidia-smi
  timeout:
    description:
      - Seconds before the command is stopped (through coreutils C(timeout)), for example to bound an image pull.
      - Stopping the docker CLI does not stop a container that already started.
    type: int
  expect:
    description: What the host should have. Every mismatch is reported, not only the first.
    type: dict
    suboptions:
      model:
        description:
          - Case-insensitive substring every GPU name must contain (V(A100) matches C(NVIDIA A100-SXM4-80GB)).
          - Prefix with C(re:) for a case-insensitive regular expression, for example V(re:A100.*80GB). A pattern
            that is not a valid regular expression fails the task before anything runs.
        type: str
      count:
        description: Exact number of GPUs.
        type: int
      min_memory_mib:
        description: Least memory each GPU must have, in MiB (an 80GB A100 shows 81920, an H100 80GB 81559).
        type: int
      min_driver_version:
        description: Oldest acceptable driver, compared number by number (V(535.104.05)).
        type: str
      min_cuda_version:
        description: Oldest acceptable CUDA version the driver supports (V(12.2)).
        type: str
      mig:
        description: MIG mode every GPU must be in.
        type: str
        choices: [enabled, disabled]
  fail_on_mismatch:
    description:
      - Fail when nvidia-smi fails or a mismatch is found.
      - When false, return RV(ok=false) with RV(mismatches), RV(error_kind) and RV(hint) instead, so a play can
        write a verdict for the host and go on.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: nvidia-smi only reads, so it runs in check mode too and the result is the same.
  diff_mode:
    support: none
    description: Nothing on the host changes, so there is no diff to show.
  platform:
    support: full
    platforms: posix
    description: Runs on Linux hosts with nvidia-smi, or with Docker and a GPU container runtime.
notes:
  - nvidia-smi prints its own errors on stdout; docker prints daemon errors on stderr. Both are classified.
  - Commands run as argument lists with C(LC_ALL=C).
seealso:
  - name: nvidia-smi documentation
    description: Fields of C(--query-gpu) and the XML log.
    link: https://docs.nvidia.com/deploy/nvidia-smi/index.html
"""

EXAMPLES = r"""
- name: Prove the container path and the GPUs of an 8 x A100 80GB node
  gpufleet.containers.nvidia_smi:
    container_image: nvidia/cuda:12.4.1-base-ubuntu22.04
    runtime: nvidia
    expect:
      model: A100
      count: 8
      min_memory_mib: 81920
      min_driver_version: "535.104.05"

- name: Check the host's driver directly, and keep going on failure so a verdict can be written
  gpufleet.containers.nvidia_smi:
    expect:
      model: "re:H100.*HBM3"
      mig: disabled
    fail_on_mismatch: false
  register: gpu_check

- name: Parse a table someone pasted into a ticket
  gpufleet.containers.nvidia_smi:
    output: "{{ lookup('ansible.builtin.file', 'captured/nvidia-smi.txt') }}"
  delegate_to: localhost

- name: Parse headerless CSV
  gpufleet.containers.nvidia_smi:
    output: "{{ csv_text }}"
    format: csv
    fields: [index, name, memory.total, driver_version]
"""

RETURN = r"""
ok:
  description: True when nvidia-smi answered, its output parsed and every expectation held.
  returned: always
  type: bool
gpu_count:
  description: Number of GPUs listed.
  returned: always
  type: int
  sample: 8
driver_version:
  description: Driver version, or null where the output does not show it (C(-L), CSV without that field).
  returned: always
  type: str
  sample: "535.161.08"
cuda_version:
  description: Highest CUDA version the driver supports, or null where the output does not show it.
  returned: always
  type: str
  sample: "12.2"
gpus:
  description:
    - One entry per GPU with C(index), C(name), C(name_truncated), C(uuid), C(bus_id), C(memory_total_mib),
      C(memory_used_mib), C(mig_mode) (enabled/disabled), C(persistence_mode) (enabled/disabled), C(temperature_c),
      C(power_draw_w), C(power_limit_w), C(utilization_gpu_pct); null where the output does not show the field.
  returned: always
  type: list
  elements: dict
  sample: [{index: 0, name: NVIDIA A100-SXM4-80GB, name_truncated: false,
            uuid: GPU-513536b6-7d19-9063-b049-1e69664bb298, bus_id: "00000000:01:00.0", memory_total_mib: 81920,
            memory_used_mib: 50, mig_mode: disabled,
            persistence_mode: enabled, temperature_c: 27, power_draw_w: 67.03, power_limit_w: 500.0,
            utilization_gpu_pct: null}]
mig_devices:
  description: MIG devices with C(gpu_index), C(gpu_instance_id), C(compute_instance_id), C(index), C(profile),
    C(uuid), C(memory_used_mib), C(memory_total_mib) (null where the form does not show them).
  returned: always
  type: list
  elements: dict
processes:
  description: Processes from the table's processes section (C(gpu_index), C(pid), C(type), C(name),
    C(memory_used_mib)); empty for the other forms.
  returned: always
  type: list
  elements: dict
source_format:
  description: Form that was parsed (table, csv, xml, query, list), or null when nothing was parsed.
  returned: always
  type: str
  sample: xml
mismatches:
  description: Every expectation that did not hold, each with C(field), C(expected), C(found) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{field: model, expected: H100, found: NVIDIA A100-SXM4-80GB x 8,
            message: "expected model 'H100' on every GPU, found NVIDIA A100-SXM4-80GB x 8"}]
error_kind:
  description:
    - Why nvidia-smi gave no GPUs, one of nvidia_smi_missing, driver_unreachable, nvml_mismatch, nvml_unknown,
      nvml_library_missing, no_devices, no_gpu_runtime, unknown_runtime, cuda_requirement, image_unavailable,
      image_arch_mismatch, gpu_lost (a GPU fell off the bus, C(Unable to determine the device handle for GPU...)),
      gpu_access_blocked (C(GPU access blocked by the operating system), WSL or a host policy), parse_error; null
      when it answered or the failure is not a known one.
  returned: always
  type: str
  sample: no_gpu_runtime
hint:
  description: The fix for RV(error_kind), or null.
  returned: always
  type: str
cmd:
  description: The command that ran, as an argument list.
  returned: when a command ran
  type: list
  elements: str
  sample: [docker, run, --rm, --gpus, all, --, nvidia/cuda:12.4.1-base-ubuntu22.04, nvidia-smi, -q, -x]
rc:
  description: Exit status of the command (nvidia-smi exits 6 for no devices, 9 when the driver is unreachable).
  returned: when a command ran
  type: int
stdout:
  description: Standard output of the command.
  returned: when a command ran
  type: str
stderr:
  description: Standard error of the command.
  returned: when a command ran
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.expectations import EXPECT_OPTIONS
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.run import (
    DockerMissing,
    ModuleRunner,
    run_and_judge,
)

ARGUMENT_SPEC = dict(
    output=dict(type="str"),
    format=dict(type="str", default="auto", choices=["auto", "table", "csv", "xml", "query", "list"]),
    fields=dict(type="list", elements="str"),
    container_image=dict(type="str"),
    gpus=dict(type="str", default="all"),
    runtime=dict(type="str"),
    docker_bin=dict(type="str", default="docker"),
    nvidia_smi_bin=dict(type="str", default="nvidia-smi"),
    timeout=dict(type="int"),
    expect=dict(type="dict", options=EXPECT_OPTIONS),
    fail_on_mismatch=dict(type="bool", default=True),
    network=dict(type="str"),
)


def run_module(module):
    params = {name: module.params[name] for name in ARGUMENT_SPEC if name != "fail_on_mismatch"}
    try:
        result = run_and_judge(ModuleRunner(module), params)
    except (ValueError, DockerMissing) as error:
        module.fail_json(msg=str(error), changed=False)
    message = result.pop("msg")
    result["changed"] = False
    if result["ok"]:
        module.exit_json(**result)
    if module.params["fail_on_mismatch"]:
        module.fail_json(msg=message, **result)
    # Explicit: Ansible marks a result with a non-zero rc and no `failed` key as failed.
    module.exit_json(failed=False, msg=message, **result)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
