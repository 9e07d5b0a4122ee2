# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run nvidia_repo's main() with real argument handling against a throwaway /etc/apt and keyring folder.

Keys are made by gpg in the test and served over HTTP on 127.0.0.1; only apt-get and apt-cache are stand-ins.
Real apt against a real repository is exercised in module_utils/test_nvidia_repo_apt.py.
"""

import functools
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fake_commands import Commands
from fake_commands import run_main as run_module_main

from ansible_collections.gpufleet.containers.plugins.modules import nvidia_repo

# throwaway_gpg sits beside the nvidia_repo module_utils tests; this folder's tests may run without them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils", "nvidia_repo"))
from throwaway_gpg import gpg, make_signing_key  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg makes the test key")

ARCH = "amd64"
BASE = "http://mirror.example.invalid/nvidia"
URI = "%s/stable/deb/%s" % (BASE, ARCH)
PACKAGES = ("nvidia-container-toolkit", "libnvidia-container1")
PROXY_SECRET = "s3cret-Pa55"
PROXY = "http://gpu-ops:%s@proxy.example.invalid:3128" % PROXY_SECRET
# A captive portal's login page, as hotel and guest networks answer any HTTP request.
PORTAL_PAGE = b"""<!DOCTYPE html>
<html><head><title>Guest network</title></head>
<body><form action="/login">Accept the terms of use to continue</form></body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def guess_type(self, path):
        return "text/html" if path.endswith(".html") else "application/pgp-keys"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    address = make_signing_key(home, "nvidia")
    listing = gpg(home, "--with-colons", "--fingerprint", address).decode()
    return {
        "armored": gpg(home, "--armor", "--export", address),
        "binary": gpg(home, "--export", address),
        "fingerprint": next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")),
    }


@pytest.fixture(scope="module")
def web(tmp_path_factory, key):
    root = tmp_path_factory.mktemp("web")
    (root / "gpgkey").write_bytes(key["armored"])
    (root / "portal.html").write_bytes(PORTAL_PAGE)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % httpd.server_port
    httpd.shutdown()


@pytest.fixture
def host(tmp_path, monkeypatch):
    etc_apt = tmp_path / "etc-apt"
    (etc_apt / "sources.list.d").mkdir(parents=True)
    monkeypatch.setattr(nvidia_repo, "ETC_APT", str(etc_apt))
    return {
        "keyring": str(tmp_path / "keyrings" / "nvidia.gpg"),
        "source_file": str(etc_apt / "sources.list.d" / "nvidia-container-toolkit.list"),
        "backup_dir": str(tmp_path / "backups"),
    }


class AptStandIn(Commands):
    """apt-get succeeds, apt-cache knows both packages; notes each -c file's mode and content while apt runs."""

    def __init__(self):
        madison = "".join("%s | 1.17.8-1 | %s  Packages\n" % (package, URI) for package in PACKAGES)
        super().__init__(by_command={"apt-get": (0, "", ""), "apt-cache": (0, madison, "")})
        self.config_files = []

    def run_command(self, argv, **kwargs):
        if "-c" in argv:
            path = argv[argv.index("-c") + 1]
            with open(path) as handle:
                folder_mode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
                self.config_files.append((path, stat.S_IMODE(os.stat(path).st_mode), folder_mode, handle.read()))
        return super().run_command(argv, **kwargs)


def run_main(args, capsys, host, fingerprint):
    arguments = dict(host, architecture=ARCH, base_url=BASE, fingerprint=fingerprint, packages=list(PACKAGES))
    arguments.update(args)
    return run_module_main(nvidia_repo, arguments, capsys)


def no_download(*args, **kwargs):
    raise AssertionError("the module downloaded a key although it must not")


def test_html_page_at_the_key_url_is_named_as_no_key_not_a_pin_problem(monkeypatch, capsys, host, key, web):
    commands = AptStandIn()
    commands.install(monkeypatch)
    url = web + "/portal.html"
    result = run_main({"key_url": url}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "not_a_key")
    assert url in result["msg"] and "not an OpenPGP key" in result["msg"] and "HTML" in result["msg"]
    assert "captive portal" in result["msg"] and "proxy" in result["msg"]
    assert "fingerprint" not in result["msg"]
    assert commands.calls == [] and not os.path.exists(host["keyring"])


def test_file_url_reads_the_key_from_the_host(monkeypatch, capsys, host, key, tmp_path):
    commands = AptStandIn()
    commands.install(monkeypatch)
    key_file = tmp_path / "nvidia key.asc"
    key_file.write_bytes(key["armored"])
    result = run_main({"key_url": "file://" + str(key_file).replace(" ", "%20")}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["changed"], result["keyring"]["changed"]) == (0, True, True)
    with open(host["keyring"], "rb") as handle:
        assert handle.read() == key["binary"]
    assert result["versions"]["nvidia-container-toolkit"] == ["1.17.8-1"]
    madison = next(argv for argv in commands.calls if argv[0] == "apt-cache")
    legacy = ["nvidia-docker2", "nvidia-container-runtime"]
    assert madison[madison.index("madison") :] == ["madison", "--"] + list(PACKAGES) + legacy


