# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixture NVIDIA repository: NVIDIA's layout, names and dependencies, a verifiable signature, a cache, a server."""

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request

import pytest

from .conftest import TESTBED, load_program

BUILD = os.path.join(TESTBED, "nvidia_repo", "build.py")
SERVE = os.path.join(TESTBED, "nvidia_repo", "serve.py")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("dpkg-deb", "apt-ftparchive", "gpg", "gpgv")),
    reason="needs dpkg-deb, apt-ftparchive (apt-utils) and gnupg",
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cache") / "nvidia-repo")
    subprocess.run([sys.executable, BUILD, out, "--base-url", "http://127.0.0.1:9"], check=True, capture_output=True)
    return out


def packages(repo, channel, arch):
    """{(name, version): {field: value}} from a Packages index."""
    with open(os.path.join(repo, channel, "deb", arch, "Packages")) as handle:
        stanzas = handle.read().strip().split("\n\n")
    result = {}
    for stanza in stanzas:
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
        result[(fields["Package"], fields["Version"])] = fields
    return result


def fingerprints(repo):
    with open(os.path.join(repo, "fingerprint.txt")) as handle:
        return dict(line.split("=", 1) for line in handle.read().split())


@pytest.mark.parametrize("channel", ["stable", "experimental"])
@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_flat_layout_per_architecture(repo, channel, arch):
    directory = os.path.join(repo, channel, "deb", arch)
    names = set(os.listdir(directory))
    assert {"Packages", "Packages.gz", "Release", "InRelease", "Release.gpg"} <= names
    index = packages(repo, channel, arch)
    for version in ("1.17.7-1", "1.17.8-1"):
        for name in (
            "nvidia-container-toolkit",
            "nvidia-container-toolkit-base",
            "libnvidia-container-tools",
            "libnvidia-container1",
        ):
            fields = index[(name, version)]
            assert fields["Architecture"] == arch
            assert fields["Filename"] == "./%s_%s_%s.deb" % (name, version, arch)
            assert fields["Filename"][2:] in names
    assert index[("nvidia-docker2", "2.13.0-1")]["Architecture"] == "all"


def test_nvidia_dependency_structure(repo):
    index = packages(repo, "stable", "amd64")
    toolkit = index[("nvidia-container-toolkit", "1.17.8-1")]["Depends"]
    assert "nvidia-container-toolkit-base (= 1.17.8-1)" in toolkit
    assert "libnvidia-container-tools (>= 1.17.8-1)" in toolkit
    assert "libnvidia-container-tools (= 1.18.0-1)" in index[("nvidia-container-toolkit", "1.18.0-1")]["Depends"]
    assert index[("libnvidia-container-tools", "1.17.7-1")]["Depends"] == "libnvidia-container1 (>= 1.17.7-1)"
    assert index[("nvidia-docker2", "2.13.0-1")]["Depends"] == "nvidia-container-toolkit (>= 1.13.0-1)"
    assert "Depends" in index[("nvidia-docker2", "2.14.0-1")]


def test_programs_and_conffiles_inside_the_packages(repo):
    def contents(deb):
        return subprocess.run(["dpkg-deb", "-c", deb], stdout=subprocess.PIPE, text=True, check=True).stdout

    directory = os.path.join(repo, "stable", "deb", "arm64")
    base = os.path.join(directory, "nvidia-container-toolkit-base_1.17.8-1_arm64.deb")
    assert "./usr/bin/nvidia-ctk" in contents(base) and "./usr/bin/nvidia-container-runtime" in contents(base)
    conffiles = subprocess.run(
        ["dpkg-deb", "-I", base, "conffiles"], stdout=subprocess.PIPE, text=True, check=False
    ).stdout
    assert conffiles.split() == ["/etc/nvidia-container-runtime/config.toml"]
    ctk = subprocess.run(
        ["sh", "-c", "dpkg-deb --fsys-tarfile %s | tar -xO ./usr/bin/nvidia-ctk" % base],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    ).stdout
    assert ctk.startswith("#!/usr/bin/env python3\n") and 'VERSION = "1.17.8"' in ctk
    legacy = os.path.join(directory, "nvidia-docker2_2.13.0-1_all.deb")
    daemon_json = subprocess.run(
        ["sh", "-c", "dpkg-deb --fsys-tarfile %s | tar -xO ./etc/docker/daemon.json" % legacy],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    ).stdout
    assert '"runtimeArgs": []' in daemon_json
    assert "./etc/docker/daemon.json" not in contents(os.path.join(directory, "nvidia-docker2_2.14.0-1_all.deb"))


