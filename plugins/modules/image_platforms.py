#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_platforms
short_description: Report which platforms container images support, and whether they run on amd64 and arm64
version_added: 0.1.0
description:
  - For each image reference, reports the platforms (C(os/architecture/variant)) it is published for and whether
    it runs on each architecture in O(architectures); an image built only for x86_64 fails on an arm64 host with
    C(exec format error).
  - With O(source=registry) it reads the registry over the Registry HTTP API v2 (OCI distribution API) with the
    Python standard library. A multi-arch image's platforms come from its OCI image index or Docker manifest
    list; a single-arch image's from its manifest's config blob. Attestation entries that BuildKit adds to an
    index (platform C(unknown/unknown)) are not counted as platforms.
  - References follow Docker's rules, so V(ubuntu) is C(docker.io/library/ubuntu:latest), read from
    C(registry-1.docker.io); a reference with C(@sha256:...) is read by that digest.
  - Registries that ask for a token with a C(Bearer) challenge in C(WWW-Authenticate), as Docker Hub, ghcr.io
    and nvcr.io do, get one from the token service they name, anonymously or with O(registry_username) and
    O(registry_password); registries that ask for Basic authentication get the credentials directly.
  - The credentials go to a token service only on the registry's own host (Docker Hub's C(auth.docker.io) for
    C(docker.io)) or on a host in O(trusted_realm_hosts), and only over HTTPS unless that host is in
    O(insecure_registries); a registry can name any URL as its token service. Otherwise the token is asked for
    anonymously, RV(images[].credentials_withheld) says why, and the module warns.
  - With O(source=local) it asks the Docker engine on the target host with C(docker image inspect), which knows
    the one platform the engine holds for that name, and for images the engine does not hold,
    C(docker manifest inspect --verbose), which asks the registry with the host's own C(docker login) credentials.
  - A failure for one image (bad reference, unauthorized, not found, unreachable registry, TLS failure, an answer
    that is not a manifest) is reported in that image's RV(images[].error) with a kind, a message and a hint,
    and the other images are still checked. The module fails only on bad options and with O(fail_on_missing).
  - Images can also be collected from docker compose files (O(compose_files)) and Kubernetes manifests
    (O(k8s_manifests)); RV(sources) says where each was found. A file that cannot be read, is not UTF-8, is not
    YAML or has a field of the wrong type (such as a number for C(containers)) is reported in RV(source_errors)
    and as a warning, and the other files and images are still checked.
  - Reads only; C(changed) is always false.
