# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Source entry, leftover detection, madison parsing and version checks (pure text functions).

apt's real failure output is exercised in test_nvidia_repo_apt.py against a repository served in the test.
"""

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.repository import (
    TOOLKIT_PACKAGES,
    check_apt_path,
    check_architecture,
    check_base_url,
    check_package_names,
    classify_update_failure,
    leftover_reason,
    missing_version,
    parse_madison,
    repository_uri,
    source_entries,
    source_line,
)

BASE = "https://nvidia.github.io/libnvidia-container"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"


def test_source_line_is_the_flat_layout_for_the_hosts_architecture():
    line = source_line(BASE + "/", "stable", "arm64", KEYRING)
    assert line == "deb [arch=arm64 signed-by=%s] %s/stable/deb/arm64 /" % (KEYRING, BASE)
    assert source_entries(line) == [(BASE + "/stable/deb/arm64", "arch=arm64 signed-by=" + KEYRING)]


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="stable, experimental"):
        repository_uri(BASE, "nightly", "amd64")


@pytest.mark.parametrize(
    "name, text",
    [
        # NVIDIA's 2019-era per-distribution list, added with apt-key (no signed-by).
        ("nvidia-docker.list", "deb https://nvidia.github.io/libnvidia-container/stable/ubuntu18.04/$(ARCH) /\n"),
        # 2023 instructions' list with a differently named keyring: the Signed-By conflict.
        (
            "libnvidia-container.list",
            "deb [signed-by=/usr/share/keyrings/nvidia-docker.gpg] "
            "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n",
        ),
        ("nvidia-container-runtime.list", "# emptied by hand\n"),
        ("gpu.list", "deb https://nvidia.github.io/nvidia-container-runtime/stable/debian11/$(ARCH) /\n"),
    ],
)
def test_leftovers_are_recognised(name, text):
    assert leftover_reason(name, text, "nvidia-container-toolkit.list", BASE)


def test_a_mirror_list_pointing_at_our_base_url_is_a_leftover():
    text = "deb [trusted=yes] http://mirror.internal/nvidia/stable/deb/amd64 /\n"
    assert leftover_reason("mirror.list", text, "nvidia-container-toolkit.list", "http://mirror.internal/nvidia")


@pytest.mark.parametrize(
    "name, text",
    [
        ("nvidia-container-toolkit.list", "deb https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n"),
        ("debian.list", "deb http://deb.debian.org/debian bookworm main\n"),
        # Mixed files are the user's: not removed.
        (
            "mixed.list",
            "deb http://deb.debian.org/debian bookworm main\ndeb https://nvidia.github.io/nvidia-docker/x /\n",
        ),
        ("nvidia-docker.list.save", "deb https://nvidia.github.io/nvidia-docker/x /\n"),
        ("commented.list", "# deb https://nvidia.github.io/nvidia-docker/x /\n"),
    ],
)
def test_other_files_are_left_alone(name, text):
    assert leftover_reason(name, text, "nvidia-container-toolkit.list", BASE) is None


MIRROR = "http://mirror.example"


@pytest.mark.parametrize(
    "uri",
    [
        # Another host that merely starts with the mirror's name.
        "http://mirror.example.org/debian",
        # The mirror's own host, but Ubuntu's archive, not NVIDIA's channels.
        "http://mirror.example/ubuntu",
        "http://mirror.example/stable-updates/debian",
        # Same name, another port: another server.
        "http://mirror.example:8080/stable/deb/amd64",
        # NVIDIA's address inside somebody else's path.
        "https://evil.example/nvidia.github.io/nvidia-docker/ubuntu20.04/amd64",
        "https://nvidia.github.io.evil.example/nvidia-docker/ubuntu20.04/amd64",
    ],
)
def test_lists_that_only_look_like_the_mirror_are_kept(uri):
    assert leftover_reason("other.list", "deb %s /\n" % uri, "nvidia-container-toolkit.list", MIRROR) is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://mirror.example/stable/deb/amd64",
        "HTTP://Mirror.EXAMPLE:80/experimental/deb/arm64",
        "https://mirror.example/stable/ubuntu18.04/$(ARCH)",
        "https://nvidia.github.io:443/nvidia-docker/ubuntu20.04/$(ARCH)",
    ],
)
def test_lists_on_the_mirrors_host_under_its_channels_are_leftovers(uri):
    assert leftover_reason("old.list", "deb %s /\n" % uri, "nvidia-container-toolkit.list", MIRROR)


def test_base_url_path_prefix_stops_at_a_segment_boundary():
    base = "http://mirror.internal/nvidia"
    assert leftover_reason("a.list", "deb %s/stable/deb/amd64 /\n" % base, "own.list", base + "/")
    kept = "deb http://mirror.internal/nvidia-old/stable/deb/amd64 /\n"
    assert leftover_reason("b.list", kept, "own.list", base) is None


@pytest.mark.parametrize("architecture", ["amd64", "arm64", "ppc64el", "s390x", "i386", "musl-linux-arm64"])
def test_dpkg_architecture_names_are_accepted(architecture):
    assert check_architecture(architecture) == architecture


@pytest.mark.parametrize(
    "architecture", ["amd64 trusted=yes]", "amd64]", "AMD64", "", "-amd64", "amd64\ndeb http://x /", "../amd64"]
)
def test_architecture_that_could_rewrite_the_source_entry_is_refused(architecture):
    with pytest.raises(ValueError, match="dpkg architecture"):
        check_architecture(architecture)
    with pytest.raises(ValueError):
        source_line(BASE, "stable", architecture, KEYRING)


@pytest.mark.parametrize(
    "path",
    [
        "keyrings/nvidia.gpg",
        "/usr/share/keyrings/../keyrings/nvidia.gpg",
        "/usr/share/keyrings//nvidia.gpg",
        "/usr/share/keyrings/nvidia.gpg/",
        "/usr/share/key rings/nvidia.gpg",
        "/usr/share/keyrings/nvidia.gpg] trusted=yes",
        "/usr/share/keyrings/[nvidia].gpg",
        "/usr/share/keyrings/nvidia.gpg\n",
        "/",
    ],
)
def test_keyring_path_that_is_not_plain_and_absolute_is_refused(path):
    with pytest.raises(ValueError, match="keyring"):
        check_apt_path("keyring", path)
    with pytest.raises(ValueError):
        source_line(BASE, "stable", "amd64", path)


def test_plain_absolute_paths_are_accepted():
    assert check_apt_path("keyring", KEYRING) == KEYRING
    assert check_apt_path("keyring", "/etc/apt/keyrings/nvidia_ctk-2.asc") == "/etc/apt/keyrings/nvidia_ctk-2.asc"


@pytest.mark.parametrize(
    "url",
    [
        "http://mirror.example/nvidia /\ndeb [trusted=yes] http://evil.example",
        "http://mirror.example/nvidia#fragment",
        "ftp://mirror.example/nvidia",
        "mirror.example/nvidia",
        "http:///nvidia",
        'http://mirror.example/"nvidia"',
    ],
)
def test_base_url_that_would_break_the_source_entry_is_refused(url):
    with pytest.raises(ValueError, match="base_url"):
        check_base_url(url)


@pytest.mark.parametrize("url", [BASE, "http://[fd00::1]:8080/nvidia", "https://user@mirror.example/a-b_c/~x/"])
def test_ordinary_base_urls_are_accepted(url):
    assert check_base_url(url) == url


@pytest.mark.parametrize("names", [["-o", "nvidia-container-toolkit"], ["--config-file=/tmp/x"], ["Nvidia"], [""]])
def test_package_names_that_are_not_debian_names_are_refused(names):
    with pytest.raises(ValueError, match="package name"):
        check_package_names(names)


def test_debian_package_names_are_accepted():
    names = list(TOOLKIT_PACKAGES) + ["libstdc++6", "nvidia-container-toolkit-base", "g++-12"]
    assert check_package_names(names) == names


# Synthetic, in the format of `apt-cache madison` (apt 2.6): package | version | source.
MADISON = """\
nvidia-container-toolkit |   1.17.8-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
nvidia-container-toolkit |   1.17.7-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
nvidia-container-toolkit-base |   1.17.8-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
nvidia-container-toolkit-base |   1.17.7-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
libnvidia-container-tools |   1.17.8-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
libnvidia-container-tools |   1.17.7-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
libnvidia-container1 |   1.17.8-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
libnvidia-container1 |   1.17.7-1 | http://127.0.0.1:8765/stable/deb/amd64  Packages
libnvidia-container1 |   1.9.0-1 | http://other.example/deb/amd64  Packages
"""


def test_madison_keeps_only_our_repository_newest_first():
    versions = parse_madison(MADISON, "http://127.0.0.1:8765/stable/deb/amd64")
    assert sorted(versions) == sorted(TOOLKIT_PACKAGES)
    assert versions["libnvidia-container1"] == ["1.17.8-1", "1.17.7-1"]


def test_pinned_version_present_for_all_four_passes():
    versions = parse_madison(MADISON, "http://127.0.0.1:8765/stable/deb/amd64")
    assert missing_version(versions, list(TOOLKIT_PACKAGES), "1.17.7-1") is None
    assert missing_version(versions, list(TOOLKIT_PACKAGES), None) is None


def test_absent_version_fails_with_the_versions_the_repository_has():
    versions = parse_madison(MADISON, "http://127.0.0.1:8765/stable/deb/amd64")
    message = missing_version(versions, list(TOOLKIT_PACKAGES), "1.16.2-1")
    assert "1.16.2-1" in message
    assert message.endswith("1.17.8-1, 1.17.7-1")


def test_version_present_for_only_some_packages_lists_the_common_ones():
    versions = {"a": ["2-1", "1-1"], "b": ["1-1"]}
    message = missing_version(versions, ["a", "b"], "2-1")
    assert "for b;" in message and message.endswith(": 1-1")


def test_repository_without_the_packages_for_this_architecture_says_so():
    message = missing_version({}, list(TOOLKIT_PACKAGES), None)
    assert "no nvidia-container-toolkit" in message


def test_successful_update_output_is_not_a_failure():
    output = "Get:1 http://127.0.0.1:8765/stable/deb/amd64  InRelease [1,234 B]\nReading package lists...\n"
    assert classify_update_failure(0, output, "http://127.0.0.1:8765/stable/deb/amd64") is None


def test_warning_about_another_repository_is_not_ours():
    output = "W: http://deb.debian.org/debian/dists/bookworm/InRelease: Key is stored in legacy trusted.gpg\n"
    assert classify_update_failure(0, output, "http://127.0.0.1:8765/stable/deb/amd64") is None
