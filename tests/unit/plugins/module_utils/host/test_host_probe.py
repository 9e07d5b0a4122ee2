# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's parsers, fed with output captured from the Debian 12 test host, and its file-system readers."""

import base64
import io
import os
import shutil
import subprocess

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.host import probe as _host_probe
from ansible_collections.gpufleet.containers.plugins.module_utils.host.probe import (
    ProbeError,
    dpkg_query_argv,
    free_space,
    option_like_names,
    parse_dpkg_query,
    parse_systemctl_show,
    path_info,
    systemctl_show_argv,
)

# `systemctl show --property=LoadState,ActiveState,UnitFileState ssh.service docker.service cron.service
# systemd-journald.service` on the Debian 12 test host (before Docker): one block per unit, in the order asked.
SYSTEMCTL_SHOW = (
    "LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n\n"
    "LoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n"
    "LoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n"
    "LoadState=loaded\nActiveState=active\nUnitFileState=static\n"
)
UNITS = ["ssh.service", "docker.service", "cron.service", "systemd-journald.service"]

# dpkg-query with DPKG_QUERY_FORMAT on a converged host: the toolkit held, nvidia-docker2 removed with its
# configuration kept (rc), libc6 twice (multi-arch, i386 only half there).
DPKG_QUERY = (
    "nvidia-container-toolkit\thi \t1.17.7-1\tamd64\n"
    "nvidia-container-toolkit-base\thi \t1.17.7-1\tamd64\n"
    "nvidia-docker2\trc \t2.13.0-1\tall\n"
    "docker.io\tii \t20.10.24+dfsg1-1+deb12u1+b6\tamd64\n"
    "libc6\tiU \t2.36-9+deb12u14\ti386\n"
    "libc6\tii \t2.36-9+deb12u14\tamd64\n"
)


def test_dpkg_query_asks_for_every_name_with_a_tab_separated_format():
    argv = dpkg_query_argv(["docker.io", "docker-ce"])
    assert argv[:2] == ["dpkg-query", "--show"]
    assert argv[2] == "--showformat=${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\n"
    # "--" ends dpkg-query's options: nothing after it is read as one.
    assert argv[3:] == ["--", "docker.io", "docker-ce"]


def test_dpkg_states_are_read_as_a_role_needs_them():
    names = ["nvidia-container-toolkit", "nvidia-docker2", "docker.io", "docker-ce", "libc6"]
    found = parse_dpkg_query(DPKG_QUERY, names)
    assert set(found) == set(names)
    assert found["nvidia-container-toolkit"] == {
        "installed": True,
        "selection": "hold",
        "status": "hi",
        "version": "1.17.7-1",
        "architecture": "amd64",
    }
    # Removed, configuration kept: not installed, and its old version is not reported as if it were.
    assert found["nvidia-docker2"]["installed"] is False
    assert found["nvidia-docker2"]["selection"] == "deinstall"
    assert found["nvidia-docker2"]["version"] is None
    assert found["docker.io"]["selection"] == "install"
    assert found["docker-ce"] == {
        "installed": False,
        "selection": None,
        "status": None,
        "version": None,
        "architecture": None,
    }
    # The installed architecture wins over the half-unpacked one, whatever the order of the lines.
    assert found["libc6"]["installed"] is True
    assert found["libc6"]["architecture"] == "amd64"


def test_lines_for_names_not_asked_about_are_ignored():
    assert parse_dpkg_query(DPKG_QUERY, ["docker.io"]).keys() == {"docker.io"}


def test_systemctl_blocks_map_to_the_units_in_order():
    argv = systemctl_show_argv(UNITS)
    assert argv == ["systemctl", "show", "--property=LoadState,ActiveState,UnitFileState", "--"] + UNITS
    units = parse_systemctl_show(SYSTEMCTL_SHOW, UNITS)
    assert units["ssh.service"] == {"load_state": "loaded", "active_state": "inactive", "unit_file_state": "disabled"}
    assert units["docker.service"] == {"load_state": "not-found", "active_state": "inactive", "unit_file_state": None}
    assert units["systemd-journald.service"]["unit_file_state"] == "static"


