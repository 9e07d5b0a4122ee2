# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry authentication: read the `WWW-Authenticate` challenge, build the token request, read the token.

Registries answer an anonymous request with 401 and a challenge. `Basic realm=...` wants the credentials on the
request itself; `Bearer realm=...,service=...,scope=...` sends the client to a token service first (Docker Hub,
ghcr.io, nvcr.io). Real challenges differ: nvcr.io sends no `service` and sometimes an empty `scope`, so the
repository's own pull scope is filled in when the challenge names none.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from urllib.parse import urlencode, urlsplit


class Challenge:
    def __init__(self, scheme, params):
        self.scheme = scheme.lower()
        self.params = params

    def __repr__(self):
        return "Challenge(%r, %r)" % (self.scheme, self.params)


class AuthError(ValueError):
    """A challenge or token answer the client cannot use."""


def _skip_spaces(text, pos):
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _read_token(text, pos):
    start = pos
    while pos < len(text) and text[pos] not in ' \t,="':
        pos += 1
    return text[start:pos], pos


def _read_quoted(text, pos):
    value = []
    pos += 1  # opening quote
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            value.append(text[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(value), pos + 1
        value.append(char)
        pos += 1
    raise AuthError("unterminated quoted value in WWW-Authenticate")


def parse_challenges(header):
    """`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"` -> [Challenge('bearer', {...})].

    Several challenges may share one header (`Basic realm="x", Bearer realm="y"`); parameter names are
    case-insensitive, values keep their case. An empty or missing header gives []."""
    challenges = []
    text = header or ""
    pos = 0
    current = None
    while pos < len(text):
        pos = _skip_spaces(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        word, pos = _read_token(text, pos)
        if not word:
            if pos < len(text):
                raise AuthError("unexpected %r in WWW-Authenticate: %s" % (text[pos], header))
            break
        pos = _skip_spaces(text, pos)
        if pos < len(text) and text[pos] == "=" and current is not None:
            pos = _skip_spaces(text, pos + 1)
            if pos < len(text) and text[pos] == '"':
                value, pos = _read_quoted(text, pos)
            else:
                value, pos = _read_token(text, pos)
            current.params[word.lower()] = value
        else:
            current = Challenge(word, {})
            challenges.append(current)
    return challenges


def pick_challenge(challenges):
    """Bearer first (it is what token registries expect), else Basic; None when neither is offered."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def token_request_url(challenge, repository):
    """The token service URL for pulling `repository`, from a Bearer challenge."""
    realm = challenge.params.get("realm", "")
    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthError("the registry's Bearer challenge has no usable realm URL: %r" % realm)
    query = []
    if challenge.params.get("service"):
        query.append(("service", challenge.params["service"]))
    query.append(("scope", challenge.params.get("scope") or "repository:%s:pull" % repository))
    separator = "&" if parts.query else "?"
    return realm + separator + urlencode(query)


# Docker Hub's registry (registry-1.docker.io) sends every client to its token service on another of Docker's
# hosts; without this, logging in to Docker Hub would need trusted_realm_hosts.
KNOWN_REALM_HOSTS = {"docker.io": ("auth.docker.io",)}


def host_key(host):
    """`Auth.Example.com:443` -> ('auth.example.com', None): the host name, and the port unless it is 80 or 443.

    A registry written without a port is reached on 443 (or 80 in plain HTTP), and a token service on the same
    name there is the same operator's: ports below 1024 need root. Any other port can be another user's service
    on the same machine, so it must match."""
    parts = urlsplit("//" + host.strip())
    try:
        port = parts.port
    except ValueError:
        port = "invalid"  # matches no real host, so nothing is sent to it
    return ((parts.hostname or "").lower(), None if port in (None, 80, 443) else port)


def credential_refusal(realm, registry_hosts, trusted_realm_hosts=(), plain_http_hosts=()):
    """None when a registry's credentials may go to the token service at `realm`, else why not (for the user).

    They may go to the registry's own host (`registry_hosts`: its names, as written and the API host), to a
    well-known token service of that registry, and to `trusted_realm_hosts`; over HTTPS, or over plain HTTP to
    a host in `plain_http_hosts` (the registries the user already speaks plain HTTP to). A registry can name any
    URL as its realm, so anything else would hand the password to whoever the registry, or a machine in the
    middle, points at."""
    parts = urlsplit(realm)
    realm_host = host_key(parts.netloc)
    own = set()
    for host in registry_hosts:
        own.add(host_key(host))
        own.update(host_key(known) for known in KNOWN_REALM_HOSTS.get(host, ()))
    if realm_host not in own and realm_host not in {host_key(host) for host in trusted_realm_hosts}:
        return (
            "the token service %s is not on the registry's host (%s); if it is that registry's own token service, "
            "list %s in trusted_realm_hosts" % (parts.netloc, ", ".join(registry_hosts), parts.netloc)
        )
    if parts.scheme != "https" and realm_host not in {host_key(host) for host in plain_http_hosts}:
        return (
            "the token service %s speaks plain HTTP, where anyone on the path reads the credentials; use a "
            "registry whose token service speaks HTTPS, or list %s in insecure_registries to allow it"
            % (realm.split("?")[0], parts.netloc)
        )
    return None


def token_from_answer(body):
    """The bearer token from a token service's JSON answer (`token`, or OAuth2's `access_token`)."""
    try:
        answer = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except ValueError as error:
        raise AuthError("the token service answered with something that is not JSON: %s" % error) from None
    token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
    if not token:
        raise AuthError("the token service's answer holds no token")
    return token


def basic_authorization(username, password):
    raw = ("%s:%s" % (username, password)).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")
