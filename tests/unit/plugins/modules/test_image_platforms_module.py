# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_platforms module end to end: options in, registry over HTTP (the stub in tests/testbed/registry) or
the docker CLI (answered from a table), result out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import socket

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.containers.plugins.modules import image_platforms

STUB_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "testbed", "registry", "stub_registry.py")
_spec = importlib.util.spec_from_file_location("gpufleet_stub_registry_module_tests", STUB_PATH)
stub_registry = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stub_registry)

DOCKER = "/usr/bin/docker"
NO_SUCH_IMAGE = "Error response from daemon: no such image: x: No such image: x\n"  # Docker 20.10.24, captured
NO_DAEMON = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry():
    with stub_registry.StubRegistry() as stub:
        index = {
            "schemaVersion": 2,
            "mediaType": stub_registry.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": stub_registry.OCI_MANIFEST,
                    "digest": "sha256:" + "1" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": stub_registry.OCI_MANIFEST,
                    "digest": "sha256:" + "2" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {
                    "mediaType": stub_registry.OCI_MANIFEST,
                    "digest": "sha256:" + "3" * 64,
                    "size": 1,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                },
            ],
        }
        stub.add_json("nvidia/cuda", "12", index, stub_registry.OCI_INDEX)
        stub.add_single("team/legacy", "1", "amd64")
        stub.add_single("team/graviton", "1", "arm64", "v8")
        yield stub


class Docker:
    """The docker CLI answered from a table of (argv prefix, (rc, stdout, stderr)); every call is recorded."""

    def __init__(self, answers, installed=True):
        self.answers = answers
        self.installed = installed
        self.calls = []

    def run_command(self, cmd, **kwargs):
        self.calls.append(list(cmd))
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        for prefix, answer in self.answers:
            if list(cmd[: len(prefix)]) == prefix:
                return answer
        raise AssertionError("unexpected command %r" % (cmd,))


@pytest.fixture
def run_module(monkeypatch, capsys, tmp_path):
    def run(args, docker=None, check_mode=False):
        docker = docker or Docker([])
        # Recorded where the module gives them: how ansible-core shapes warnings in the JSON varies by version.
        warnings = []
        original_warn = AnsibleModule.warn

        def warn(module, warning, *args, **kwargs):
            warnings.append(warning)
            return original_warn(module, warning, *args, **kwargs)

        monkeypatch.setattr(AnsibleModule, "warn", warn)
        monkeypatch.setattr(AnsibleModule, "run_command", lambda self, cmd, **kw: docker.run_command(cmd, **kw))
        monkeypatch.setattr(
            AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: DOCKER if docker.installed else None
        )
        module_args = dict(args, _ansible_remote_tmp=str(tmp_path / "tmp"), _ansible_keep_remote_files=False)
        module_args["_ansible_check_mode"] = check_mode
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            image_platforms.main()
        out = capsys.readouterr().out
        result = json.loads(out)
        result["_exit_code"] = exited.value.code
        result["_stdout"] = out
        result["_calls"] = docker.calls
        result["_warnings"] = warnings
        return result

    return run


def by_reference(result):
    return {row["reference"]: row for row in result["images"]}


def test_every_image_gets_a_row_and_errors_do_not_stop_the_others(run_module, registry):
    port = free_port()
    images = [
        "%s/nvidia/cuda:12" % registry.host,
        "%s/team/legacy:1" % registry.host,
        "%s/team/legacy:2" % registry.host,
        "Not A Reference",
        "127.0.0.1:%d/team/app:1" % port,
    ]
    result = run_module({"images": images, "insecure_registries": [registry.host, "127.0.0.1:%d" % port]})
    assert result["_exit_code"] == 0 and result["changed"] is False
    rows = by_reference(result)
    assert rows[images[0]]["supports"] == {"amd64": True, "arm64": True}
    assert [p["platform"] for p in rows[images[0]]["platforms"]] == ["linux/amd64", "linux/arm64/v8"]
    assert rows[images[1]]["supports"] == {"amd64": True, "arm64": False}
    assert rows[images[2]]["error"]["kind"] == "not_found"
    assert rows[images[3]]["error"]["kind"] == "invalid_reference"
    assert rows[images[4]]["error"]["kind"] == "unreachable"
    assert result["missing"] == {"amd64": [], "arm64": [images[1]]}
    assert result["unchecked"] == images[2:]
    assert "| %s | yes | NO | linux/amd64 |  |" % images[1] in result["table"]


