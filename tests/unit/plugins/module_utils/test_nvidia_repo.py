# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Source entry, leftover detection, madison parsing and version checks (pure text functions).

apt's real failure output is exercised in test_nvidia_repo_apt.py against a repository served in the test.
"""

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils._nvidia_repo import (
    TOOLKIT_PACKAGES,
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
