# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A read-only client for the Registry HTTP API v2 (the OCI distribution API), on the standard library alone.

It fetches a tag's manifest (index or single), and for a single-arch image its config blob, answering
authentication challenges on the way. Every failure becomes a RegistryError with a kind the module reports per
image: unauthorized, not_found, unreachable, timeout, tls, malformed, rate_limited, registry_error.
The HTTP layer is one function (`transport`) so tests can answer for the network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request

from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import (
    MANIFEST_ACCEPT,
    ManifestError,
    config_platform,
    index_platforms,
    manifest_kind,
    schema1_platform,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.registry.auth import (
    AuthError,
    basic_authorization,
    credential_refusal,
    parse_challenges,
    pick_challenge,
    token_from_answer,
    token_request_url,
)

# Go's TLS server answers plain HTTP with this text: the registry speaks HTTPS.
_HTTP_TO_HTTPS = "client sent an http request to an https server"
_MAX_BODY = 4 * 1024 * 1024  # manifests and configs are kilobytes; a bigger answer is not one


class RegistryError(Exception):
    def __init__(self, kind, message, hint=None):
        super(RegistryError, self).__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint


class Response:
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = {key.lower(): value for key, value in headers.items()}
        self.body = body
        self.url = url


def _connection_error(url, reason):
    """Classify what stopped a request before any HTTP answer came back."""
    text = str(reason)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return RegistryError(
            "tls", "TLS certificate of %s not trusted: %s" % (url, getattr(reason, "verify_message", None) or text)
        )
    if isinstance(reason, ssl.SSLError):
        hint = None
        if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text.lower():
            hint = "The registry seems to speak plain HTTP: list its host:port in insecure_registries."
        return RegistryError("tls", "TLS handshake with %s failed: %s" % (url, text), hint)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return RegistryError("timeout", "no answer from %s in time" % url)
    if isinstance(reason, ConnectionRefusedError):
        return RegistryError("unreachable", "connection to %s refused: nothing listens there" % url)
    if isinstance(reason, socket.gaierror):
        return RegistryError("unreachable", "cannot resolve the registry host of %s: %s" % (url, reason.strerror))
    if isinstance(reason, http.client.HTTPException):
        return RegistryError(
            "unreachable",
            "%s did not answer like an HTTP server (%s: %s)" % (url, type(reason).__name__, text),
            "If the registry speaks HTTPS, remove it from insecure_registries; if it speaks HTTP, add it there.",
        )
    return RegistryError("unreachable", "cannot reach %s: %s" % (url, text))


def urllib_transport(url, headers, timeout, ssl_context):
    """GET `url`; any HTTP status comes back as a Response, connection failures raise RegistryError."""
    request = urllib.request.Request(url, method="GET")
    for key, value in headers.items():
        # Unredirected: blob downloads redirect to storage hosts that must not see the registry's credentials.
        if key.lower() == "authorization":
            request.add_unredirected_header(key, value)
        else:
            request.add_header(key, value)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl_context))
    try:
        with opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read(_MAX_BODY), answer.geturl())
    except urllib.error.HTTPError as answer:
        body = answer.read(_MAX_BODY) if answer.fp is not None else b""
        return Response(answer.code, dict(answer.headers.items()), body, url)
    except urllib.error.URLError as error:
        raise _connection_error(url, error.reason) from None
    except (OSError, http.client.HTTPException) as error:
        raise _connection_error(url, error) from None
    except ValueError as error:
        # http.client refuses URLs it cannot put on a request line (non-ASCII, control characters); such a URL
        # can only come from a registry's answer (a token realm), since references are checked before.
        raise RegistryError("malformed", "the URL %r cannot be sent in an HTTP request: %s" % (url, error)) from None


class ClientOptionError(ValueError):
    """An option the client cannot work with; the message names it and the fix."""


def ssl_context_for(validate_certs=True, ca_path=None):
    try:
        context = ssl.create_default_context(cafile=ca_path)
    except ssl.SSLError as error:
        raise ClientOptionError(
            "ca_path %s holds no PEM CA certificate that OpenSSL can read (%s); give a file with one or more "
            "-----BEGIN CERTIFICATE----- blocks (convert a DER certificate with "
            "`openssl x509 -inform der -in ca.der -out ca.pem`)" % (ca_path, error.reason or error)
        ) from None
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _registry_messages(body):
    """The `errors[].code: message` of a registry's JSON error body, or '' when it sent none."""
    try:
        errors = json.loads(body.decode("utf-8")).get("errors") or []
        return "; ".join("%s: %s" % (error.get("code", "?"), error.get("message", "")) for error in errors)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""


