# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry client over real HTTP on 127.0.0.1, against the scripted stub in tests/testbed/registry.

The stub stands in where Debian's docker-registry cannot: Bearer token services, redirects, odd answers. The same
client against the real registry is tests/integration_registry."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import importlib.util
import os
import socket
import ssl

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.registry.client import (
    ClientOptionError,
    RegistryClient,
    RegistryError,
    _connection_error,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.reference import parse_reference

STUB_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "testbed", "registry", "stub_registry.py")
_spec = importlib.util.spec_from_file_location("gpufleet_stub_registry", STUB_PATH)
stub_registry = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stub_registry)
StubRegistry = stub_registry.StubRegistry

# docker-registry 2.8.2's answer to an anonymous request on an htpasswd-protected repository, captured from the
# fixture registry (tests/testbed/registry).
DISTRIBUTION_401_BODY = (
    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository",'
    b'"Class":"","Name":"gpufleet/private","Action":"pull"}]}]}\n'
)


def index_of(*platforms):
    return {
        "schemaVersion": 2,
        "mediaType": stub_registry.OCI_INDEX,
        "manifests": [
            {"mediaType": stub_registry.OCI_MANIFEST, "digest": "sha256:%064d" % number, "size": 1, "platform": p}
            for number, p in enumerate(platforms)
        ],
    }


def client_for(stub, **kwargs):
    return RegistryClient(insecure_registries=[stub.host], timeout=5, **kwargs)


def inspect(client, reference):
    return client.inspect(parse_reference(reference))


def failure(client, reference):
    with pytest.raises(RegistryError) as raised:
        inspect(client, reference)
    return raised.value


def test_multi_arch_index_over_http():
    with StubRegistry() as stub:
        digest = stub.add_json(
            "nvidia/cuda",
            "12",
            index_of({"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64"}),
            stub_registry.OCI_INDEX,
        )
        found = inspect(client_for(stub), "%s/nvidia/cuda:12" % stub.host)
    assert found["platforms"] == [{"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64"}]
    assert found["digest"] == digest
    assert found["media_type"] == stub_registry.OCI_INDEX
    assert stub_registry.OCI_INDEX in stub.accepts[0] and "manifest.list.v2+json" in stub.accepts[0]
    assert stub.requests[0][1] == "/v2/nvidia/cuda/manifests/12"


def test_single_arch_reads_the_config_blob_through_the_storage_redirect():
    with StubRegistry() as stub:
        stub.add_single("team/app", "1", "arm64", "v8")
        found = inspect(client_for(stub), "%s/team/app:1" % stub.host)
    assert found["platforms"] == [{"os": "linux", "architecture": "arm64", "variant": "v8"}]
    assert [path.split("/")[1] for _method, path, _authorization in stub.requests] == ["v2", "v2", "storage"]


def test_digest_reference_fetches_by_digest():
    with StubRegistry() as stub:
        digest = stub.add_single("team/app", "1", "amd64")
        found = inspect(client_for(stub), "%s/team/app@%s" % (stub.host, digest))
    assert stub.requests[0][1] == "/v2/team/app/manifests/" + digest
    assert found["digest"] == digest


def test_bearer_flow_with_credentials_and_no_token_leak_to_storage():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as stub:
        stub.add_single("private/app", "1", "amd64")
        client = client_for(stub, username="robot", password="s3cret")
        found = inspect(client, "%s/private/app:1" % stub.host)
    assert found["platforms"] == [{"os": "linux", "architecture": "amd64"}]
    paths = [(path.split("?")[0], authorization) for _method, path, authorization in stub.requests]
    assert paths[0] == ("/v2/private/app/manifests/1", None)
    assert paths[1][0] == "/token" and paths[1][1].startswith("Basic ")
    assert paths[2] == ("/v2/private/app/manifests/1", "Bearer " + stub.token)
    assert paths[3] == ("/v2/private/app/blobs/" + found_config_digest(stub), "Bearer " + stub.token)
    assert paths[4][0].startswith("/storage/") and paths[4][1] is None
    token_query = stub.requests[1][1].split("?", 1)[1]
    assert "service=stub-registry" in token_query and "scope=repository%3Aprivate%2Fapp%3Apull" in token_query


def found_config_digest(stub):
    return next(iter(stub.blobs))


def test_token_is_reused_for_the_next_image_of_the_same_repository():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as stub:
        stub.add_single("private/app", "1", "amd64")
        stub.add_single("private/app", "2", "arm64")
        client = client_for(stub, username="robot", password="s3cret")
        inspect(client, "%s/private/app:1" % stub.host)
        inspect(client, "%s/private/app:2" % stub.host)
    assert sum(1 for _method, path, _authorization in stub.requests if path.startswith("/token")) == 1


def test_wrong_credentials_at_the_token_service_are_unauthorized():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as stub:
        stub.add_single("private/app", "1", "amd64")
        error = failure(client_for(stub, username="robot", password="wrong"), "%s/private/app:1" % stub.host)
    assert error.kind == "unauthorized"
    assert "refused the given credentials" in error.message


