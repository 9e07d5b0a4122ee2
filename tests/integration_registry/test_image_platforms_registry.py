# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_platforms and playbooks/image_audit.yml against real registries on 127.0.0.1.

tests/testbed/registry/registry_fixture.py starts Debian's docker-registry four times (anonymous HTTP, Basic
auth, HTTPS with a throwaway CA, Bearer tokens from a realm on another port) and pushes single-arch and
multi-arch images with skopeo. Needs root (apt-get, the fixture's packages) on Debian/Ubuntu; the local-engine
test also needs a running Docker engine.

    .venv/bin/python -m pytest -q tests/integration_registry
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "collections"))

from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import (  # noqa: E402
    platform_text,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.client import (  # noqa: E402
    RegistryClient,
    RegistryError,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.reference import (  # noqa: E402
    parse_reference,
)

FIXTURE = os.path.join(REPO_ROOT, "tests", "testbed", "registry", "registry_fixture.py")
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def registries(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("registries"))
    try:
        path = subprocess.run(
            [sys.executable, FIXTURE, "up", "--state", state], check=True, stdout=subprocess.PIPE, text=True
        ).stdout.strip()
        with open(path) as handle:
            info = json.load(handle)
        info["plain"] = [info["registries"][name]["host"] for name in ("open", "auth")]
        yield info
    finally:
        subprocess.run([sys.executable, FIXTURE, "down", "--state", state], check=False)


def platforms_of(client, reference):
    return [platform_text(p) for p in client.inspect(parse_reference(reference))["platforms"]]


def error_of(client, reference):
    with pytest.raises(RegistryError) as raised:
        client.inspect(parse_reference(reference))
    return raised.value


def test_oci_index_lists_both_platforms_and_no_attestation(registries):
    client = RegistryClient(insecure_registries=registries["plain"])
    assert platforms_of(client, registries["images"]["multi"]) == ["linux/amd64", "linux/arm64/v8"]


def test_docker_manifest_list(registries):
    client = RegistryClient(insecure_registries=registries["plain"])
    found = client.inspect(parse_reference(registries["images"]["dockerlist"]))
    assert found["media_type"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert [platform_text(p) for p in found["platforms"]] == ["linux/amd64", "linux/arm64/v8"]


@pytest.mark.parametrize("name, expected", [("amd64only", ["linux/amd64"]), ("arm64only", ["linux/arm64/v8"])])
def test_single_arch_images_through_their_config_blob(registries, name, expected):
    client = RegistryClient(insecure_registries=registries["plain"])
    assert platforms_of(client, registries["images"][name]) == expected


def test_by_digest_reads_the_same_index(registries):
    client = RegistryClient(insecure_registries=registries["plain"])
    digest = client.inspect(parse_reference(registries["images"]["multi"]))["digest"]
    pinned = "%s@%s" % (registries["images"]["multi"].rsplit(":", 1)[0], digest)
    found = client.inspect(parse_reference(pinned))
    assert found["digest"] == digest
    assert [platform_text(p) for p in found["platforms"]] == ["linux/amd64", "linux/arm64/v8"]


def test_basic_auth_registry(registries):
    private = registries["images"]["private"]
    anonymous = RegistryClient(insecure_registries=registries["plain"])
    wrong = RegistryClient(username=registries["username"], password="wrong", insecure_registries=registries["plain"])
    right = RegistryClient(
        username=registries["username"], password=registries["password"], insecure_registries=registries["plain"]
    )
    assert error_of(anonymous, private).kind == "unauthorized"
    refused = error_of(wrong, private)
    assert refused.kind == "unauthorized" and "refused the given credentials" in refused.message
    assert platforms_of(right, private) == ["linux/amd64", "linux/arm64/v8"]


def test_not_found_and_unreachable(registries):
    client = RegistryClient(insecure_registries=registries["plain"] + ["127.0.0.1:%d" % registries["unused_port"]])
    open_host = registries["registries"]["open"]["host"]
    assert error_of(client, "%s/gpufleet/multi:9.9" % open_host).kind == "not_found"
    assert error_of(client, "%s/gpufleet/nothing:1.0" % open_host).kind == "not_found"
    assert error_of(client, "127.0.0.1:%d/gpufleet/multi:1.0" % registries["unused_port"]).kind == "unreachable"


def test_tls_registry(registries):
    image = registries["images"]["tls"]
    untrusted = error_of(RegistryClient(), image)
    assert untrusted.kind == "tls" and "not trusted" in untrusted.message
    assert platforms_of(RegistryClient(ca_path=registries["ca_cert"]), image) == ["linux/amd64"]
    assert platforms_of(RegistryClient(validate_certs=False), image) == ["linux/amd64"]
    plain = error_of(RegistryClient(insecure_registries=[registries["registries"]["tls"]["host"]]), image)
    assert plain.kind == "tls" and "Remove this registry from insecure_registries" in plain.hint
    https_to_http = error_of(RegistryClient(), registries["images"]["multi"])
    assert https_to_http.kind == "tls" and "insecure_registries" in https_to_http.hint


class RealmRecorder:
    """A token service on the port the token registry names as its realm: records the Authorization header of
    each request and refuses them all (it can issue no token the registry would take; what reached it is the
    point)."""

    def __init__(self, port):
        self.authorizations = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                recorder.authorizations.append(self.headers.get("Authorization"))
                body = b'{"details":"recorded, refused"}'
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.host = "127.0.0.1:%d" % port
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "trusted, plain_http, sent, words",
    [
        (False, True, False, "not on the registry's host"),  # the realm's port is another service
        (True, False, False, "plain HTTP"),  # trusted, but the password would cross the network in clear
        (True, True, True, "refused the given credentials"),  # both allowed by the user: sent
    ],
)
def test_credentials_reach_a_realm_on_another_port_only_when_trusted(registries, trusted, plain_http, sent, words):
    token_host = registries["registries"]["token"]["host"]
    with RealmRecorder(registries["token_realm_port"]) as realm:
        client = RegistryClient(
            username=registries["username"],
            password=registries["password"],
            insecure_registries=[token_host] + ([realm.host] if plain_http else []),
            trusted_realm_hosts=[realm.host] if trusted else [],
        )
        error = error_of(client, registries["images"]["token"])
    assert error.kind == "unauthorized" and words in error.message, error.message
    assert len(realm.authorizations) == 1  # the token request is made either way, anonymously when withheld
    if sent:
        expected = "%s:%s" % (registries["username"], registries["password"])
        assert base64.b64decode(realm.authorizations[0].split(" ", 1)[1]).decode() == expected
    else:
        assert realm.authorizations == [None]
        assert "credentials were not sent" in error.message


def write_audit_inputs(folder, registries):
    open_host = registries["registries"]["open"]["host"]
    compose = os.path.join(folder, "compose.yaml")
    with open(compose, "w") as handle:
        handle.write(
            "services:\n"
            "  trainer:\n    image: %s/gpufleet/multi:1.0\n"
            "  legacy:\n    image: %s/gpufleet/amd64only:${LEGACY_TAG:-1.0}\n"
            "  web:\n    build: ./web\n" % (open_host, open_host)
        )
    k8s = os.path.join(folder, "inference.yaml")
    with open(k8s, "w") as handle:
        handle.write(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: inference}\nspec:\n  template:\n    spec:\n"
            "      initContainers: [{name: fetch-model, image: %s/gpufleet/arm64only:1.0}]\n"
            "      containers: [{name: server, image: %s/gpufleet/dockerlist:1.0}]\n"
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: inference}\n" % (open_host, open_host)
        )
    unused = "127.0.0.1:%d" % registries["unused_port"]
    audit_vars = {
        "image_audit_images": [
            registries["images"]["multi"],
            registries["images"]["private"],
            "%s/gpufleet/retired:1.0" % open_host,
            "%s/gpufleet/multi:1.0" % unused,
        ],
        "image_audit_compose_files": [compose],
        "image_audit_k8s_manifests": [k8s],
        "image_audit_insecure_registries": registries["plain"] + [unused],
        "image_audit_required_architectures": ["arm64"],
        "image_audit_report_dir": os.path.join(folder, "report"),
    }
    path = os.path.join(folder, "audit-vars.json")
    with open(path, "w") as handle:
        json.dump(audit_vars, handle)
    return path, audit_vars


