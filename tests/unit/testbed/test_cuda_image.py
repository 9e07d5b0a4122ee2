# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CUDA-like image archive: what `docker load` reads, labelled as a simulation, reproducible.

The rootfs here is SYNTHETIC (a placeholder file stands in for busybox); build.sh feeds the real busybox-static.
"""

import hashlib
import json
import tarfile

import pytest

from .conftest import load_program

assemble = load_program("cuda_image/assemble.py")


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "rootfs" / "bin").mkdir(parents=True)
    (tmp_path / "rootfs" / "bin" / "busybox").write_bytes(b"SYNTHETIC placeholder for busybox\n")
    return str(tmp_path / "rootfs")


def load_archive(path):
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        config_bytes = archive.extractfile(manifest["Config"]).read()
        layer_bytes = archive.extractfile(manifest["Layers"][0]).read()
    return manifest, config_bytes, layer_bytes


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_docker_save_format_with_tag_arch_and_labels(rootfs, tmp_path, arch):
    output = str(tmp_path / "image.tar")
    image_id = assemble.assemble(arch, rootfs, "busybox-static_1_%s.deb" % arch, output)
    manifest, config_bytes, layer_bytes = load_archive(output)
    assert manifest["RepoTags"] == [
        "gpufleet-testbed/cuda-sim:12.4.1-base",
        "gpufleet-testbed/cuda-sim:12.4.1-base-" + arch,
    ]
    assert hashlib.sha256(config_bytes).hexdigest() == image_id
    config = json.loads(config_bytes)
    assert (config["architecture"], config["os"]) == (arch, "linux")
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]
    assert config["config"]["Labels"]["com.gpufleet.testbed.simulated"] == "true"
    assert "SIMULATION" in config["config"]["Labels"]["org.opencontainers.image.description"]
    assert "NVIDIA_VISIBLE_DEVICES=all" in config["config"]["Env"]


def test_layer_has_busybox_links_and_no_nvidia_smi(rootfs, tmp_path):
    output = str(tmp_path / "image.tar")
    assemble.assemble("amd64", rootfs, "x.deb", output)
    layer_bytes = load_archive(output)[2]
    (tmp_path / "layer.tar").write_bytes(layer_bytes)
    with tarfile.open(str(tmp_path / "layer.tar")) as layer:
        members = {member.name: member for member in layer.getmembers()}
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["bin/awk"].linkname == "busybox"
    assert members["bin/busybox"].mode == 0o755
    assert not any(name.endswith("nvidia-smi") for name in members)


def test_same_inputs_same_image_id(rootfs, tmp_path):
    first = assemble.assemble("arm64", rootfs, "x.deb", str(tmp_path / "a.tar"))
    second = assemble.assemble("arm64", rootfs, "x.deb", str(tmp_path / "b.tar"))
    assert first == second
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
