# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Name what went wrong when nvidia-smi (alone, or in a container of Docker, containerd or Podman) did not print GPUs.

Each error gets one ``error_kind`` from a fixed set and a hint naming the fix, so a fleet report can group hosts by
cause: no driver on the host, a container runtime that is not wired up, or an image that cannot run here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ERROR_KINDS = (
    "nvidia_smi_missing", "driver_unreachable", "nvml_mismatch", "nvml_unknown", "nvml_library_missing",
    "no_devices", "no_gpu_runtime", "unknown_runtime", "cuda_requirement", "image_unavailable",
    "image_arch_mismatch", "gpu_lost", "gpu_access_blocked", "parse_error",
    "cdi_device_unresolved", "cdi_spec_stale", "runtime_binary_missing", "containerd_unavailable",
    "device_cgroup_denied", "snapshotter_failed",
)  # fmt: skip

HINTS = {
    "nvidia_smi_missing": "nvidia-smi is not there to run: install the NVIDIA driver utilities on the host; inside a "
    "container it is mounted by the NVIDIA Container Toolkit, so run with --gpus and a toolkit-configured runtime.",
    "driver_unreachable": "The NVIDIA kernel driver is not loaded or not installed. Install or load the driver "
    "(outside this collection's scope), then run the check again.",
    "nvml_mismatch": "The driver was upgraded without a reboot: the loaded kernel module and the user-space "
    "library differ. Reboot the host (or reload the nvidia modules), then recreate the containers.",
    "nvml_unknown": "NVML could not start. Inside a container this usually follows 'systemctl daemon-reload' with "
    "the systemd cgroup driver (NVIDIA/nvidia-container-toolkit#48): recreate the container, or use the cgroupfs "
    "driver or CDI. On a host it means no usable GPU device nodes.",
    "nvml_library_missing": "libnvidia-ml.so.1 was not found: the host has no NVIDIA driver user-space libraries, or "
    "Docker is the snap/Desktop build that cannot see them. Install the driver; use the distribution's Docker.",
    "no_devices": "The driver is loaded but sees no GPU. Check the hardware, PCI passthrough and BIOS settings "
    "(e.g. Above 4G Decoding), and the kernel log for NVRM errors.",
    "no_gpu_runtime": "Docker cannot hand GPUs to containers: the NVIDIA Container Toolkit is missing, or dockerd "
    "was not restarted after installing it. Install the toolkit, then restart docker (a reload is not enough).",
    "unknown_runtime": "The nvidia runtime is not registered with dockerd. Register it in /etc/docker/daemon.json "
    "(nvidia-ctk runtime configure --runtime=docker) and restart or reload docker.",
    "cuda_requirement": "The image needs a newer CUDA than the host driver supports. Use an image built for an "
    "older CUDA, or upgrade the driver.",
    "image_unavailable": "The image could not be found or pulled. Use a full, existing nvidia/cuda tag (short tags "
    "and 'latest' are gone), check the registry and proxy, or load the image from a tarball.",
    "image_arch_mismatch": "The image has no variant for this host's architecture. Use a multi-arch tag (nvidia/cuda "
    "tags cover linux/amd64 and linux/arm64).",
    "gpu_lost": "A GPU stopped answering (it fell off the bus, or overheated or lost power). Drain the host, then look "
    "for Xid 79 ('GPU has fallen off the bus') in the kernel log (dmesg, journalctl -k) and check the GPU's seating, "
    "power and cooling; a reboot brings it back only if the hardware is sound. Under WSL the same line shows for "
    "GPUs in TCC mode, which WSL does not offer.",
    "gpu_access_blocked": "The operating system keeps the GPU from this system: under WSL 2 the Windows host must "
    "offer the GPU (WDDM mode, a current Windows driver, no driver installed inside the distribution); elsewhere a "
    "host or virtualization policy blocks the device. Check the host's GPU access policy.",
    "cdi_device_unresolved": "The engine found no CDI device nvidia.com/gpu: no CDI specification for the GPUs, or "
    "an engine that does not read CDI. Generate the specification (nvidia-ctk cdi generate, role "
    "gpufleet.containers.podman), use Podman 4.1 or later, and for Docker 25 to 28.1 enable features.cdi in "
    "daemon.json (role gpufleet.containers.docker) and restart docker.",
    "cdi_spec_stale": "The CDI specification names driver files that no longer exist: it was generated for another "
    "driver version. Regenerate it (nvidia-ctk cdi generate, or let the toolkit's nvidia-cdi-refresh units keep "
    "/var/run/cdi/nvidia.yaml fresh) after every driver upgrade.",
    "runtime_binary_missing": "containerd cannot start the runtime it was told to use: nvidia-container-runtime (or "
    "the shim named by runtime_type) is not installed. Install the NVIDIA Container Toolkit (role "
    "gpufleet.containers.nvidia_container_toolkit), or point the runtime's BinaryName and "
    "gpu_verify_containerd_runtime_binary at where it is.",
    "containerd_unavailable": "containerd does not answer on its socket: install and start it (role "
    "gpufleet.containers.containerd; `systemctl status containerd`, `journalctl -u containerd` for why it stopped).",
    "device_cgroup_denied": "The runtime may not grant the GPUs' device nodes: the cgroup above it does not allow "
    "NVIDIA's device majors (a host that is itself a container: start it with --device-cgroup-rule 'c 195:* rwm' "
    "and the nvidia-uvm major), or Podman 5 with the systemd cgroup manager on cgroup v1 (set cgroup_manager = "
    '"cgroupfs" in containers.conf).',
    "snapshotter_failed": "containerd could not mount the image's root filesystem with its snapshotter: overlayfs "
    "cannot sit on a root that is itself an overlay (a host that is a container). Use the native snapshotter there "
    "(gpu_verify_containerd_snapshotter: native).",
    "parse_error": "The output is not a complete nvidia-smi output of the expected form; check the command and "
    "that the output was captured whole.",
}

