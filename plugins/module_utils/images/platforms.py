# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which platforms an image runs on, read from what a registry or the local engine says about it.

A multi-arch tag points at an index (OCI) or manifest list (Docker) whose entries name their platform. BuildKit
adds provenance/SBOM attestations to the same index as entries with platform `unknown/unknown`; they are not
images and must not count. A single-arch tag points at one manifest, and only its config blob says the
architecture. Architecture names go through `_architecture`, the collection's one map of names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import dpkg_arch, platform_matches

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
# What a manifest request accepts, most wanted first; without the index types a registry answers with one
# platform's manifest and a multi-arch image looks single-arch.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST) + DOCKER_SCHEMA1)
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"

# kind -> the hint shown when the message itself says nothing better
HINTS = {
    "invalid_reference": "Write the reference as `docker pull` takes it: [registry/]repository[:tag][@sha256:digest].",
    "unauthorized": "Give registry_username/registry_password for this registry (for nvcr.io the user is "
    "$oauthtoken and the password an NGC API key); Docker Hub also answers this way for names that do not exist.",
    "not_found": "Check the repository name and tag in the registry; end-of-life tags (for example old nvidia/cuda "
    "tags) are deleted.",
    "unreachable": "Check the registry's host and port, DNS, proxy settings (https_proxy/no_proxy) and firewall "
    "from the host that ran the check.",
    "timeout": "The registry did not answer in time; check the network path or raise `timeout`.",
    "tls": "Give the registry's CA certificate with ca_path, or list a plain-HTTP registry in insecure_registries.",
    "malformed": "The registry answered with something that is not a manifest; check that the host is a "
    "container registry (Registry HTTP API v2) and not a web page or proxy login.",
    "rate_limited": "Docker Hub limits anonymous pulls; log in with registry_username/registry_password or retry "
    "later.",
    "registry_error": "The registry failed; retry, and check its logs if it is yours.",
    "not_an_image": "This reference is an artifact (for example a Helm chart), not a container image.",
    "local_engine": "Check that Docker is installed and running on this host and that the user may use it "
    "(become: true, or the docker group).",
    "unresolved": "The reference uses a variable the audit cannot resolve; give the image with its value.",
}


class ManifestError(ValueError):
    """A document that is not the manifest or config it should be."""


def image_error(kind, message, hint=None):
    return {"kind": kind, "message": message, "hint": hint or HINTS.get(kind, "")}


def manifest_kind(document, media_type=None):
    """-> 'index', 'manifest' or 'schema1', from the media type the registry sent, else from the document's shape."""
    if not isinstance(document, dict):
        raise ManifestError("the manifest is JSON but not an object")
    declared = (media_type or "").split(";")[0].strip().lower() or document.get("mediaType", "")
    if declared in (OCI_INDEX, DOCKER_LIST):
        kind = "index"
    elif declared in (OCI_MANIFEST, DOCKER_MANIFEST):
        kind = "manifest"
    elif declared in DOCKER_SCHEMA1 or document.get("schemaVersion") == 1:
        kind = "schema1"
    elif isinstance(document.get("manifests"), list):
        kind = "index"
    elif isinstance(document.get("config"), dict):
        kind = "manifest"
    else:
        raise ManifestError("the document is neither an image index nor an image manifest (mediaType %r)" % declared)
    if kind == "index" and not isinstance(document.get("manifests"), list):
        raise ManifestError("the image index has no `manifests` list")
    if kind == "manifest" and not isinstance(document.get("config"), dict):
        raise ManifestError("the image manifest has no `config` descriptor")
    return kind


def _platform(os_name, architecture, variant=None):
    platform = {"os": str(os_name or ""), "architecture": str(architecture or "")}
    if variant:
        platform["variant"] = str(variant)
    return platform


def is_attestation(entry):
    platform = entry.get("platform") or {}
    annotations = entry.get("annotations") or {}
    return annotations.get(ATTESTATION_ANNOTATION) == "attestation-manifest" or (
        platform.get("os") == "unknown" and platform.get("architecture") == "unknown"
    )


def index_platforms(document):
    """The runnable platforms an index lists, in its order, without attestations, entries with no platform
    (artifacts) or duplicates."""
    platforms = []
    for entry in document.get("manifests") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("platform"), dict) or is_attestation(entry):
            continue
        raw = entry["platform"]
        if not raw.get("architecture") or not raw.get("os"):
            continue
        platform = _platform(raw["os"], raw["architecture"], raw.get("variant"))
        if platform not in platforms:
            platforms.append(platform)
    return platforms