@pytest.mark.parametrize(
    "suffix, words",
    [
        ("/no/such/key.asc", "No such file"),
        ("/", "Is a directory"),
    ],
)
def test_unreadable_file_url_names_the_path_and_the_reason(monkeypatch, capsys, host, key, tmp_path, suffix, words):
    AptStandIn().install(monkeypatch)
    path = str(tmp_path) + suffix
    result = run_main({"key_url": "file://" + path}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "key_download")
    assert "cannot read the key file %s" % path.rstrip("/") in result["msg"]
    assert words in result["msg"] and "HTTP" not in result["msg"]


@pytest.mark.parametrize("url", ["file://fileserver/keys/nvidia.asc", "ftp://mirror.example/gpgkey", "gpgkey"])
def test_key_url_that_is_neither_http_nor_a_local_file_is_refused(monkeypatch, capsys, host, key, url):
    commands = AptStandIn()
    commands.install(monkeypatch)
    monkeypatch.setattr(nvidia_repo, "fetch_url", no_download)
    result = run_main({"key_url": url}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "invalid_option")
    assert "key_url" in result["msg"] and url in result["msg"]
    assert commands.calls == []


@pytest.mark.parametrize("content", ["", "  \n\t"])
def test_empty_key_content_is_an_error_not_a_download(monkeypatch, capsys, host, key, content):
    commands = AptStandIn()
    commands.install(monkeypatch)
    monkeypatch.setattr(nvidia_repo, "fetch_url", no_download)
    result = run_main({"key_content": content}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "invalid_option")
    assert "key_content is empty" in result["msg"]
    assert commands.calls == [] and not os.path.exists(host["keyring"])


def test_proxy_stays_out_of_results_and_command_lines(monkeypatch, capsys, host, key):
    commands = AptStandIn()
    commands.install(monkeypatch)
    result = run_main({"key_content": key["armored"].decode(), "proxy": PROXY}, capsys, host, key["fingerprint"])
    assert result["_exit"] == 0 and result["cache_updated"] is True
    assert PROXY_SECRET not in json.dumps(result)
    assert [argv[0] for argv in commands.calls] == ["apt-get", "apt-cache", "apt-get"]
    assert not any(PROXY_SECRET in argument for argv in commands.calls for argument in argv)
    # Every apt run got the proxy from a file only root can read, in a folder only root can enter, gone afterwards.
    assert len(commands.config_files) == len(commands.calls)
    for path, mode, folder_mode, content in commands.config_files:
        assert (mode, folder_mode) == (0o600, 0o700) and PROXY in content
        assert not os.path.exists(path)


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("architecture", "amd64 trusted=yes]", "dpkg architecture"),
        ("keyring", "keyrings/nvidia.gpg", "keyring"),
        ("keyring", "/usr/share/keyrings/nvidia.gpg] trusted=yes", "keyring"),
        ("source_file", "{tmp}/etc-apt/sources.list.d/../nvidia.list", "source_file"),
        ("packages", ["-oDir::Etc::sourcelist=/tmp/evil.list"], "package name"),
        ("base_url", "http://mirror.example/nvidia /\ndeb [trusted=yes] http://evil.example", "base_url"),
    ],
)
def test_values_that_would_reach_apt_unchecked_are_refused(
    monkeypatch, capsys, host, key, tmp_path, option, value, words
):
    commands = AptStandIn()
    commands.install(monkeypatch)
    # Should a value get through, whatever it writes stays in this test's folder (relative paths included).
    monkeypatch.chdir(tmp_path)
    if isinstance(value, str):
        value = value.replace("{tmp}", str(tmp_path))
    result = run_main({"key_content": key["armored"].decode(), option: value}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "invalid_option")
    assert words in result["msg"]
    assert commands.calls == [] and not os.path.exists(host["keyring"]) and not os.path.exists(host["source_file"])


def test_temporary_folder_that_cannot_go_into_a_source_entry_is_a_clear_error(monkeypatch, capsys, host, key, tmp_path):
    commands = AptStandIn()
    commands.install(monkeypatch)
    odd_tmp = tmp_path / "Temp Files"
    odd_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd_tmp))
    result = run_main({"key_content": key["armored"].decode()}, capsys, host, key["fingerprint"])
    assert (result["_exit"], result["cause"]) == (1, "invalid_option")
    assert "TMPDIR" in result["msg"] and "Nothing was changed" in result["msg"]
    assert commands.calls == [] and list(odd_tmp.iterdir()) == [] and not os.path.exists(host["keyring"])
