# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references as Docker reads them: `ubuntu` is docker.io/library/ubuntu:latest.

The grammar is the one of distribution's `reference` package; the normalisation (which first component is a
registry, the `library/` prefix, `index.docker.io`) is Docker's, so a reference means here what it means to
`docker pull`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DOCKER_HUB = "docker.io"
# Docker Hub's API does not answer on docker.io itself.
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))
_DOMAIN = re.compile(
    r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$"
)
# ASCII only, as in distribution's grammar: Python's \w also takes letters such as U+00E4 (a umlaut), which no
# registry accepts and which cannot go into an HTTP request line.
_TAG = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


class InvalidReference(ValueError):
    """A string that is not an image reference; the message says which part is wrong."""


class ImageReference:
    """One parsed reference. `domain` is the registry as users write it, `api_host` the one to talk to."""

    def __init__(self, original, domain, repository, tag, digest):
        self.original = original
        self.domain = domain
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def api_host(self):
        return DOCKER_HUB_API_HOST if self.domain == DOCKER_HUB else self.domain

    @property
    def manifest_reference(self):
        """What goes after /manifests/: the digest when there is one (it pins the content), else the tag."""
        return self.digest or self.tag

    @property
    def name(self):
        """Fully qualified, the way `docker pull` would print it: docker.io/library/ubuntu:latest."""
        text = "%s/%s" % (self.domain, self.repository)
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text

    def __repr__(self):
        return "ImageReference(%r)" % self.name


def _split_domain(name):
    """Docker's rule: the first component is a registry when it has a dot, a colon, is `localhost`, or has capitals."""
    first, slash, rest = name.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        first, rest = DOCKER_HUB, name
    if first in _DOCKER_HUB_ALIASES:
        first = DOCKER_HUB
    if first == DOCKER_HUB and "/" not in rest:
        rest = "library/" + rest
    return first, rest


def parse_reference(text):
    """`ubuntu`, `nvidia/cuda:12.4.1-base-ubuntu22.04`, `127.0.0.1:5000/team/app@sha256:...` -> ImageReference.

    Raises InvalidReference with what is wrong, in Docker's terms."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference("an image reference must be a non-empty string, got %r" % (text,))
    original = text.strip()
    if "://" in original:
        raise InvalidReference("%r: an image reference has no scheme; drop %r" % (original, original.split("://")[0]))
    remainder, at, digest = original.partition("@")
    if at and not _DIGEST.match(digest):
        raise InvalidReference("%r: %r is not a digest (expected sha256:<64 hex digits>)" % (original, digest))
    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidReference(
                "%r: %r is not a valid tag: a tag is 1 to 128 ASCII letters, digits, `_`, `.` and `-`, "
                "and does not start with `.` or `-`" % (original, tag)
            )
    domain, repository = _split_domain(remainder)
    if not _DOMAIN.match(domain):
        raise InvalidReference("%r: %r is not a valid registry host" % (original, domain))
    if not _REPOSITORY.match(repository):
        hint = " (repository names are lowercase)" if repository.lower() != repository else ""
        raise InvalidReference("%r: %r is not a valid repository name%s" % (original, repository, hint))
    if len(repository) + len(domain) + 1 > 255:
        raise InvalidReference("%r: the name is longer than 255 characters" % original)
    if tag is None and not digest:
        tag = "latest"
    return ImageReference(original, domain, repository, tag, digest or None)