def run_playbook(vars_path, *extra):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/image_audit.yml", "-e", "@" + vars_path] + list(extra),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def test_audit_playbook_writes_json_and_table_and_fails_on_missing_arm64(registries, tmp_path):
    vars_path, audit_vars = write_audit_inputs(str(tmp_path), registries)
    report = audit_vars["image_audit_report_dir"]
    checked = run_playbook(vars_path, "--check")
    assert checked.returncode == 2, checked.stdout  # check mode reads the registries and judges the same
    assert not os.path.exists(os.path.join(report, "image-audit.json")), "check mode wrote the report"
    first = run_playbook(vars_path)
    assert first.returncode == 2, first.stdout  # the assert on arm64 fails, after the report is written
    assert "Images without a required architecture" in first.stdout

    with open(os.path.join(report, "image-audit.json")) as handle:
        result = json.load(handle)
    rows = {row["reference"]: row for row in result["images"]}
    open_host = registries["registries"]["open"]["host"]
    amd64only = "%s/gpufleet/amd64only:1.0" % open_host
    arm64only = "%s/gpufleet/arm64only:1.0" % open_host
    assert result["missing"] == {"amd64": [arm64only], "arm64": [amd64only]}
    assert rows[registries["images"]["multi"]]["supports"] == {"amd64": True, "arm64": True}
    assert rows[registries["images"]["private"]]["error"]["kind"] == "unauthorized"
    assert rows["%s/gpufleet/retired:1.0" % open_host]["error"]["kind"] == "not_found"
    assert rows[audit_vars["image_audit_images"][3]]["error"]["kind"] == "unreachable"
    assert result["sources"][arm64only] == [
        "%s Deployment/inference initContainers[fetch-model]" % audit_vars["image_audit_k8s_manifests"][0]
    ]
    with open(os.path.join(report, "image-audit.md")) as handle:
        table = handle.read()
    assert "| %s | yes | NO | linux/amd64 |" % amd64only in table
    assert "1 of 7 images have no arm64 variant" in table
    print("\n" + table)  # shown with pytest -s; the closing note quotes it

    second = run_playbook(vars_path)
    assert "changed=0" in second.stdout, second.stdout  # the same registries give the same report


