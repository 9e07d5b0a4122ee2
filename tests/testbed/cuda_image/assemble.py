# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assemble the CUDA-like test image from an extracted busybox-static package, in `docker save` format.

The archive is reproducible (sorted entries, fixed times, root owner), so the same inputs give the same image
ID; `docker load` reads it on any engine, no registry and no daemon involved in building it.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile

TAG = "gpufleet-testbed/cuda-sim:12.4.1-base"
EPOCH = 1704067200  # 2024-01-01T00:00:00Z: a fixed time keeps the image ID stable
CREATED = "2024-01-01T00:00:00Z"
# busybox applets the tests and the simulated nvidia-smi use; a fixed list keeps the image identical on any host.
APPLETS = [
    "sh",
    "ash",
    "awk",
    "basename",
    "cat",
    "chmod",
    "cp",
    "cut",
    "date",
    "dirname",
    "echo",
    "env",
    "false",
    "find",
    "grep",
    "head",
    "hostname",
    "id",
    "ln",
    "ls",
    "mkdir",
    "mount",
    "mv",
    "printf",
    "ps",
    "pwd",
    "readlink",
    "rm",
    "sed",
    "sleep",
    "sort",
    "stat",
    "tail",
    "tee",
    "test",
    "touch",
    "tr",
    "true",
    "uname",
    "uniq",
    "wc",
    "which",
    "[",
    "[",
]
ENVIRONMENT = [
    "PATH=/usr/local/nvidia/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    # What nvidia/cuda images set: with the nvidia runtime, the container asks for every GPU by default.
    "NVIDIA_VISIBLE_DEVICES=all",
    "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
    "CUDA_VERSION=12.4.1",
    "GPUFLEET_TESTBED_SIMULATED=1",
]


def add_file(archive, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, EPOCH
    archive.addfile(info, io.BytesIO(data))


def add_dir(archive, name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, EPOCH
    archive.addfile(info)


def add_symlink(archive, name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, EPOCH
    archive.addfile(info)


def layer(rootfs, source_deb):
    """The single layer: busybox, its applet links, the few files a container runtime expects."""
    with open(os.path.join(rootfs, "bin", "busybox"), "rb") as handle:
        busybox = handle.read()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for directory in ("bin", "dev", "etc", "proc", "root", "sys", "usr", "usr/bin", "usr/share", "var"):
            add_dir(archive, directory)
        add_dir(archive, "tmp", 0o1777)
        add_file(archive, "bin/busybox", busybox, 0o755)
        for applet in sorted(set(APPLETS)):
            add_symlink(archive, "bin/" + applet, "busybox")
        add_file(archive, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add_file(archive, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file(
            archive,
            "etc/gpufleet-testbed-image",
            (
                "SIMULATION stand-in for nvidia/cuda:12.4.1-base built by the gpufleet testbed from %s.\n"
                "It holds no CUDA and no nvidia-smi: the toolkit hook mounts the host's (simulated) nvidia-smi.\n"
                % source_deb
            ).encode(),
        )
    return buffer.getvalue()


def image_config(arch, diff_id, source_deb):
    return {
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ENVIRONMENT,
            "Cmd": ["sh"],
            "Labels": {
                "org.opencontainers.image.title": "gpufleet testbed cuda-sim",
                "org.opencontainers.image.description": "SIMULATION stand-in for nvidia/cuda:12.4.1-base; "
                "busybox only, no CUDA, no nvidia-smi (the NVIDIA hook brings it)",
                "com.gpufleet.testbed.simulated": "true",
                "com.gpufleet.testbed.stands-in-for": "nvidia/cuda:12.4.1-base-ubuntu22.04",
                "com.gpufleet.testbed.source": source_deb,
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "gpufleet testbed cuda_image/assemble.py from " + source_deb}],
    }


def assemble(arch, rootfs, source_deb, output):
    layer_bytes = layer(rootfs, source_deb)
    layer_digest = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(image_config(arch, "sha256:" + layer_digest, source_deb), sort_keys=True).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = [
        {
            "Config": config_digest + ".json",
            "RepoTags": [TAG, "%s-%s" % (TAG, arch)],
            "Layers": [layer_digest + "/layer.tar"],
        }
    ]
    with tarfile.open(output, "w", format=tarfile.GNU_FORMAT) as archive:
        add_dir(archive, layer_digest)
        add_file(archive, layer_digest + "/VERSION", b"1.0")
        add_file(archive, layer_digest + "/layer.tar", layer_bytes)
        add_file(archive, config_digest + ".json", config)
        add_file(archive, "manifest.json", json.dumps(manifest).encode())
    return config_digest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", required=True, choices=["amd64", "arm64"])
    parser.add_argument("--rootfs", required=True, help="busybox-static extracted with dpkg-deb -x")
    parser.add_argument("--source-deb", required=True, help="the .deb's file name, recorded in the image")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    image_id = assemble(args.arch, args.rootfs, args.source_deb, args.output)
    print("image id sha256:%s" % image_id, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