def test_a_systemctl_answer_that_does_not_match_the_units_is_an_error():
    with pytest.raises(ProbeError, match="2 block"):
        parse_systemctl_show("\n\n".join(SYSTEMCTL_SHOW.split("\n\n")[:2]), ["a.service", "b.service", "c.service"])


def test_path_info_reports_mode_owner_and_content(tmp_path):
    config = tmp_path / "daemon.json"
    config.write_bytes(b'{"bridge": "none"}\n')
    os.chmod(str(config), 0o640)
    info = path_info(str(config), read=True)
    assert info["exists"] is True
    assert info["type"] == "file"
    assert info["mode"] == "0640"
    assert info["size"] == 19
    assert base64.b64decode(info["content"]) == b'{"bridge": "none"}\n'
    assert "content" not in path_info(str(config))
    assert path_info(str(tmp_path))["type"] == "directory"
    assert path_info(str(tmp_path / "missing"), read=True) == {"exists": False}


def test_reading_a_directory_or_a_huge_file_is_refused(tmp_path):
    with pytest.raises(ProbeError, match="is a directory, not a file"):
        path_info(str(tmp_path), read=True)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ProbeError, match="2048 bytes, more than the 1024"):
        path_info(str(big), read=True, max_bytes=1024)


def test_free_space_of_a_path_not_yet_created_is_measured_at_its_parent(tmp_path):
    future = tmp_path / "lib" / "docker"
    space = free_space(str(future))
    assert space["path"] == str(future)
    assert space["measured_at"] == str(tmp_path)
    # The same file system as df sees it (df -Pm rounds up; statvfs is exact to the block).
    df = subprocess.run(["df", "-Pm", str(tmp_path)], stdout=subprocess.PIPE, text=True, check=True)
    df_total, df_available = (int(value) for value in df.stdout.splitlines()[-1].split()[1:4:2])
    assert abs(space["total_mib"] - df_total) <= 1
    assert abs(space["free_mib"] - df_available) <= max(64, df_available // 100)
    assert 0 < space["free_mib"] <= space["total_mib"]


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg")
def test_parses_what_this_machines_dpkg_says():
    result = subprocess.run(
        dpkg_query_argv(["dpkg", "gpufleet-no-such-package"]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    found = parse_dpkg_query(result.stdout, ["dpkg", "gpufleet-no-such-package"])
    assert found["dpkg"]["installed"] is True
    assert found["dpkg"]["version"]
    assert found["gpufleet-no-such-package"]["installed"] is False


def test_a_proc_file_reporting_size_0_is_read_only_up_to_the_limit():
    # /proc files say they hold 0 bytes and then return as much as they like (/proc/kallsyms: megabytes).
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(ProbeError, match=r"/proc/self/maps holds more than the 64 bytes this probe reads"):
        path_info("/proc/self/maps", read=True, max_bytes=64)
    assert base64.b64decode(path_info("/proc/self/maps", read=True, max_bytes=10 * 1024 * 1024)["content"])


class CountingStream(io.BytesIO):
    """8 MiB behind a file that reports size 0; remembers how far it was read once closed."""

    bytes_read = None

    def close(self):
        self.bytes_read = self.tell()
        super(CountingStream, self).close()


def test_no_more_than_the_limit_and_one_byte_is_read(monkeypatch):
    huge = CountingStream(b"x" * (8 * 1024 * 1024))
    monkeypatch.setattr(_host_probe, "open", lambda path, mode: huge, raising=False)
    with pytest.raises(ProbeError, match="more than the 1024 bytes"):
        path_info("/proc/self/maps", read=True, max_bytes=1024)
    assert huge.bytes_read == 1025


def test_names_that_would_be_read_as_options_are_found():
    assert option_like_names(["docker.io", "-a", "--admindir=/tmp", "x-y", "--"]) == ["-a", "--admindir=/tmp", "--"]
    assert option_like_names([]) == []