def test_audit_with_credentials_passes_when_every_image_has_arm64(registries, tmp_path):
    audit_vars = {
        "image_audit_images": [registries["images"]["multi"], registries["images"]["private"]],
        "image_audit_insecure_registries": registries["plain"],
        "image_audit_registry_username": registries["username"],
        "image_audit_registry_password": registries["password"],
        "image_audit_credential_registries": [registries["registries"]["auth"]["host"]],
        "image_audit_required_architectures": ["aarch64", "x86_64"],
        "image_audit_report_dir": str(tmp_path / "report"),
    }
    vars_path = str(tmp_path / "vars.json")
    with open(vars_path, "w") as handle:
        json.dump(audit_vars, handle)
    run = run_playbook(vars_path)
    assert run.returncode == 0, run.stdout
    assert registries["password"] not in run.stdout
    with open(str(tmp_path / "report" / "image-audit.json")) as handle:
        assert json.load(handle)["missing"] == {"amd64": [], "arm64": []}


def docker_works():
    return (
        shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    )


@pytest.mark.skipif(not docker_works(), reason="no running Docker engine for source: local")
def test_local_engine_source(registries, tmp_path):
    local_name = "gpufleet-image-audit-test/arm64only:%d" % os.getpid()
    layout = registries["layouts"]["arm64only"]
    subprocess.run(["skopeo", "copy", "--quiet", "oci:%s:1.0" % layout, "docker-daemon:" + local_name], check=True)
    try:
        args = json.dumps(
            {
                "images": [local_name, registries["images"]["multi"]],
                "source": "local",
                "insecure_registries": registries["plain"],
            }
        )
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
        run = subprocess.run(
            [os.path.join(BIN, "ansible"), "localhost", "-m", "gpufleet.containers.image_platforms", "-a", args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    finally:
        subprocess.run(["docker", "image", "rm", local_name], capture_output=True, check=False)
    rows = {row["reference"]: row for row in result["images"]}
    assert rows[local_name]["supports"] == {"amd64": False, "arm64": True}
    assert [p["platform"] for p in rows[local_name]["platforms"]] == ["linux/arm64/v8"]
    # not held by the engine: asked through `docker manifest inspect --insecure`, attestations left out
    assert [p["platform"] for p in rows[registries["images"]["multi"]]["platforms"]] == [
        "linux/amd64",
        "linux/arm64/v8",
    ]
