# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local engine's answers, captured on Debian 12 (dockerd 20.10.24+dfsg1, docker CLI 28.2.2) against the
fixture registry of tests/testbed/registry; long fields (Raw, OCIManifest, GraphDriver, ContainerConfig) trimmed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.images.local import (
    LocalEngineError,
    classify_cli_failure,
    image_inspect_command,
    is_missing_locally,
    manifest_inspect_command,
    parse_image_inspect,
    parse_manifest_inspect_verbose,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import platform_text

IMAGE_INSPECT_ARM64 = json.dumps(
    [
        {
            "Id": "sha256:ed5926d48960f186f9ea154f68f0e489d86e213087bbe7dd071f6736ed82c768",
            "RepoTags": ["gpufleet-image-audit/arm64only:test"],
            "RepoDigests": [],
            "Architecture": "arm64",
            "Variant": "v8",
            "Os": "linux",
        }
    ],
    indent=4,
)
# `docker manifest inspect --verbose` of the fixture's multi-arch index: two images, two attestations.
_MULTI_REF = "127.0.0.1:51137/gpufleet/multi:1.0@"
_ENTRIES = [
    (
        "sha256:df4332be14915242786773408fa19e084873d9b09784b1d4360912e679e671c0",
        418,
        {"architecture": "amd64", "os": "linux"},
    ),
    (
        "sha256:063317bdf978022a3faa4fa49f69750187361fec49e707dfdc5ef224916fe4ac",
        485,
        {"architecture": "unknown", "os": "unknown"},
    ),
    (
        "sha256:55d313f26963a3cbad8b8d73c1f16f032dcca1b63c4bd82fe94ca2ce7f14f499",
        418,
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ),
    (
        "sha256:cb8e38e04e2fc754dfdc688f8c5136b4d0bac1bf966d44deea8673a66c953a38",
        485,
        {"architecture": "unknown", "os": "unknown"},
    ),
]
MANIFEST_INSPECT_MULTI = json.dumps(
    [
        {
            "Ref": _MULTI_REF + digest,
            "Descriptor": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": size,
                "platform": platform,
            },
        }
        for digest, size, platform in _ENTRIES
    ]
)
MANIFEST_INSPECT_SINGLE = json.dumps(
    {
        "Ref": "127.0.0.1:51137/gpufleet/amd64only:1.0",
        "Descriptor": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:df4332be14915242786773408fa19e084873d9b09784b1d4360912e679e671c0",
            "size": 418,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
    }
)
# stderr of the docker CLI, captured as described above
NO_SUCH_IMAGE = "Error response from daemon: no such image: nonexistent:1: No such image: nonexistent:1\n"
NO_DAEMON = "Cannot connect to the Docker daemon at unix:///tmp/helperG-none.sock. Is the docker daemon running?\n"
NO_SUCH_MANIFEST = "no such manifest: 127.0.0.1:51137/gpufleet/nope:1.0\n"
NO_CREDENTIALS = 'Get "http://127.0.0.1:47755/v2/gpufleet/private/manifests/1.0": no basic auth credentials\n'
REFUSED = (
    'failed to configure transport: error pinging v2 registry: Get "https://127.0.0.1:1/v2/": dial tcp '
    "127.0.0.1:1: connect: connection refused\n"
)
NO_DNS = (
    'failed to configure transport: error pinging v2 registry: Get "https://registry-1.docker.io/v2/": dial tcp: '
    "lookup registry-1.docker.io on 10.255.255.53:53: no such host\n"
)


def test_image_inspect_gives_the_one_platform_the_engine_holds():
    found = parse_image_inspect(IMAGE_INSPECT_ARM64)
    assert [platform_text(p) for p in found["platforms"]] == ["linux/arm64/v8"]
    assert found["name"] == "gpufleet-image-audit/arm64only:test"
    assert found["digest"] == "sha256:ed5926d48960f186f9ea154f68f0e489d86e213087bbe7dd071f6736ed82c768"


def test_image_inspect_prefers_the_registry_digest():
    image = json.loads(IMAGE_INSPECT_ARM64)
    image[0]["RepoDigests"] = ["127.0.0.1:5000/app@sha256:" + "1" * 64]
    assert parse_image_inspect(json.dumps(image))["digest"] == "sha256:" + "1" * 64


def test_manifest_inspect_of_an_index_skips_attestations():
    found = parse_manifest_inspect_verbose(MANIFEST_INSPECT_MULTI)
    assert [platform_text(p) for p in found["platforms"]] == ["linux/amd64", "linux/arm64/v8"]
    assert found["name"] == "127.0.0.1:51137/gpufleet/multi:1.0"
    assert found["digest"] is None  # the CLI does not print the index's own digest


def test_manifest_inspect_of_a_single_manifest():
    found = parse_manifest_inspect_verbose(MANIFEST_INSPECT_SINGLE)
    assert [platform_text(p) for p in found["platforms"]] == ["linux/amd64"]
    assert found["digest"] == "sha256:df4332be14915242786773408fa19e084873d9b09784b1d4360912e679e671c0"


@pytest.mark.parametrize("parse", [parse_image_inspect, parse_manifest_inspect_verbose])
@pytest.mark.parametrize("stdout", ["", "not json", "[]", '[{"Id": "x"}]'])
def test_unusable_output_is_an_error_not_a_traceback(parse, stdout):
    if parse is parse_manifest_inspect_verbose and stdout == '[{"Id": "x"}]':
        assert parse(stdout)["platforms"] == []
        return
    with pytest.raises(LocalEngineError) as raised:
        parse(stdout)
    assert raised.value.error["kind"] in ("malformed", "not_found")


def test_commands_are_argument_lists_that_end_options_before_the_reference():
    assert image_inspect_command("/usr/bin/docker", "app:1") == ["/usr/bin/docker", "image", "inspect", "--", "app:1"]
    assert manifest_inspect_command("docker", "r:5000/a:1", insecure=True) == [
        "docker",
        "manifest",
        "inspect",
        "--verbose",
        "--insecure",
        "--",
        "r:5000/a:1",
    ]


@pytest.mark.parametrize("build", [image_inspect_command, manifest_inspect_command])
@pytest.mark.parametrize("reference", ["--host=tcp://attacker.example:2375", "-H", " -x", "--"])
def test_a_reference_that_reads_as_an_option_is_refused(build, reference):
    with pytest.raises(LocalEngineError) as raised:
        build("docker", reference)
    assert raised.value.error["kind"] == "invalid_reference"
    assert "option" in raised.value.error["message"]


def test_missing_locally_is_told_apart_from_other_failures():
    assert is_missing_locally(1, NO_SUCH_IMAGE)
    assert not is_missing_locally(1, NO_DAEMON)
    assert not is_missing_locally(0, "")


@pytest.mark.parametrize(
    "stderr, kind, hint_words",
    [
        (NO_DAEMON, "local_engine", "systemctl start docker"),
        (
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
            "local_engine",
            "docker group",
        ),
        (NO_SUCH_MANIFEST, "not_found", "insecure_registries"),
        (NO_CREDENTIALS, "unauthorized", "docker login"),
        (REFUSED, "unreachable", "host and port"),
        (NO_DNS, "unreachable", "DNS"),
        (
            'Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client',
            "tls",
            "insecure_registries",
        ),
        ("something new", "local_engine", "Docker"),
    ],
)
def test_cli_failures_are_classified(stderr, kind, hint_words):
    error = classify_cli_failure(["docker", "manifest", "inspect", "x"], 1, "", stderr)
    assert error["kind"] == kind
    assert hint_words in error["hint"]
    assert stderr.strip() in error["message"]