def test_fail_on_missing_fails_after_reporting_every_image(run_module, registry):
    images = ["%s/nvidia/cuda:12" % registry.host, "%s/team/graviton:1" % registry.host]
    result = run_module({"images": images, "insecure_registries": [registry.host], "fail_on_missing": ["x86_64"]})
    assert result["failed"] is True
    assert result["msg"] == "images must support amd64: %s lack amd64" % images[1]
    assert len(result["images"]) == 2
    assert result["missing"]["amd64"] == [images[1]]


def test_fail_on_missing_counts_unchecked_images(run_module, registry):
    images = ["%s/nvidia/cuda:12" % registry.host, "%s/nvidia/cuda:13" % registry.host]
    result = run_module({"images": images, "insecure_registries": [registry.host], "fail_on_missing": ["arm64"]})
    assert result["failed"] is True
    assert result["msg"] == "images must support arm64: could not check %s" % images[1]


def test_fail_on_missing_passes_when_all_support_it(run_module, registry):
    result = run_module(
        {
            "images": ["%s/nvidia/cuda:12" % registry.host],
            "insecure_registries": [registry.host],
            "architectures": ["amd64"],
            "fail_on_missing": ["aarch64"],
        }
    )
    assert result["_exit_code"] == 0
    assert result["images"][0]["supports"] == {"amd64": True, "arm64": True}


def test_check_mode_reports_the_same(run_module, registry):
    args = {"images": ["%s/team/legacy:1" % registry.host], "insecure_registries": [registry.host]}
    normal, checked = run_module(args), run_module(args, check_mode=True)
    assert checked["images"] == normal["images"] and checked["changed"] is False


def test_password_never_shows_in_the_output(run_module):
    with stub_registry.StubRegistry(auth="basic", credentials=("robot", "pa55-word-xyz")) as stub:
        stub.add_single("private/app", "1", "amd64")
        result = run_module(
            {
                "images": ["%s/private/app:1" % stub.host],
                "insecure_registries": [stub.host],
                "registry_username": "robot",
                "registry_password": "pa55-word-xyz",
            }
        )
    assert result["images"][0]["supports"]["amd64"] is True
    assert "pa55-word-xyz" not in result["_stdout"]


def test_credentials_reach_a_token_service_on_another_host_only_when_trusted(run_module):
    credentials = ("robot", "pa55-word-xyz")
    with stub_registry.StubRegistry(auth="bearer", credentials=credentials) as collector:
        realm = "http://%s/token" % collector.host
        with stub_registry.StubRegistry(auth="bearer", credentials=credentials, realm=realm, public=True) as registry:
            registry.add_single("team/app", "1", "amd64")
            args = {
                "images": ["%s/team/app:1" % registry.host],
                "insecure_registries": [registry.host, collector.host],
                "registry_username": "robot",
                "registry_password": "pa55-word-xyz",
            }
            withheld = run_module(args)
            sent_before = [authorization for _m, _p, authorization in collector.requests]
            trusted = run_module(dict(args, trusted_realm_hosts=[collector.host]))
            sent_after = [authorization for _m, _p, authorization in collector.requests][len(sent_before) :]
    assert sent_before == [None]
    row = withheld["images"][0]
    assert row["supports"]["amd64"] is True  # public: read with the anonymous token
    assert "not on the registry's host" in row["credentials_withheld"]
    assert [warning.split(":")[0] for warning in withheld["_warnings"]] == ["credentials were not sent"]
    assert sent_after[0].startswith("Basic ")
    assert trusted["images"][0]["credentials_withheld"] is None and trusted["_warnings"] == []
    assert "pa55-word-xyz" not in withheld["_stdout"] + trusted["_stdout"]