def config_platform(config):
    """The platform of a single-arch image, from its config blob (OCI image config or Docker's)."""
    if not isinstance(config, dict) or not config.get("architecture") or not config.get("os"):
        raise ManifestError("the config blob names no architecture and os: this is not a container image config")
    return _platform(config["os"], config["architecture"], config.get("variant"))


def schema1_platform(document):
    """Docker's old schema 1 manifests carry the architecture themselves and were always linux."""
    if not document.get("architecture"):
        raise ManifestError("the schema 1 manifest names no architecture")
    return _platform("linux", document["architecture"])


def platform_text(platform):
    """{'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'} -> 'linux/arm64/v8'."""
    parts = [platform.get("os", ""), platform.get("architecture", "")]
    if platform.get("variant"):
        parts.append(platform["variant"])
    return "/".join(parts)


def canonical_architectures(names):
    """User-given architecture names (x86_64, aarch64, linux/arm64, ...) -> dpkg names, in order, once each.

    Raises UnsupportedArchitecture for names the collection does not serve."""
    canonical = []
    for name in names:
        arch = dpkg_arch(name)
        if arch not in canonical:
            canonical.append(arch)
    return canonical


def image_result(
    reference,
    architectures,
    name=None,
    digest=None,
    media_type=None,
    platforms=None,
    error=None,
    credentials_withheld=None,
):
    """One image's row of the module's `images` result. `supports` is null per architecture when unknown;
    `credentials_withheld` says why the registry's token service was asked without the given credentials."""
    platforms = platforms or []
    return {
        "reference": reference,
        "name": name,
        "digest": digest,
        "media_type": media_type,
        "multi_arch": len(platforms) > 1,
        "platforms": [dict(platform, platform=platform_text(platform)) for platform in platforms],
        "supports": {
            arch: (None if error else any(platform_matches(platform, arch) for platform in platforms))
            for arch in architectures
        },
        "error": error,
        "credentials_withheld": credentials_withheld,
    }


def missing_by_architecture(results, architectures):
    """arch -> references of checked images that have no variant for it (images with an error are not guessed)."""
    return {arch: [row["reference"] for row in results if row["supports"].get(arch) is False] for arch in architectures}


def unchecked(results):
    return [row["reference"] for row in results if row["error"]]


_NOTE_WIDTH = 160  # the JSON report keeps the whole message; the table stays readable


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def _shorten(text):
    return text if len(text) <= _NOTE_WIDTH else text[: _NOTE_WIDTH - 3] + "..."


def source_error(path, source_format, message, hint):
    """One entry of the module's `source_errors`: a compose file or manifest that gave no images."""
    return {"path": path, "format": source_format, "message": message, "hint": hint}


def render_table(results, architectures, sources=None, source_errors=()):
    """A Markdown table, one row per image: platforms, yes/NO per architecture, and the error when there is one."""
    sources = sources or {}
    header = ["image"] + list(architectures) + ["platforms", "note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for row in results:
        if row["error"]:
            marks = ["?"] * len(architectures)
            note = _shorten("%s: %s" % (row["error"]["kind"], row["error"]["message"]))
        else:
            marks = ["yes" if row["supports"][arch] else "NO" for arch in architectures]
            note = ""
        where = sources.get(row["reference"])
        if where:
            note = (note + "; " if note else "") + "used in " + ", ".join(where)
        platforms = ", ".join(platform["platform"] for platform in row["platforms"]) or "-"
        cells = [row["reference"]] + marks + [platforms, note]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    missing = missing_by_architecture(results, architectures)
    lines.append("")
    for arch in architectures:
        lines.append("%d of %d images have no %s variant" % (len(missing[arch]), len(results), arch))
    errors = unchecked(results)
    if errors:
        lines.append("%d could not be checked: %s" % (len(errors), ", ".join(errors)))
    if source_errors:
        lines.append(
            "%d source file%s could not be read: %s"
            % (
                len(source_errors),
                "" if len(source_errors) == 1 else "s",
                "; ".join("%s (%s)" % (error["path"], _shorten(error["message"])) for error in source_errors),
            )
        )
    return "\n".join(lines) + "\n"