def test_inrelease_verifies_with_the_published_key_only(repo, tmp_path):
    keyring = str(tmp_path / "good.gpg")
    subprocess.run(["gpg", "--dearmor", "--output", keyring, os.path.join(repo, "gpgkey")], check=True)
    for tree, expected in ((repo, 0), (repo + "-wrongkey", 2)):
        result = subprocess.run(
            ["gpgv", "--keyring", keyring, os.path.join(tree, "stable", "deb", "amd64", "InRelease")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == expected, result.stderr
    keys = fingerprints(repo)
    assert keys["good"] != keys["wrongkey"] and len(keys["good"]) == 40
    assert keys["good_keyid"] == keys["good"][-16:]
    wrong = subprocess.run(
        ["gpgv", "--keyring", keyring, os.path.join(repo + "-wrongkey", "stable", "deb", "arm64", "InRelease")],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert keys["wrongkey_keyid"] in wrong.stderr.upper()


def test_list_file_is_nvidias_with_the_fixture_url(repo):
    with open(os.path.join(repo, "stable", "deb", "nvidia-container-toolkit.list")) as handle:
        lines = handle.read().splitlines()
    assert lines == [
        "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] "
        "http://127.0.0.1:9/stable/deb/$(ARCH) /",
        "#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] "
        "http://127.0.0.1:9/experimental/deb/$(ARCH) /",
    ]


def test_second_build_reuses_the_cache_and_a_new_url_rebuilds(repo):
    inrelease = os.path.join(repo, "stable", "deb", "amd64", "InRelease")
    before = os.stat(inrelease).st_mtime_ns
    result = subprocess.run(
        [sys.executable, BUILD, repo, "--base-url", "http://127.0.0.1:9"], capture_output=True, text=True, check=True
    )
    assert "up to date" in result.stderr
    assert os.stat(inrelease).st_mtime_ns == before
    builder = load_program("nvidia_repo/build.py")
    assert builder.inputs_digest("http://127.0.0.1:9") != builder.inputs_digest("http://127.0.0.1:10")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_serves_404s_and_stops(repo):
    port = free_port()
    run = [sys.executable, SERVE]
    subprocess.run(run + ["start", "--dir", repo, "--port", str(port)], check=True, stdout=subprocess.PIPE)
    try:
        again = subprocess.run(
            run + ["start", "--dir", repo, "--port", str(port)], check=True, stdout=subprocess.PIPE, text=True
        )
        assert "already running" in again.stdout
        base = "http://127.0.0.1:%d" % port
        with urllib.request.urlopen(base + "/stable/deb/arm64/InRelease") as response:
            assert response.read().startswith(b"-----BEGIN PGP SIGNED MESSAGE-----")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/ubuntu24.04/libnvidia-container.list")
        assert missing.value.code == 404
        assert b"<html" in missing.value.read().lower()
        assert subprocess.run(run + ["status", "--dir", repo], stdout=subprocess.PIPE, check=False).returncode == 0
    finally:
        subprocess.run(run + ["stop", "--dir", repo], check=True, stdout=subprocess.PIPE)
    assert subprocess.run(run + ["status", "--dir", repo], stdout=subprocess.PIPE, check=False).returncode == 3
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2)


@pytest.mark.parametrize(("version", "ships_units"), [("1.17.8-1", False), ("1.18.0-1", True)])
def test_cdi_refresh_units_ship_from_1_18(repo, version, ships_units):
    deb = os.path.join(repo, "stable", "deb", "amd64", "nvidia-container-toolkit-base_%s_amd64.deb" % version)
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    units = sorted(re.findall(r"lib/systemd/system/(nvidia-cdi-refresh\.\w+)", listing))
    assert units == (["nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"] if ships_units else [])
    if ships_units:
        service = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(service)) as archive:
            text = archive.extractfile("./lib/systemd/system/nvidia-cdi-refresh.service").read().decode()
        assert "ExecStart=/usr/bin/nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml" in text
        control = subprocess.run(["dpkg-deb", "-I", deb, "postinst"], capture_output=True, text=True, check=True)
        assert "systemctl enable nvidia-cdi-refresh.path nvidia-cdi-refresh.service" in control.stdout