def test_images_from_compose_and_k8s_files_with_where_they_are_used(run_module, registry, tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  api: {image: '%s/team/legacy:${TAG:-1}'}\n"
        "  worker: {image: '%s/team/legacy:${WORKER}'}\n"
        "  web: {build: .}\n" % (registry.host, registry.host)
    )
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "kind: Deployment\nmetadata: {name: infer}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: server, image: '%s/nvidia/cuda:12'}]\n---\n"
        "kind: Service\nmetadata: {name: infer}\n" % registry.host
    )
    result = run_module(
        {"compose_files": [str(compose)], "k8s_manifests": [str(manifest)], "insecure_registries": [registry.host]}
    )
    legacy, cuda = "%s/team/legacy:1" % registry.host, "%s/nvidia/cuda:12" % registry.host
    worker = "%s/team/legacy:${WORKER}" % registry.host
    assert [row["reference"] for row in result["images"]] == [legacy, worker, cuda]
    assert result["sources"][legacy] == ["%s services.api" % compose]
    assert result["sources"][cuda] == ["%s Deployment/infer containers[server]" % manifest]
    assert by_reference(result)[worker]["error"]["kind"] == "unresolved"
    assert "used in %s services.api" % compose in result["table"]


def test_unreadable_source_file_is_reported_with_its_name(run_module, tmp_path):
    missing = str(tmp_path / "missing.yaml")
    result = run_module({"compose_files": [missing]})
    assert result["_exit_code"] == 0
    assert [(error["path"], error["format"]) for error in result["source_errors"]] == [(missing, "compose")]
    assert "cannot read" in result["source_errors"][0]["message"]
    assert "1 source file could not be read: %s" % missing in result["table"]


def test_non_ascii_tag_is_that_image_s_error_and_the_others_are_checked(run_module, registry):
    images = ["%s/team/legacy:t\u00e4g" % registry.host, "%s/team/legacy:1" % registry.host]
    result = run_module({"images": images, "insecure_registries": [registry.host]})
    assert result["_exit_code"] == 0
    rows = by_reference(result)
    assert rows[images[0]]["error"]["kind"] == "invalid_reference"
    assert "ASCII" in rows[images[0]]["error"]["message"]
    assert rows[images[1]]["supports"] == {"amd64": True, "arm64": False}


def test_sources_that_are_not_utf8_or_not_manifests_are_reported_and_the_rest_is_checked(
    run_module, registry, tmp_path
):
    latin1 = tmp_path / "latin1-compose.yaml"
    latin1.write_bytes(b"services:\n  api: {image: 'caf\xe9:1'}\n")
    good = tmp_path / "compose.yaml"
    good.write_text("services:\n  api: {image: '%s/team/legacy:1'}\n" % registry.host)
    containers_int = tmp_path / "pod.yaml"
    containers_int.write_text("kind: Pod\nmetadata: {name: p}\nspec: {containers: 5}\n")
    items_int = tmp_path / "list.yaml"
    items_int.write_text("kind: List\nitems: 5\n")
    explicit = "%s/nvidia/cuda:12" % registry.host
    result = run_module(
        {
            "images": [explicit],
            "compose_files": [str(latin1), str(good)],
            "k8s_manifests": [str(containers_int), str(items_int)],
            "insecure_registries": [registry.host],
        }
    )
    assert result["_exit_code"] == 0
    errors = {error["path"]: error for error in result["source_errors"]}
    assert sorted(errors) == sorted([str(latin1), str(containers_int), str(items_int)])
    assert "not UTF-8" in errors[str(latin1)]["message"] and "UTF-8" in errors[str(latin1)]["hint"]
    assert "spec.containers is int" in errors[str(containers_int)]["message"]
    assert "items is int" in errors[str(items_int)]["message"]
    assert all(error["hint"] for error in errors.values())
    assert sorted(warning.split(":")[0] for warning in result["_warnings"]) == sorted(
        [str(latin1) + " is not UTF-8 text", str(containers_int), str(items_int)]
    )
    rows = by_reference(result)
    assert rows[explicit]["supports"] == {"amd64": True, "arm64": True}
    assert rows["%s/team/legacy:1" % registry.host]["supports"] == {"amd64": True, "arm64": False}


def test_fail_on_missing_counts_unreadable_sources(run_module, registry, tmp_path):
    broken = tmp_path / "list.yaml"
    broken.write_text("kind: List\nitems: 5\n")
    result = run_module(
        {
            "images": ["%s/nvidia/cuda:12" % registry.host],
            "k8s_manifests": [str(broken)],
            "insecure_registries": [registry.host],
            "fail_on_missing": ["arm64"],
        }
    )
    assert result["failed"] is True
    assert result["msg"] == "images must support arm64: could not read %s" % broken