author: gpufleet maintainers (@gpufleet)
options:
  images:
    description: Image references to check, as C(docker pull) takes them.
    type: list
    elements: str
    default: []
  compose_files:
    description:
      - Docker compose files (on the host the module runs on) whose C(services.*.image) are checked too.
      - C(${VAR:-default}) takes the default written in the file; a variable without one leaves the image
        unchecked with error kind C(unresolved).
    type: list
    elements: path
    default: []
  k8s_manifests:
    description:
      - Kubernetes manifest files (multi-document YAML allowed) whose containers, initContainers and
        ephemeralContainers images are checked too, from Pods, Deployments, ReplicaSets, StatefulSets,
        DaemonSets, Jobs and CronJobs.
    type: list
    elements: path
    default: []
  architectures:
    description:
      - Architectures to report on, in any spelling the collection knows (V(amd64)/V(x86_64),
        V(arm64)/V(aarch64)/V(linux/arm64/v8)); results use the Debian names V(amd64) and V(arm64).
    type: list
    elements: str
    default: [amd64, arm64]
  source:
    description: Where to read platforms from.
    type: str
    choices: [registry, local]
    default: registry
  registry_username:
    description: User for registries that ask for credentials.
    type: str
  registry_password:
    description: Password or token for O(registry_username).
    type: str
  credential_registries:
    description:
      - Registries (as written in references, for example V(nvcr.io), V(127.0.0.1:5000)) that O(registry_username)
        and O(registry_password) are for. Other registries are asked anonymously.
      - Empty means every registry that asks; name the registry when auditing images from several.
    type: list
    elements: str
    default: []
  trusted_realm_hosts:
    description:
      - Hosts (C(host) or C(host:port)) of token services that may receive O(registry_username) and
        O(registry_password) although they are not on the registry's own host, for example V(gitlab.com) for
        C(registry.gitlab.com).
      - A host without a port stands for ports 443 and 80; another port must be named.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  insecure_registries:
    description:
      - Registries (C(host:port)) spoken to in plain HTTP, like Docker's C(insecure-registries).
      - Registries and token services listed here may receive the credentials over plain HTTP.
      - With O(source=local) these get C(docker manifest inspect --insecure).
    type: list
    elements: str
    default: []
  validate_certs:
    description: Check registries' TLS certificates. Prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of CA certificates to trust for registries, instead of the system's.
      - The module fails up front when the file holds no PEM certificate.
    type: path
  timeout:
    description: Seconds to wait for each registry answer; at least 1.
    type: int
    default: 30
  fail_on_missing:
    description:
      - Architectures every image must support. The module fails, listing the images without them, the
        images that could not be checked and the source files that could not be read, after reporting every
        image.
    type: list
    elements: str
    default: []
  docker_bin:
    description: Docker CLI to use with O(source=local).
    type: str
    default: docker
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads, so it asks the same registries in check mode and reports the same result.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Run it on the controller (delegated to localhost) to audit from there, or on a host to check what that host
    can reach and what its engine holds. C(playbooks/image_audit.yml) writes the result as JSON and a table.
  - Docker Hub answers C(unauthorized) for repositories that do not exist as well as for private ones.
"""

EXAMPLES = r"""
- name: Check the CUDA image runs on both architectures of the fleet
  gpufleet.containers.image_platforms:
    images:
      - nvidia/cuda:12.4.1-base-ubuntu22.04
    fail_on_missing: [arm64, amd64]
  delegate_to: localhost

- name: Audit a compose file and Kubernetes manifests against a private registry
  gpufleet.containers.image_platforms:
    compose_files: [/srv/app/compose.yaml]
    k8s_manifests: [/srv/app/k8s/deployment.yaml]
    registry_username: robot
    registry_password: "{{ vault_registry_token }}"
    credential_registries: [registry.example.com]
  register: audit

- name: A GitLab registry, whose token service is on gitlab.com
  gpufleet.containers.image_platforms:
    images: [registry.gitlab.com/team/trainer:2.0]
    registry_username: ci-reader
    registry_password: "{{ vault_gitlab_token }}"
    credential_registries: [registry.gitlab.com]
    trusted_realm_hosts: [gitlab.com]

- name: What the engine on this host holds
  gpufleet.containers.image_platforms:
    images: [myapp:latest]
    source: local
"""

RETURN = r"""
images:
  description: One entry per image, in the order given (explicit images first, then those found in files).
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The reference as given.
      type: str
    name:
      description: The fully qualified name, for example C(docker.io/library/ubuntu:latest); null if unparsable.
      type: str
    digest:
      description: Digest of the index or manifest the tag points at (with O(source=local), the registry digest
        the engine recorded, or the local image ID).
      type: str
    media_type:
      description: Media type of what the tag points at (index, manifest list or single manifest).
      type: str
    multi_arch:
      description: Whether more than one platform is published.
      type: bool
    platforms:
      description: Published platforms, attestations left out.
      type: list
      elements: dict
      sample: [{"os": "linux", "architecture": "arm64", "variant": "v8", "platform": "linux/arm64/v8"}]
    supports:
      description: Architecture -> whether the image runs there natively; null when the image could not be
        checked.
      type: dict
      sample: {"amd64": true, "arm64": false}
    error:
      description: Why the image could not be checked, or null.
      type: dict
      sample: {"kind": "not_found", "message": "tag or digest not found at ...", "hint": "Check the repository..."}
    credentials_withheld:
      description: Why O(registry_username) and O(registry_password) were not sent to the token service this
        image's registry named (another host, or plain HTTP), and how to allow it; null when they were sent or
        there were none to send.
      type: str
      sample: "the token service auth.example.net is not on the registry's host (registry.example.com, ...); ..."
  sample:
    - reference: nvidia/cuda:12.4.1-base-ubuntu22.04
      name: docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04
      multi_arch: true
      supports: {"amd64": true, "arm64": true}
      error: null
