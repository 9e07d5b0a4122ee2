# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run host_probe's main() with real argument handling; only dpkg and systemctl are answered by canned output."""

import base64

from fake_commands import Commands
from fake_commands import run_main as run_module_main

from ansible_collections.gpufleet.containers.plugins.modules import host_probe

SYSTEMCTL = "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"
DPKG = "docker.io\tii \t20.10.24+dfsg1-1+deb12u1+b6\tamd64\n"


def run_main(args, capsys):
    return run_module_main(host_probe, args, capsys)


def test_one_call_answers_packages_units_files_and_space(monkeypatch, capsys, tmp_path):
    answers = {"dpkg": (0, "amd64\n", ""), "dpkg-query": (1, DPKG, "no packages"), "systemctl": (0, SYSTEMCTL, "")}
    host = Commands(by_command=answers)
    host.install(monkeypatch)
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"live-restore": true}\n')
    args = {
        "packages": ["docker.io", "docker-ce"],
        "units": ["docker.service"],
        "paths": [str(tmp_path / "snap-docker")],
        "read": [str(daemon_json)],
        "free_space_path": str(tmp_path / "docker"),
        "_ansible_check_mode": True,
    }
    result = run_main(args, capsys)
    assert result["_exit"] == 0 and result["changed"] is False
    # Three commands for everything: the architecture, every package, every unit.
    assert [argv[0] for argv in host.calls] == ["dpkg", "dpkg-query", "systemctl"]
    assert all(environ["LC_ALL"] == "C" for environ in host.environ)
    assert result["dpkg_architecture"] == "amd64"
    assert result["packages"]["docker.io"]["installed"] is True
    assert result["packages"]["docker-ce"]["installed"] is False
    assert result["units"]["docker.service"]["active_state"] == "active"
    assert result["paths"][str(tmp_path / "snap-docker")] == {"exists": False}
    assert base64.b64decode(result["paths"][str(daemon_json)]["content"]) == b'{"live-restore": true}\n'
    assert result["free_space"]["measured_at"] == str(tmp_path)


def test_a_broken_dpkg_database_fails_with_the_fix(monkeypatch, capsys):
    answers = {"dpkg": (0, "amd64\n", ""), "dpkg-query": (2, "", "dpkg: error: dpkg status database is locked")}
    host = Commands(by_command=answers)
    host.install(monkeypatch)
    result = run_main({"packages": ["docker.io"]}, capsys)
    assert all(environ["LC_ALL"] == "C" for environ in host.environ)
    assert result["_exit"] == 1
    assert "database is locked" in result["msg"] and "dpkg --configure -a" in result["msg"]


def test_units_without_systemd_fail_and_say_so(monkeypatch, capsys):
    host = Commands(by_command={"dpkg": (0, "amd64\n", "")}, missing=("systemctl",))
    host.install(monkeypatch)
    result = run_main({"units": ["docker.service"]}, capsys)
    assert all(environ["LC_ALL"] == "C" for environ in host.environ)
    assert result["_exit"] == 1
    assert result["msg"] == "systemctl not found: the units docker.service need systemd on the host"


def test_a_file_too_big_to_read_fails_naming_it(monkeypatch, capsys, tmp_path):
    host = Commands(by_command={"dpkg": (0, "amd64\n", "")})
    host.install(monkeypatch)
    result = run_main({"read": [str(tmp_path)]}, capsys)
    assert all(environ["LC_ALL"] == "C" for environ in host.environ)
    assert result["_exit"] == 1
    assert result["msg"] == "Cannot read %s: %s is a directory, not a file: it cannot be read" % (tmp_path, tmp_path)


def test_package_and_unit_names_starting_with_a_dash_are_refused_before_anything_runs(monkeypatch, capsys):
    host = Commands(by_command={"dpkg": (0, "amd64\n", ""), "dpkg-query": (0, DPKG, ""), "systemctl": (0, "", "")})
    host.install(monkeypatch)
    result = run_main({"packages": ["docker.io", "--admindir=/tmp/x"], "units": ["-H", "docker.service"]}, capsys)
    assert result["_exit"] == 1
    assert "--admindir=/tmp/x" in result["msg"] and "-H" in result["msg"]
    assert "would be read as options" in result["msg"]
    assert host.calls == []


def test_the_commands_end_their_options_before_the_names(monkeypatch, capsys):
    answers = {"dpkg": (0, "amd64\n", ""), "dpkg-query": (0, DPKG, ""), "systemctl": (0, SYSTEMCTL, "")}
    host = Commands(by_command=answers)
    host.install(monkeypatch)
    result = run_main({"packages": ["docker.io"], "units": ["docker.service"]}, capsys)
    assert result["_exit"] == 0
    assert host.calls[1][-2:] == ["--", "docker.io"]
    assert host.calls[2][-2:] == ["--", "docker.service"]