# First match wins: the engines' wrapper messages come before the nvidia-smi messages they may quote. Sources: the
# corpus in tests/fixtures/nvidia_smi (each case names its own), and for the engines after Docker:
# NVIDIA/nvidia-container-toolkit#146 (Podman, no spec), #63 (Podman before 4.1), #692 and #450 (crun, stale spec),
# #885 (a device node the spec names is gone), NVIDIA/nvidia-docker#1190 and #1382 (runtime binary missing under
# containerd), the real ctr 1.6.20 (`ctr: failed to dial ...` with containerd stopped), and the real Podman 4.3/5.4,
# crun and containerd 1.6/1.7 in this project's Debian test hosts (stale specs, device cgroups, nested overlayfs).
PATTERNS = (
    ("containerd_unavailable", r"ctr: failed to dial|connect: connection refused.*containerd\.sock"),
    ("cdi_device_unresolved", r"unresolvable CDI devices|error gathering device information while adding custom "
                              r"device \"nvidia\.com/|stat nvidia\.com/gpu=\S*: no such file or directory"),
    ("cdi_spec_stale", r"crun: cannot stat .*No such file or directory|crun: error stat'ing file .*No such file"
                       r"|failed to stat CDI host device"),
    ("device_cgroup_denied", r"devices\.allow.*Operation not permitted"),
    ("snapshotter_failed", r"failed to mount rootfs component: invalid argument|ctr: failed to mount \S+: invalid "
                           r"argument"),
    ("runtime_binary_missing", r"exec: \"?\S*nvidia-container-runtime\"?: executable file not found"
                               r"|runtime \"?\S+\"? binary not installed"),
    ("cuda_requirement", r"requirement error: unsatisfied condition"),
    ("nvml_library_missing", r"load library failed: libnvidia-ml\.so|couldn't find libnvidia-ml\.so"),
    ("no_gpu_runtime", r"could not select device driver .* with capabilities: \[\[gpu\]\]"),
    ("unknown_runtime", r"unknown or invalid runtime name|Unknown runtime specified"),
    ("image_arch_mismatch", r"exec format error|no match for platform in manifest"
                            r"|image's platform \(.*\) does not match the detected host platform"),
    ("image_unavailable", r"pull access denied|manifest unknown|manifest for \S+ not found|repository does not exist"
                          r"|Error response from daemon: .*not found: manifest"),
    ("nvidia_smi_missing", r"\"?nvidia-smi\"?: executable file not found|nvidia-smi: (command )?not found"
                           r"|exec: \"?\S*nvidia-smi\"?: stat .*no such file"),
    # Before no_devices: nvidia-smi may follow these with "No devices were found".
    ("gpu_lost", r"Unable to (?:determine|detect) the device handle for GPU.*: (?:Unknown Error|GPU is lost)"),
    ("gpu_access_blocked", r"GPU access blocked by the operating system"),
    ("driver_unreachable", r"couldn.t communicate with the NVIDIA driver"),
    ("nvml_mismatch", r"Driver/library version mismatch"),
    ("nvml_unknown", r"Failed to initialize NVML: Unknown Error"),
    ("no_devices", r"No devices were found|No supported GPUs were found"),
)  # fmt: skip
IMAGE_NOT_FOUND_LOCALLY = re.compile(r"Unable to find image '[^']+' locally")
DAEMON_ERROR = re.compile(r"Error response from daemon")


def describe(kind, line):
    return {"error_kind": kind, "hint": HINTS[kind], "message": line}


def classify(*texts):
    """Return {error_kind, hint, message} for the first known failure in the given outputs, else None.

    ``message`` is the line that gave the error away, for the module's failure message. Call it only on the output
    of a command that failed, or that printed no GPU: healthy output can quote these words (a process path in the
    XML, a GPU name) and must not be read as a failure.
    """
    lines = [line.strip() for text in texts if text for line in text.splitlines() if line.strip()]
    for kind, pattern in PATTERNS:
        regex = re.compile(pattern, re.IGNORECASE)
        for line in lines:
            if regex.search(line):
                return describe(kind, line)
    # "Unable to find image" alone precedes every successful first pull; it is an error only when docker gives up.
    if any(DAEMON_ERROR.search(line) for line in lines):
        for line in lines:
            if IMAGE_NOT_FOUND_LOCALLY.search(line):
                return describe("image_unavailable", line)
    return None


def missing_executable(path_or_name):
    return describe("nvidia_smi_missing", "%s: executable not found on this host" % path_or_name)


def parse_failure(error):
    return describe("parse_error", str(error))