def test_anonymous_token_without_pull_rights_is_unauthorized():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as stub:
        stub.add_single("private/app", "1", "amd64")
        error = failure(client_for(stub), "%s/private/app:1" % stub.host)
    assert error.kind == "unauthorized"
    assert "anonymous access" in error.message


def test_basic_auth_without_credentials_names_the_realm():
    with StubRegistry(auth="basic", credentials=("u", "p")) as stub:
        stub.add_single("a/b", "1", "amd64")
        error = failure(client_for(stub), "%s/a/b:1" % stub.host)
        found = inspect(client_for(stub, username="u", password="p"), "%s/a/b:1" % stub.host)
    assert error.kind == "unauthorized"
    assert "Basic realm 'stub'" in error.message
    assert found["platforms"] == [{"os": "linux", "architecture": "amd64"}]


def test_credentials_go_only_to_the_registries_named_for_them():
    with StubRegistry(auth="basic", credentials=("u", "p")) as stub:
        stub.add_single("a/b", "1", "amd64")
        client = client_for(stub, username="u", password="p", credential_hosts=["registry.example.com"])
        error = failure(client, "%s/a/b:1" % stub.host)
    assert error.kind == "unauthorized"
    assert all(authorization is None for _method, _path, authorization in stub.requests)


def test_missing_tag_and_missing_repository_are_not_found():
    with StubRegistry() as stub:
        stub.add_single("team/app", "1", "amd64")
        tag = failure(client_for(stub), "%s/team/app:2" % stub.host)
        repository = failure(client_for(stub), "%s/team/nothing:1" % stub.host)
    assert (tag.kind, repository.kind) == ("not_found", "not_found")
    assert "MANIFEST_UNKNOWN" in tag.message
    assert repository.message.startswith("repository not found") and "NAME_UNKNOWN" in repository.message


def test_captured_distribution_401_body_is_quoted_in_the_error():
    with StubRegistry() as stub:
        stub.raw_answers["/v2/gpufleet/private/manifests/1.0"] = (
            401,
            DISTRIBUTION_401_BODY,
            [("WWW-Authenticate", 'Basic realm="gpufleet-test"'), ("Content-Type", "application/json")],
        )
        error = failure(client_for(stub, username="u", password="p"), "%s/gpufleet/private:1.0" % stub.host)
    assert error.kind == "unauthorized"
    assert "UNAUTHORIZED: authentication required" in error.message


@pytest.mark.parametrize(
    "status, body, headers, kind, words",
    [
        (
            429,
            b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}',
            [],
            "rate_limited",
            "pull rate limit",
        ),
        (500, b"oops", [], "registry_error", "HTTP 500"),
        (400, b"Client sent an HTTP request to an HTTPS server.\n", [], "tls", "speaks HTTPS"),
        (200, b"<html><body>Proxy login</body></html>", [("Content-Type", "text/html")], "malformed", "not JSON"),
        (200, b'{"hello": "world"}', [("Content-Type", "application/json")], "malformed", "neither an image index"),
        (401, b"", [], "unauthorized", "named no way to authenticate"),
        (
            403,
            b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
            [],
            "unauthorized",
            "DENIED",
        ),
    ],
)
def test_odd_answers_become_errors_of_a_kind(status, body, headers, kind, words):
    with StubRegistry() as stub:
        stub.raw_answers["/v2/x/y/manifests/1"] = (status, body, headers)
        error = failure(client_for(stub), "%s/x/y:1" % stub.host)
    assert error.kind == kind
    assert words in error.message


def test_config_blob_that_is_not_json_is_malformed():
    with StubRegistry() as stub:
        stub.add_single("x/y", "1", "amd64")
        digest = next(iter(stub.blobs))
        stub.blobs[digest] = b"\x1f\x8b binary"
        error = failure(client_for(stub), "%s/x/y:1" % stub.host)
    assert error.kind == "malformed"
    assert "config blob" in error.message


def test_artifact_with_a_non_image_config_is_not_an_image():
    with StubRegistry() as stub:
        config = stub.add_blob({"name": "chart", "version": "0.1.0"})  # synthetic Helm chart config
        manifest = {"schemaVersion": 2, "mediaType": stub_registry.OCI_MANIFEST, "config": config, "layers": []}
        stub.add_json("charts/app", "0.1.0", manifest, stub_registry.OCI_MANIFEST)
        error = failure(client_for(stub), "%s/charts/app:0.1.0" % stub.host)
    assert error.kind == "not_an_image"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nothing_listening_is_unreachable():
    port = free_port()
    error = failure(RegistryClient(insecure_registries=["127.0.0.1:%d" % port], timeout=5), "127.0.0.1:%d/a:1" % port)
    assert error.kind == "unreachable"
    assert "refused" in error.message