class RegistryClient:
    def __init__(
        self,
        username=None,
        password=None,
        insecure_registries=(),
        validate_certs=True,
        ca_path=None,
        timeout=30,
        transport=None,
        credential_hosts=(),
        trusted_realm_hosts=(),
    ):
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 1:
            # The socket layer refuses negative timeouts with a bare ValueError, and 0 makes every read fail at once.
            raise ClientOptionError("timeout must be at least 1 second, got %r" % (timeout,))
        self.username = username
        self.password = password
        # Credentials go only to these registries when named, so auditing Docker Hub images next to private ones
        # does not hand the private password to Docker Hub's token service.
        self.credential_hosts = set(credential_hosts or ())
        # Token services on other hosts than their registry's that may get the credentials (see credential_refusal).
        self.trusted_realm_hosts = list(trusted_realm_hosts or ())
        self.insecure = set(insecure_registries or ())
        self.timeout = timeout
        self.transport = transport or urllib_transport
        self.ssl_context = None if transport else ssl_context_for(validate_certs, ca_path)
        self._authorizations = {}  # (api host, repository) -> Authorization header that worked
        self._withheld = {}  # (api host, repository) -> why the credentials were not sent to its token service

    def base_url(self, reference):
        scheme = "http" if reference.api_host in self.insecure or reference.domain in self.insecure else "https"
        return "%s://%s/v2/%s" % (scheme, reference.api_host, reference.repository)

    def _send(self, url, accept, authorization):
        headers = {"Accept": accept, "User-Agent": "gpufleet.containers image_platforms"}
        if authorization:
            headers["Authorization"] = authorization
        return self.transport(url, headers, self.timeout, self.ssl_context)

    def _has_credentials(self, reference):
        if not self.username:
            return False
        return not self.credential_hosts or bool({reference.domain, reference.api_host} & self.credential_hosts)

    def credentials_withheld(self, reference):
        """Why the credentials were not sent to this reference's token service, or None (sent, or none to send)."""
        return self._withheld.get((reference.api_host, reference.repository))

    def _authorize(self, challenge, reference, url):
        """An Authorization header that answers `challenge`, or RegistryError('unauthorized')."""
        has_credentials = self._has_credentials(reference)
        key = (reference.api_host, reference.repository)
        repository = reference.repository
        if challenge is None:
            raise RegistryError("unauthorized", "%s refused access and named no way to authenticate" % url)
        if challenge.scheme == "basic":
            if not has_credentials:
                raise RegistryError(
                    "unauthorized",
                    "%s wants credentials (Basic realm %r) and none were given" % (url, challenge.params.get("realm")),
                )
            return basic_authorization(self.username, self.password or "")
        try:
            token_url = token_request_url(challenge, repository)
        except AuthError as error:
            raise RegistryError("unauthorized", str(error)) from None
        if has_credentials:
            refusal = credential_refusal(
                challenge.params["realm"],
                [reference.domain, reference.api_host],
                self.trusted_realm_hosts,
                self.insecure,
            )
            if refusal:
                # Asked anonymously instead: public images still read, and the result says why.
                self._withheld[key] = refusal
                has_credentials = False
        basic = basic_authorization(self.username, self.password or "") if has_credentials else None
        answer = self._send(token_url, "application/json", basic)
        if answer.status in (401, 403):
            raise RegistryError(
                "unauthorized",
                "the token service %s refused %s (HTTP %d)%s"
                % (
                    token_url.split("?")[0],
                    "the given credentials" if has_credentials else "anonymous access",
                    answer.status,
                    self._withheld_note(key),
                ),
                self._withheld_hint(key),
            )
        if answer.status != 200:
            raise RegistryError(
                "registry_error", "the token service %s answered HTTP %d" % (token_url.split("?")[0], answer.status)
            )
        try:
            return "Bearer " + token_from_answer(answer.body)
        except AuthError as error:
            raise RegistryError("malformed", str(error)) from None

    def get(self, reference, path, accept):
        """GET /v2/<repository>/<path>, authenticating when challenged; -> Response with status 200."""
        url = "%s/%s" % (self.base_url(reference), path)
        key = (reference.api_host, reference.repository)
        answer = self._send(url, accept, self._authorizations.get(key))
        if answer.status == 401 and key not in self._authorizations:
            try:
                challenge = pick_challenge(parse_challenges(answer.headers.get("www-authenticate")))
            except AuthError as error:
                raise RegistryError("unauthorized", "%s: %s" % (url, error)) from None
            self._authorizations[key] = self._authorize(challenge, reference, url)
            answer = self._send(url, accept, self._authorizations[key])
        if answer.status == 200:
            return answer
        had_credentials = self._has_credentials(reference) and key not in self._withheld
        error = self._status_error(url, answer, had_credentials, self._withheld_note(key))
        if error.kind == "unauthorized" and key in self._withheld:
            error.hint = self._withheld_hint(key)
        raise error

    def _withheld_note(self, key):
        return "; credentials were not sent: %s" % self._withheld[key] if key in self._withheld else ""

    def _withheld_hint(self, key):
        if key not in self._withheld:
            return None
        return (
            "The registry named a token service the credentials may not go to (see the message); if you trust it, "
            "list its host in trusted_realm_hosts, and in insecure_registries when it speaks plain HTTP."
        )

    def _status_error(self, url, answer, had_credentials, note=""):
        detail = _registry_messages(answer.body)
        said = " (%s)%s" % (detail, note) if detail else note
        if answer.status in (401, 403):
            hint = None
            if "insufficient_scope" in answer.headers.get("www-authenticate", ""):
                hint = (
                    "The credentials do not grant pull on this repository, or it does not exist (Docker Hub "
                    "answers both the same way); check the name and registry_username/registry_password."
                )
            who = "the given credentials" if had_credentials else "anonymous access"
            return RegistryError("unauthorized", "%s refused %s: HTTP %d%s" % (url, who, answer.status, said), hint)
        if answer.status == 404:
            what = "repository" if "NAME_UNKNOWN" in detail else "manifest (tag, digest or repository)"
            return RegistryError("not_found", "%s not found at %s: HTTP 404%s" % (what, url, said))
        if answer.status == 429:
            return RegistryError("rate_limited", "%s: HTTP 429 too many requests%s" % (url, said))
        if answer.status == 400 and _HTTP_TO_HTTPS in answer.body.decode("utf-8", "replace").lower():
            return RegistryError(
                "tls",
                "%s speaks HTTPS but was asked in plain HTTP" % url,
                "Remove this registry from insecure_registries.",
            )
        return RegistryError("registry_error", "%s answered HTTP %d%s" % (url, answer.status, said))

    def _json(self, answer, what):
        try:
            return json.loads(answer.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            start = answer.body[:60].decode("utf-8", "replace")
            raise RegistryError(
                "malformed", "the %s from %s is not JSON (%s), it starts %r" % (what, answer.url, error, start)
            ) from None

    def inspect(self, reference):
        """-> dict(digest, media_type, platforms) for one ImageReference."""
        answer = self.get(reference, "manifests/" + reference.manifest_reference, MANIFEST_ACCEPT)
        document = self._json(answer, "manifest")
        media_type = answer.headers.get("content-type", "").split(";")[0].strip() or None
        digest = answer.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(answer.body).hexdigest()
        try:
            kind = manifest_kind(document, media_type)
            if kind == "index":
                platforms = index_platforms(document)
            elif kind == "schema1":
                platforms = [schema1_platform(document)]
            else:
                config_digest = document["config"].get("digest")
                if not config_digest:
                    raise ManifestError("the image manifest's config descriptor has no digest")
                blob = self.get(reference, "blobs/" + config_digest, "*/*")
                platforms = [config_platform(self._json(blob, "config blob"))]
        except ManifestError as error:
            not_image = "not a container image" in str(error)
            raise RegistryError(
                "not_an_image" if not_image else "malformed", "%s: %s" % (reference.name, error)
            ) from None
        return {"digest": digest, "media_type": media_type or document.get("mediaType"), "platforms": platforms}
