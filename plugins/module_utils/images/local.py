# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Platforms of an image as the host's Docker engine sees them.

`docker image inspect` answers for an image the engine holds: its classic image store keeps one platform per
name, the one pulled for this host (or asked for with --platform). For an image it does not hold,
`docker manifest inspect --verbose` asks the registry with the host's own `docker login` credentials; its answer is
a list (multi-arch) or one object (single-arch), each with the platform in `Descriptor.platform`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import (
    image_error,
    index_platforms,
)


class LocalEngineError(Exception):
    def __init__(self, error):
        super(LocalEngineError, self).__init__(error["message"])
        self.error = error


def _operand(reference):
    """The reference as the command's last argument, after `--`; one that reads as an option is refused as well,
    since `--` is only as good as every docker CLI version's parsing of it."""
    if reference.lstrip().startswith("-"):
        raise LocalEngineError(
            image_error(
                "invalid_reference",
                "%r starts with `-` and would be read by the docker CLI as an option, not an image" % reference,
            )
        )
    return ["--", reference]


def image_inspect_command(docker_bin, reference):
    return [docker_bin, "image", "inspect"] + _operand(reference)


def manifest_inspect_command(docker_bin, reference, insecure=False):
    options = ["--verbose"] + (["--insecure"] if insecure else [])
    return [docker_bin, "manifest", "inspect"] + options + _operand(reference)


def is_missing_locally(rc, stderr):
    return rc != 0 and "no such image" in stderr.lower()


def classify_cli_failure(command, rc, stdout, stderr):
    """A failed docker CLI call -> the per-image error, named like the registry's errors where it is one."""
    text = (stderr or stdout or "").strip()
    lower = text.lower()
    message = "%s failed (rc=%s): %s" % (" ".join(command[:3]), rc, text or "no output")
    if "cannot connect to the docker daemon" in lower or "is the docker daemon running" in lower:
        return image_error("local_engine", message, "Start Docker on this host (systemctl start docker).")
    if "permission denied" in lower and "docker" in lower:
        return image_error("local_engine", message, "Run with become: true, or add the user to the docker group.")
    if "experimental" in lower:
        return image_error(
            "local_engine",
            message,
            "This docker CLI needs experimental features for `docker manifest`: use source: registry instead.",
        )
    if "no such manifest" in lower or "manifest unknown" in lower or "not found" in lower:
        # The docker CLI also says "no such manifest" when it tried HTTPS on a plain-HTTP registry.
        return image_error(
            "not_found",
            message,
            "Check the name and tag; a registry that speaks plain HTTP must be listed in insecure_registries.",
        )
    if any(word in lower for word in ("unauthorized", "denied", "authentication required", "auth credentials")):
        return image_error("unauthorized", message, "Run `docker login` for this registry on this host.")
    if "server gave http response to https client" in lower:
        return image_error("tls", message, "List the registry in insecure_registries (it speaks plain HTTP).")
    if "x509" in lower or "certificate" in lower or "tls" in lower:
        return image_error("tls", message)
    if "connection refused" in lower or "no such host" in lower or "dial tcp" in lower:
        return image_error("unreachable", message)
    if "timeout" in lower:
        return image_error("timeout", message)
    return image_error("local_engine", message)


def _platform_of(os_name, architecture, variant):
    platform = {"os": os_name or "", "architecture": architecture or ""}
    if variant:
        platform["variant"] = variant
    return platform


def parse_image_inspect(stdout):
    """`docker image inspect` JSON -> dict(name, digest, platforms) for the first image in it."""
    try:
        images = json.loads(stdout)
    except ValueError as error:
        raise LocalEngineError(image_error("malformed", "docker image inspect printed no JSON: %s" % error)) from None
    if not isinstance(images, list) or not images or not isinstance(images[0], dict):
        raise LocalEngineError(image_error("not_found", "docker image inspect found no image"))
    image = images[0]
    if not image.get("Architecture"):
        raise LocalEngineError(image_error("malformed", "docker image inspect names no Architecture"))
    repo_digests = image.get("RepoDigests") or []
    repo_tags = image.get("RepoTags") or []
    return {
        "name": repo_tags[0] if repo_tags else (repo_digests[0] if repo_digests else None),
        # The registry digest (what a pull by digest would fetch) when the image came from one; else the local ID.
        "digest": repo_digests[0].split("@", 1)[1] if repo_digests else image.get("Id"),
        "platforms": [_platform_of(image.get("Os"), image["Architecture"], image.get("Variant"))],
    }


def parse_manifest_inspect_verbose(stdout):
    """`docker manifest inspect --verbose` JSON -> dict(name, digest, platforms)."""
    try:
        document = json.loads(stdout)
    except ValueError as error:
        raise LocalEngineError(
            image_error("malformed", "docker manifest inspect printed no JSON: %s" % error)
        ) from None
    entries = document if isinstance(document, list) else [document]
    descriptors = [entry.get("Descriptor") or {} for entry in entries if isinstance(entry, dict)]
    if not descriptors:
        raise LocalEngineError(image_error("malformed", "docker manifest inspect printed no descriptors"))
    platforms = index_platforms({"manifests": descriptors})
    name = entries[0].get("Ref", "").split("@", 1)[0] or None
    digest = descriptors[0].get("digest") if len(entries) == 1 else None
    return {"name": name, "digest": digest, "platforms": platforms}
