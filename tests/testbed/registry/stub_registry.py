# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-process, scripted stand-in for a registry and its token service, for unit tests (STUB, not a registry).

The real registries of the integration test are Debian's docker-registry (registry_fixture.py). It cannot issue
Bearer tokens without a separate token server, so the token flow that Docker Hub, ghcr.io and nvcr.io use is
exercised here over real HTTP on 127.0.0.1: 401 with `WWW-Authenticate: Bearer realm=...`, a token service
that checks Basic credentials, and blob downloads redirected to a storage path that must not get the token.
"""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ANONYMOUS_BEARER = "Bearer anonymous-token"  # what every stub's token service gives a request without credentials


class StubRegistry:
    """Serves `manifests` {(repository, reference): (media type, bytes)} and `blobs` {digest: bytes}.

    auth: None (anonymous), "basic" or "bearer"; `credentials` (user, password) are what it accepts.
    `realm`: the token service a Bearer challenge names (default: this stub's own /token), for example another
    stub's, which then records whether the credentials reached it. `public`: the anonymous token may pull.
    `requests` records (method, path, Authorization header) for the tests to assert on."""

    def __init__(self, auth=None, credentials=None, anonymous_token=True, realm=None, public=False):
        self.auth = auth
        self.credentials = credentials
        self.anonymous_token = anonymous_token
        self.realm = realm
        self.public = public
        self.manifests = {}
        self.blobs = {}
        self.requests = []
        self.accepts = []  # the Accept header of each request, in order
        self.raw_answers = {}  # path -> (status, headers, body) served as-is
        self.token = "stub-token-" + hashlib.sha256(repr(credentials).encode()).hexdigest()[:12]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def add_json(self, repository, reference, document, media_type):
        body = json.dumps(document).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[(repository, reference)] = (media_type, body)
        self.manifests[(repository, digest)] = (media_type, body)
        return digest

    def add_blob(self, document):
        body = json.dumps(document).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.blobs[digest] = body
        return {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(body)}

    def add_single(self, repository, tag, architecture, variant=None):
        config = {"architecture": architecture, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        if variant:
            config["variant"] = variant
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": self.add_blob(config), "layers": []}
        return self.add_json(repository, tag, manifest, OCI_MANIFEST)

    def _basic_ok(self, header):
        if not header or not header.startswith("Basic ") or not self.credentials:
            return False
        return base64.b64decode(header[6:]).decode() == "%s:%s" % self.credentials

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def send(self, status, body=b"", headers=()):
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def error(self, status, code, message, headers=()):
                body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
                self.send(status, body, [("Content-Type", "application/json")] + list(headers))

            def do_GET(self):  # noqa: N802 - http.server's naming
                authorization = self.headers.get("Authorization")
                stub.requests.append(("GET", self.path, authorization))
                stub.accepts.append(self.headers.get("Accept"))
                if self.path in stub.raw_answers:
                    return self.send(*stub.raw_answers[self.path])
                if self.path.startswith("/token"):
                    return self.token(authorization)
                if self.path.startswith("/storage/"):
                    return self.send(200, stub.blobs[self.path[len("/storage/") :]])
                if not self.path.startswith("/v2/"):
                    return self.send(404)
                if not self.authorized(authorization):
                    return
                path = self.path[len("/v2/") :]
                if "/blobs/" in path:
                    digest = path.split("/blobs/", 1)[1]
                    if digest not in stub.blobs:
                        return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                    return self.send(307, headers=[("Location", "/storage/" + digest)])
                repository, _sep, reference = path.partition("/manifests/")
                if (repository, reference) not in stub.manifests:
                    known = any(repo == repository for repo, _reference in stub.manifests)
                    if not known:
                        return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
                    return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                media_type, body = stub.manifests[(repository, reference)]
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                self.send(200, body, [("Content-Type", media_type), ("Docker-Content-Digest", digest)])

            def authorized(self, authorization):
                if stub.auth is None:
                    return True
                if stub.auth == "basic":
                    if stub._basic_ok(authorization):
                        return True
                    self.error(
                        401, "UNAUTHORIZED", "authentication required", [("WWW-Authenticate", 'Basic realm="stub"')]
                    )
                    return False
                if authorization == "Bearer " + stub.token or (stub.public and authorization == ANONYMOUS_BEARER):
                    return True
                realm = stub.realm or "http://%s/token" % stub.host
                self.error(
                    401,
                    "UNAUTHORIZED",
                    "authentication required",
                    [("WWW-Authenticate", 'Bearer realm="%s",service="stub-registry"' % realm)],
                )
                return False

            def token(self, authorization):
                if authorization is None and stub.anonymous_token:
                    return self.send(200, json.dumps({"token": ANONYMOUS_BEARER.split(" ", 1)[1]}).encode())
                if not stub._basic_ok(authorization):
                    return self.send(401, b'{"details":"incorrect username or password"}')
                self.send(200, json.dumps({"token": stub.token, "expires_in": 300}).encode())

        return Handler