missing:
  description: Architecture -> references of checked images that have no variant for it.
  returned: always
  type: dict
  sample: {"amd64": [], "arm64": ["registry.example.com/legacy/app:2.1"]}
unchecked:
  description: References that could not be checked (their RV(images[].error) says why).
  returned: always
  type: list
  elements: str
sources:
  description: Reference -> where it was found in O(compose_files) and O(k8s_manifests).
  returned: always
  type: dict
  sample: {"redis:7": ["compose.yaml services.cache"]}
source_errors:
  description: The files of O(compose_files) and O(k8s_manifests) that gave no images, each with why and the fix.
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    path:
      description: The file as given.
      type: str
    format:
      description: V(compose) or V(k8s).
      type: str
    message:
      description: What is wrong with the file.
      type: str
    hint:
      description: How to fix it.
      type: str
  sample:
    - path: /srv/app/k8s/pod.yaml
      format: k8s
      message: "/srv/app/k8s/pod.yaml: Pod/infer spec.containers is int, not a list"
      hint: "Write it as a YAML list of entries (`- name: ...`), as the Kubernetes API expects."
table:
  description: The result as a Markdown table, with a count per architecture.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import UnsupportedArchitecture
from ansible_collections.gpufleet.containers.plugins.module_utils.images.local import (
    LocalEngineError,
    classify_cli_failure,
    image_inspect_command,
    is_missing_locally,
    manifest_inspect_command,
    parse_image_inspect,
    parse_manifest_inspect_verbose,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import (
    canonical_architectures,
    image_error,
    image_result,
    missing_by_architecture,
    render_table,
    source_error,
    unchecked,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.images.sources import (
    SourceError,
    merge_images,
    read_source,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.client import (
    ClientOptionError,
    RegistryClient,
    RegistryError,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.reference import (
    InvalidReference,
    parse_reference,
)

C_ENV = {"LC_ALL": "C", "LANG": "C"}


def read_sources(module):
    """-> (found images, source errors): a file that gives no images is reported, and the others are still read."""
    found, errors = [], []
    for kind, paths in (("compose", module.params["compose_files"]), ("k8s", module.params["k8s_manifests"])):
        for path in paths:
            try:
                found.extend(read_source(kind, path))
            except SourceError as error:
                errors.append(source_error(path, kind, str(error), error.hint))
            except ImportError:
                module.fail_json(msg="reading %s needs PyYAML (python3-yaml) on the host the module runs on" % path)
    return found, errors


def inspect_local(module, parsed):
    reference = parsed.original  # as written, trimmed: what `docker pull` would be given
    docker = module.get_bin_path(module.params["docker_bin"])
    if not docker:
        raise LocalEngineError(image_error("local_engine", "%s not found on this host" % module.params["docker_bin"]))
    command = image_inspect_command(docker, reference)
    rc, stdout, stderr = module.run_command(command, environ_update=C_ENV)
    if rc == 0:
        return parse_image_inspect(stdout)
    if not is_missing_locally(rc, stderr):
        raise LocalEngineError(classify_cli_failure(command, rc, stdout, stderr))
    insecure = parsed.domain in module.params["insecure_registries"]
    command = manifest_inspect_command(docker, reference, insecure)
    rc, stdout, stderr = module.run_command(command, environ_update=C_ENV)
    if rc != 0:
        raise LocalEngineError(classify_cli_failure(command, rc, stdout, stderr))
    return parse_manifest_inspect_verbose(stdout)


def check_image(module, client, reference, architectures, unresolved):
    if reference in unresolved:
        message = "variable ${%s} has no default in the file" % unresolved[reference]
        return image_result(reference, architectures, error=image_error("unresolved", message))
    try:
        parsed = parse_reference(reference)
    except InvalidReference as error:
        return image_result(reference, architectures, error=image_error("invalid_reference", str(error)))
    try:
        if client is None:
            found = inspect_local(module, parsed)
        else:
            found = client.inspect(parsed)
            found["name"] = parsed.name
    except RegistryError as error:
        return image_result(
            reference,
            architectures,
            name=parsed.name,
            error=image_error(error.kind, error.message, error.hint),
            credentials_withheld=client.credentials_withheld(parsed),
        )
    except LocalEngineError as error:
        return image_result(reference, architectures, name=parsed.name, error=error.error)
    return image_result(
        reference,
        architectures,
        name=found.get("name") or parsed.name,
        digest=found.get("digest"),
        media_type=found.get("media_type"),
        platforms=found["platforms"],
        credentials_withheld=client.credentials_withheld(parsed) if client else None,
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type="list", elements="str", default=[]),
            compose_files=dict(type="list", elements="path", default=[]),
            k8s_manifests=dict(type="list", elements="path", default=[]),
            architectures=dict(type="list", elements="str", default=["amd64", "arm64"]),
            source=dict(type="str", choices=["registry", "local"], default="registry"),
            registry_username=dict(type="str"),
            registry_password=dict(type="str", no_log=True),
            credential_registries=dict(type="list", elements="str", default=[]),
            trusted_realm_hosts=dict(type="list", elements="str", default=[]),
            insecure_registries=dict(type="list", elements="str", default=[]),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=30),
            fail_on_missing=dict(type="list", elements="str", default=[]),
            docker_bin=dict(type="str", default="docker"),
        ),
        required_together=[("registry_username", "registry_password")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        architectures = canonical_architectures(params["architectures"])
        required = canonical_architectures(params["fail_on_missing"])
    except UnsupportedArchitecture as error:
        module.fail_json(msg=str(error))
    for arch in required:
        if arch not in architectures:
            architectures.append(arch)
    if params["ca_path"] and not os.path.isfile(params["ca_path"]):
        module.fail_json(msg="ca_path %s is not a file" % params["ca_path"])

    if not params["images"] and not params["compose_files"] and not params["k8s_manifests"]:
        module.fail_json(msg="nothing to check: give images, compose_files or k8s_manifests")

    client = None
    if params["source"] == "registry":
        try:
            client = RegistryClient(
                username=params["registry_username"],
                password=params["registry_password"],
                credential_hosts=params["credential_registries"],
                trusted_realm_hosts=params["trusted_realm_hosts"],
                insecure_registries=params["insecure_registries"],
                validate_certs=params["validate_certs"],
                ca_path=params["ca_path"],
                timeout=params["timeout"],
            )
        except ClientOptionError as error:
            module.fail_json(msg=str(error))
    found, source_errors = read_sources(module)
    for error in source_errors:
        module.warn("%s: %s" % (error["message"], error["hint"]))
    images, sources, unresolved = merge_images(params["images"], found)
    results = [check_image(module, client, image, architectures, unresolved) for image in images]
    withheld = []
    for row in results:
        if row["credentials_withheld"] and row["credentials_withheld"] not in withheld:
            withheld.append(row["credentials_withheld"])
            module.warn("credentials were not sent: %s" % row["credentials_withheld"])
    result = dict(
        changed=False,
        images=results,
        missing=missing_by_architecture(results, architectures),
        unchecked=unchecked(results),
        sources=sources,
        source_errors=source_errors,
        table=render_table(results, architectures, sources, source_errors),
    )
    lacking = any(result["missing"][arch] for arch in required)
    if required and (lacking or result["unchecked"] or source_errors):
        parts = [
            "%s lack %s" % (", ".join(result["missing"][arch]), arch) for arch in required if result["missing"][arch]
        ]
        if result["unchecked"]:
            parts.append("could not check %s" % ", ".join(result["unchecked"]))
        if source_errors:
            parts.append("could not read %s" % ", ".join(error["path"] for error in source_errors))
        result["msg"] = "images must support %s: %s" % (", ".join(required), "; ".join(parts))
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