def test_unresolvable_host_is_unreachable():
    # .invalid never resolves (RFC 6761), with or without a network.
    error = failure(RegistryClient(timeout=5), "registry.invalid/a:1")
    assert error.kind == "unreachable"
    assert "cannot resolve" in error.message


def test_https_to_a_plain_http_registry_is_a_tls_error_with_the_fix():
    with StubRegistry() as stub:
        stub.add_single("a/b", "1", "amd64")
        error = failure(RegistryClient(timeout=5), "%s/a/b:1" % stub.host)
    assert error.kind == "tls"
    assert "insecure_registries" in error.hint


@pytest.mark.parametrize(
    "reason, kind",
    [
        (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "tls"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls"),
        (socket.timeout("timed out"), "timeout"),
        (TimeoutError("timed out"), "timeout"),
        (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
        (socket.gaierror(-2, "Name or service not known"), "unreachable"),
        (http.client.BadStatusLine("\x15\x03\x01"), "unreachable"),
        (ConnectionResetError(104, "Connection reset by peer"), "unreachable"),
    ],
)
def test_connection_failures_are_classified(reason, kind):
    assert _connection_error("https://r.example/v2/a/manifests/1", reason).kind == kind


def test_a_realm_url_that_cannot_be_sent_is_an_error_of_that_image():
    with StubRegistry() as stub:
        realm = 'Bearer realm="http://%s/t\u00f6ken"' % stub.host
        stub.raw_answers["/v2/x/y/manifests/1"] = (401, b"", [("WWW-Authenticate", realm)])
        error = failure(client_for(stub), "%s/x/y:1" % stub.host)
    assert error.kind == "malformed"
    assert "cannot be sent" in error.message


@pytest.mark.parametrize("timeout", [-1, 0, True, "30"])
def test_a_timeout_below_one_second_is_refused_up_front(timeout):
    with pytest.raises(ClientOptionError, match="timeout must be at least 1 second"):
        RegistryClient(timeout=timeout)


def authorizations_seen(stub):
    return [authorization for _method, _path, authorization in stub.requests]


def test_credentials_are_not_sent_to_a_token_service_on_another_host():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as collector, StubRegistry(
        auth="bearer", credentials=("robot", "s3cret"), realm="http://%s/token" % collector.host
    ) as registry:
        registry.add_single("private/app", "1", "amd64")
        client = RegistryClient(
            username="robot",
            password="s3cret",
            insecure_registries=[registry.host, collector.host],
            timeout=5,
        )
        error = failure(client, "%s/private/app:1" % registry.host)
    assert authorizations_seen(collector) == [None]  # the token request went, anonymously
    assert error.kind == "unauthorized"
    assert "credentials were not sent" in error.message and "trusted_realm_hosts" in error.message
    assert "trusted_realm_hosts" in error.hint
    assert "not on the registry's host" in client.credentials_withheld(
        parse_reference("%s/private/app:1" % registry.host)
    )


def test_a_trusted_realm_host_gets_the_credentials():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as token_service, StubRegistry(
        auth="bearer", credentials=("robot", "s3cret"), realm="http://%s/token" % token_service.host
    ) as registry:
        registry.add_single("private/app", "1", "amd64")
        client = RegistryClient(
            username="robot",
            password="s3cret",
            insecure_registries=[registry.host, token_service.host],
            trusted_realm_hosts=[token_service.host],
            timeout=5,
        )
        found = inspect(client, "%s/private/app:1" % registry.host)
    assert found["platforms"] == [{"os": "linux", "architecture": "amd64"}]
    assert authorizations_seen(token_service)[0].startswith("Basic ")
    assert client.credentials_withheld(parse_reference("%s/private/app:1" % registry.host)) is None


def test_credentials_are_not_sent_to_a_plain_http_token_service_not_allowed_plain_http():
    with StubRegistry(auth="bearer", credentials=("robot", "s3cret")) as token_service, StubRegistry(
        auth="bearer", credentials=("robot", "s3cret"), realm="http://%s/token" % token_service.host, public=True
    ) as registry:
        registry.add_single("public/app", "1", "arm64")
        client = RegistryClient(
            username="robot",
            password="s3cret",
            insecure_registries=[registry.host],
            trusted_realm_hosts=[token_service.host],
            timeout=5,
        )
        reference = "%s/public/app:1" % registry.host
        found = inspect(client, reference)
    # A public image still reads with the anonymous token, and the client says why the credentials stayed home.
    assert found["platforms"] == [{"os": "linux", "architecture": "arm64"}]
    assert authorizations_seen(token_service) == [None]
    assert "plain HTTP" in client.credentials_withheld(parse_reference(reference))


def test_nothing_is_withheld_without_credentials():
    with StubRegistry(auth="bearer", realm="http://127.0.0.1:%d/token" % free_port()) as registry:
        client = RegistryClient(insecure_registries=[registry.host], timeout=5)
        reference = parse_reference("%s/public/app:1" % registry.host)
        failure(client, reference.original)
    assert client.credentials_withheld(reference) is None