@pytest.mark.parametrize(
    "args, words",
    [
        ({"images": ["a"], "architectures": ["s390x"]}, "s390x"),
        ({"images": []}, "nothing to check"),
        ({"images": ["a"], "ca_path": "/nonexistent/ca.pem"}, "ca_path"),
        ({"images": ["127.0.0.1:1/a"], "timeout": -1}, "timeout must be at least 1 second, got -1"),
        ({"images": ["127.0.0.1:1/a"], "timeout": 0}, "timeout must be at least 1 second, got 0"),
    ],
)
def test_bad_options_fail_clearly(run_module, args, words):
    result = run_module(args)
    assert result["failed"] is True
    assert words in result["msg"]


@pytest.mark.parametrize("content", [b"not a certificate\n", b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_ca_path_that_is_not_a_pem_bundle_fails_clearly(run_module, tmp_path, content):
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(content)
    result = run_module({"images": ["127.0.0.1:1/a"], "ca_path": str(ca_path)})
    assert result["failed"] is True
    assert result["msg"].startswith("ca_path %s holds no PEM CA certificate" % ca_path)
    assert "-----BEGIN CERTIFICATE-----" in result["msg"]


IMAGE_INSPECT = json.dumps(
    [{"Id": "sha256:" + "e" * 64, "RepoTags": ["app:1"], "RepoDigests": [], "Architecture": "amd64", "Os": "linux"}]
)
MANIFEST_INSPECT = json.dumps(
    [
        {
            "Ref": "127.0.0.1:5000/app:2@sha256:" + "1" * 64,
            "Descriptor": {"digest": "sha256:" + "1" * 64, "platform": {"architecture": "amd64", "os": "linux"}},
        },
        {
            "Ref": "127.0.0.1:5000/app:2@sha256:" + "2" * 64,
            "Descriptor": {"digest": "sha256:" + "2" * 64, "platform": {"architecture": "arm64", "os": "linux"}},
        },
    ]
)


def test_local_source_reads_the_engine_then_the_registry_through_the_cli(run_module):
    docker = Docker(
        [
            ([DOCKER, "image", "inspect", "--", "app:1"], (0, IMAGE_INSPECT, "")),
            ([DOCKER, "image", "inspect", "--", "127.0.0.1:5000/app:2"], (1, "[]\n", NO_SUCH_IMAGE)),
            ([DOCKER, "manifest", "inspect"], (0, MANIFEST_INSPECT, "")),
        ]
    )
    result = run_module(
        {"images": ["app:1", "127.0.0.1:5000/app:2"], "source": "local", "insecure_registries": ["127.0.0.1:5000"]},
        docker,
    )
    rows = by_reference(result)
    assert rows["app:1"]["supports"] == {"amd64": True, "arm64": False}
    assert rows["127.0.0.1:5000/app:2"]["supports"] == {"amd64": True, "arm64": True}
    assert docker.calls == [
        [DOCKER, "image", "inspect", "--", "app:1"],
        [DOCKER, "image", "inspect", "--", "127.0.0.1:5000/app:2"],
        [DOCKER, "manifest", "inspect", "--verbose", "--insecure", "--", "127.0.0.1:5000/app:2"],
    ]


def test_local_source_with_the_daemon_down_reports_each_image(run_module):
    docker = Docker([([DOCKER, "image", "inspect"], (1, "[]\n", NO_DAEMON))])
    result = run_module({"images": ["a:1", "b:1"], "source": "local"}, docker)
    assert result["_exit_code"] == 0
    assert [row["error"]["kind"] for row in result["images"]] == ["local_engine", "local_engine"]
    assert "systemctl start docker" in result["images"][0]["error"]["hint"]


def test_local_source_never_hands_docker_a_reference_that_reads_as_an_option(run_module):
    docker = Docker([([DOCKER, "image", "inspect", "--", "app:1"], (0, IMAGE_INSPECT, ""))])
    result = run_module({"images": ["--host=tcp://attacker.example:2375", "-H", "app:1"], "source": "local"}, docker)
    assert [row["error"]["kind"] if row["error"] else None for row in result["images"]] == [
        "invalid_reference",
        "invalid_reference",
        None,
    ]
    assert docker.calls == [[DOCKER, "image", "inspect", "--", "app:1"]]


def test_local_source_without_docker(run_module):
    result = run_module({"images": ["a:1"], "source": "local"}, Docker([], installed=False))
    assert result["images"][0]["error"]["kind"] == "local_engine"
    assert result["_calls"] == []
