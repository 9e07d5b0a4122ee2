# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trial run against real apt: a flat repository built and signed in the test, served on 127.0.0.1.

Everything apt prints here is apt's own output on this machine; the Packages index is synthetic (no .debs).
Needs root (apt downloads as `_apt`), apt-get, apt-ftparchive and gpg; skipped otherwise.
"""

import functools
import os
import shutil
import socket
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from throwaway_gpg import gpg, make_signing_key

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo import apt as repo_apt
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.keyring import to_binary
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.repository import (
    TOOLKIT_PACKAGES,
    repository_uri,
    source_line,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("apt-get", "apt-ftparchive", "gpg", "dpkg")),
    reason="needs root, apt-get, apt-ftparchive and gpg",
)

VERSIONS = ("1.17.7-1", "1.17.8-1")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def run(argv):
    process = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"), check=False)
    return process.returncode, process.stdout, process.stderr


def make_key(home, name):
    return to_binary(gpg(home, "--armor", "--export", make_signing_key(home, name)))


def publish(root, channel, architecture, home, signer, packages=TOOLKIT_PACKAGES):
    folder = root / channel / "deb" / architecture
    folder.mkdir(parents=True)
    stanzas = []
    for package in packages:
        for version in VERSIONS:
            stanzas.append(
                "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: test <t@example.invalid>\n"
                "Filename: ./%s_%s_%s.deb\nSize: 1\nSHA256: %s\nDescription: synthetic\n"
                % (package, version, architecture, package, version, architecture, "0" * 64)
            )
    (folder / "Packages").write_text("\n".join(stanzas))
    release = subprocess.run(["apt-ftparchive", "release", str(folder)], capture_output=True, check=True).stdout
    (folder / "Release").write_bytes(release)
    gpg(
        home,
        "--local-user",
        "%s@example.invalid" % signer,
        "--clearsign",
        "--output",
        str(folder / "InRelease"),
        str(folder / "Release"),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    root = tmp_path_factory.mktemp("repo")
    architecture = run(["dpkg", "--print-architecture"])[1].strip()
    keys = {"good": make_key(home, "good"), "rogue": make_key(home, "rogue")}
    publish(root / "good", "stable", architecture, home, "good")
    publish(root / "wrongkey", "stable", architecture, home, "rogue")
    publish(root / "empty", "stable", architecture, home, "good", packages=())
    portal = root / "portal" / "stable" / "deb" / architecture
    portal.mkdir(parents=True)
    (portal / "InRelease").write_text("<html><body>Please log in to the guest network</body></html>\n")
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": "http://127.0.0.1:%d" % httpd.server_port, "keys": keys, "arch": architecture, "root": str(root)}
    httpd.shutdown()


class RecordingProxy(QuietHandler):
    """An HTTP proxy in front of the test repository: serves every absolute URL from it, noting what apt sent."""

    seen = []

    def do_GET(self):
        RecordingProxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        self.path = urlsplit(self.path).path
        super().do_GET()


def try_repository(server, tmp_path, flavour, key="good", packages=TOOLKIT_PACKAGES, base=None):
    base = base or "%s/%s" % (server["url"], flavour)
    uri = repository_uri(base, "stable", server["arch"])
    workdir = tmp_path / "probe"
    workdir.mkdir()
    return repo_apt.probe(
        run,
        str(workdir),
        server["keys"][key],
        lambda path: source_line(base, "stable", server["arch"], path),
        uri,
        packages,
    )


def test_good_repository_lists_both_versions_of_all_four_packages(server, tmp_path):
    versions, index_names = try_repository(server, tmp_path, "good")
    assert {package: versions[package] for package in TOOLKIT_PACKAGES} == {
        p: ["1.17.8-1", "1.17.7-1"] for p in TOOLKIT_PACKAGES
    }
    assert any(name.endswith("InRelease") for name in index_names)


def test_probe_leaves_the_hosts_lists_alone(server, tmp_path):
    before = sorted(os.listdir(repo_apt.HOST_LISTS_DIR))
    try_repository(server, tmp_path, "good")
    assert sorted(os.listdir(repo_apt.HOST_LISTS_DIR)) == before


def test_repository_signed_by_another_key_is_a_signature_failure(server, tmp_path):
    with pytest.raises(repo_apt.RepositoryError) as error:
        try_repository(server, tmp_path, "wrongkey")
    assert error.value.cause == "signature"
    assert "NO_PUBKEY" in error.value.message or "signature" in error.value.message


def test_our_key_against_the_wrong_signer_is_the_same_failure(server, tmp_path):
    with pytest.raises(repo_apt.RepositoryError) as error:
        try_repository(server, tmp_path, "good", key="rogue")
    assert error.value.cause == "signature"


def test_missing_architecture_folder_is_not_found(server, tmp_path):
    with pytest.raises(repo_apt.RepositoryError) as error:
        try_repository(server, tmp_path, "nothing-here")
    assert error.value.cause == "not_found"


def test_html_page_instead_of_a_repository_is_named(server, tmp_path):
    with pytest.raises(repo_apt.RepositoryError) as error:
        try_repository(server, tmp_path, "portal")
    assert error.value.cause == "not_a_repository"


def test_closed_port_is_unreachable(server, tmp_path):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    with pytest.raises(repo_apt.RepositoryError) as error:
        try_repository(server, tmp_path, "x", base="http://127.0.0.1:%d/x" % port)
    assert error.value.cause == "unreachable"


def test_signed_repository_without_our_packages_reports_none(server, tmp_path):
    versions, _names = try_repository(server, tmp_path, "empty")
    assert versions == {}


def test_host_cache_is_current_only_with_identical_index_files(tmp_path):
    probe_lists, host_lists = tmp_path / "probe", tmp_path / "host"
    probe_lists.mkdir()
    host_lists.mkdir()
    (probe_lists / "x_InRelease").write_text("new")
    assert not repo_apt.host_cache_current(str(probe_lists), ["x_InRelease"], str(host_lists))
    (host_lists / "x_InRelease").write_text("old")
    assert not repo_apt.host_cache_current(str(probe_lists), ["x_InRelease"], str(host_lists))
    (host_lists / "x_InRelease").write_text("new")
    assert repo_apt.host_cache_current(str(probe_lists), ["x_InRelease"], str(host_lists))
    assert not repo_apt.host_cache_current(str(probe_lists), [], str(host_lists))


def test_update_of_our_source_hides_every_other_source():
    options = repo_apt.apt_options("/etc/apt/sources.list.d/nvidia-container-toolkit.list", config_file="/run/x.conf")
    argv = repo_apt.update_argv(options)
    assert argv[:3] == ["apt-get", "-q", "update"]
    assert "Dir::Etc::sourceparts=-" in argv and "APT::Get::List-Cleanup=0" in argv
    assert argv[argv.index("-c") + 1] == "/run/x.conf"
    assert not any(option.startswith("Dir::State::Lists") for option in argv)


def test_package_names_come_after_the_end_of_options():
    argv = repo_apt.madison_argv(repo_apt.apt_options("/x.list"), ["nvidia-container-toolkit"])
    assert argv[-3:] == ["madison", "--", "nvidia-container-toolkit"]


def test_proxy_credentials_reach_apt_in_a_private_file_and_never_its_command_line(server, tmp_path):
    handler = functools.partial(RecordingProxy, directory=server["root"])
    proxy_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy_server.serve_forever, daemon=True).start()
    proxy = "http://gpu-ops:s3cret-Pa55@127.0.0.1:%d" % proxy_server.server_port
    calls, config_files = [], []

    def recording_run(argv):
        calls.append(argv)
        path = argv[argv.index("-c") + 1]
        with open(path) as handle:
            config_files.append((path, os.stat(path).st_mode & 0o777, os.stat(os.path.dirname(path)).st_mode & 0o777))
            assert proxy in handle.read()
        return run(argv)

    # The name does not resolve: apt only gets the index by going through the proxy.
    base = "http://nvidia-repo.invalid/good"
    workdir = tmp_path / "probe"
    workdir.mkdir()
    RecordingProxy.seen[:] = []
    try:
        versions, _names = repo_apt.probe(
            recording_run,
            str(workdir),
            server["keys"]["good"],
            lambda path: source_line(base, "stable", server["arch"], path),
            repository_uri(base, "stable", server["arch"]),
            TOOLKIT_PACKAGES,
            proxy,
        )
    finally:
        proxy_server.shutdown()
    assert versions["nvidia-container-toolkit"] == ["1.17.8-1", "1.17.7-1"]
    assert any(path.startswith(base) and auth for path, auth in RecordingProxy.seen)
    assert not any("s3cret" in argument for argv in calls for argument in argv)
    assert [(mode, folder_mode) for _path, mode, folder_mode in config_files] == [(0o600, 0o700)] * len(calls)
    assert not any(os.path.exists(os.path.dirname(path)) for path, _mode, _folder in config_files)


@pytest.mark.parametrize(
    "proxy", ['http://u:p"w@proxy:3128', "http://proxy:3128\nAPT::Get::Trivial-Only true", "proxy:3128"]
)
def test_proxy_that_apt_would_misread_is_refused_without_echoing_it(proxy):
    with pytest.raises(ValueError) as error, repo_apt.private_config(proxy):
        pass
    assert "proxy" in str(error.value) and proxy not in str(error.value)
