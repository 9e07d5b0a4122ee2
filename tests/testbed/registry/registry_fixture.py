# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real container registries on 127.0.0.1 holding single-arch and multi-arch test images.

    python3 registry_fixture.py up --state DIR     start them, push the images, print DIR/registries.json
    python3 registry_fixture.py down --state DIR   stop the registries started by `up` with this state folder

Four `docker-registry` processes (Debian's package, distribution 2.8) run as plain processes with their own
config and storage under DIR, each on a free port (never the packaged service's :5000):

- open:  plain HTTP, anonymous;
- auth:  plain HTTP, Basic authentication from an htpasswd file;
- tls:   HTTPS with a throwaway self-signed certificate (DIR/tls/cert.pem), anonymous;
- token: plain HTTP, Bearer token auth whose realm is http://127.0.0.1:<token_realm_port>/token, a port on which
         nothing listens until a test starts its own token service there (to see what a client sends a realm on
         another port); it holds no images, since every request is refused before one is looked up.

Images are OCI layouts written here (one small layer per architecture holding a text file: they are test data,
not runnable programs) and pushed with skopeo: `multi:1.0` is an OCI index with linux/amd64, linux/arm64/v8 and
a BuildKit-style attestation entry (platform unknown/unknown); `amd64only:1.0` and `arm64only:1.0` are single
manifests; `dockerlist:1.0` is the multi-arch image converted to a Docker manifest list (schema 2). The auth
registry holds `private:1.0` (multi-arch); the TLS registry `amd64only:1.0`.
Missing Debian packages (docker-registry, skopeo, apache2-utils, openssl) are installed with apt-get.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

PACKAGES = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils", "openssl": "openssl"}
USERNAME = "gpufleet"
PASSWORD = "test-only-password"  # a throwaway credential for a registry that lives for one test run
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PLATFORMS = {
    "amd64": {"architecture": "amd64", "os": "linux"},
    "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"},
}


def log(message):
    print("registry fixture: %s" % message, file=sys.stderr, flush=True)


def ensure_packages():
    missing = sorted({package for command, package in PACKAGES.items() if not shutil.which(command)})
    if not missing:
        return
    log("installing %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # policy-rc.d 101: the package must not start its own service on :5000 where systemd runs.
    policy = "/usr/sbin/policy-rc.d"
    had_policy = os.path.exists(policy)
    if not had_policy:
        with open(policy, "w") as handle:
            handle.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    finally:
        if not had_policy:
            os.unlink(policy)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- OCI layout, written by hand --------------------------------------------------------------------------------


class Layout:
    def __init__(self, path):
        self.path = path
        self.blobs = os.path.join(path, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as handle:
            json.dump({"imageLayoutVersion": "1.0.0"}, handle)
        self.refs = []

    def blob(self, data, media_type, **extra):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.blobs, digest), "wb") as handle:
            handle.write(data)
        return dict({"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}, **extra)

    def json_blob(self, document, media_type, **extra):
        return self.blob(json.dumps(document, sort_keys=True).encode(), media_type, **extra)

    def tag(self, descriptor, name):
        annotations = {"org.opencontainers.image.ref.name": name}
        self.refs.append(dict(descriptor, annotations=annotations))
        with open(os.path.join(self.path, "index.json"), "w") as handle:
            json.dump({"schemaVersion": 2, "manifests": self.refs}, handle)


def layer_tar(text):
    """A one-file tar, gzipped with a fixed mtime so the same input gives the same digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = text.encode()
        info = tarfile.TarInfo("gpufleet-test-image.txt")
        info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
        tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as handle:
        handle.write(raw.getvalue())
    return raw.getvalue(), packed.getvalue()


def image_manifest(layout, arch):
    tar, gz = layer_tar("gpufleet test image for linux/%s: test data, not a program\n" % arch)
    layer = layout.blob(gz, OCI_LAYER)
    config = dict(
        PLATFORMS[arch],
        created="2026-01-01T00:00:00Z",
        config={"Labels": {"org.opencontainers.image.description": "gpufleet registry test image"}},
        rootfs={"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
    )
    config_descriptor = layout.json_blob(config, OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_descriptor, "layers": [layer]}
    return layout.json_blob(manifest, OCI_MANIFEST)


def attestation_manifest(layout, subject):
    """Shaped like BuildKit's provenance attestation: an image manifest whose layer is an in-toto statement."""
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "gpufleet-test", "digest": {"sha256": subject["digest"].split(":")[1]}}],
        "predicate": {"note": "synthetic attestation for the registry fixture"},
    }
    layer = layout.json_blob(
        statement,
        "application/vnd.in-toto+json",
        annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
    )
    config = layout.json_blob(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
        },
        OCI_CONFIG,
    )
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}
    return layout.json_blob(
        manifest,
        OCI_MANIFEST,
        platform={"architecture": "unknown", "os": "unknown"},
        annotations={
            "vnd.docker.reference.digest": subject["digest"],
            "vnd.docker.reference.type": "attestation-manifest",
        },
    )


def build_layouts(work):
    """-> {name: (layout path, tag)} for every test image."""
    layouts = {}
    for arch in ("amd64", "arm64"):
        layout = Layout(os.path.join(work, "%sonly" % arch))
        layout.tag(image_manifest(layout, arch), "1.0")
        layouts["%sonly" % arch] = layout.path
    for name, with_attestation in (("multi", True), ("plainlist", False)):
        layout = Layout(os.path.join(work, name))
        entries = []
        for arch in ("amd64", "arm64"):
            descriptor = dict(image_manifest(layout, arch), platform=PLATFORMS[arch])
            entries.append(descriptor)
            if with_attestation:
                entries.append(attestation_manifest(layout, descriptor))
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        layout.tag(layout.json_blob(index, OCI_INDEX), "1.0")
        layouts[name] = layout.path
    return layouts


# --- registries -------------------------------------------------------------------------------------------------


def registry_config(state, name, port, tls=None, htpasswd=None, token_realm=None, token_cert=None):
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        "    rootdirectory: %s" % os.path.join(state, name, "storage"),
        "  delete:",
        "    enabled: true",
        "http:",
        "  addr: 127.0.0.1:%d" % port,
        "  secret: %s" % hashlib.sha256(os.urandom(16)).hexdigest(),
    ]
    if tls:
        lines += ["  tls:", "    certificate: %s" % tls[0], "    key: %s" % tls[1]]
    if htpasswd:
        lines += ["auth:", "  htpasswd:", "    realm: gpufleet-test", "    path: %s" % htpasswd]
    if token_realm:
        lines += [
            "auth:",
            "  token:",
            "    realm: %s" % token_realm,
            "    service: gpufleet-test",
            "    issuer: gpufleet-test-issuer",
            "    rootcertbundle: %s" % token_cert,  # any certificate: no token it signed is ever presented
        ]
    path = os.path.join(state, name, "config.yml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def wait_ready(url, process, log_path, seconds=30):
    import ssl

    context = ssl._create_unverified_context()  # readiness only; the tests check certificates properly
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            with open(log_path) as handle:
                raise SystemExit("registry exited with %s:\n%s" % (process.returncode, handle.read()))
        try:
            urllib.request.urlopen(url, timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return  # 401 from the auth registry: it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit("registry at %s did not answer within %ds (log: %s)" % (url, seconds, log_path))


def start_registry(state, name, tls=None, htpasswd=None, token_realm=None, token_cert=None):
    port = free_port()
    config = registry_config(state, name, port, tls, htpasswd, token_realm, token_cert)
    log_path = os.path.join(state, name, "registry.log")
    with open(log_path, "w") as log_handle:
        process = subprocess.Popen(
            ["docker-registry", "serve", config],
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    scheme = "https" if tls else "http"
    wait_ready("%s://127.0.0.1:%d/v2/" % (scheme, port), process, log_path)
    return {"host": "127.0.0.1:%d" % port, "pid": process.pid, "scheme": scheme, "log": log_path}


def make_tls(state):
    folder = os.path.join(state, "tls")
    os.makedirs(folder, exist_ok=True)
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=gpufleet-test-registry",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return cert, key


def skopeo_copy(source, destination, extra=()):
    command = ["skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false"] + list(extra) + [source, destination]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit("skopeo copy %s -> %s failed:\n%s" % (source, destination, result.stderr))


def up(state):
    ensure_packages()
    os.makedirs(state, exist_ok=True)
    if os.path.exists(os.path.join(state, "registries.json")):
        down(state)
    started = time.time()
    layouts = build_layouts(os.path.join(state, "layouts"))
    htpasswd = os.path.join(state, "htpasswd")
    line = subprocess.run(
        ["htpasswd", "-Bbn", USERNAME, PASSWORD], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.strip()
    with open(htpasswd, "w") as handle:
        handle.write(line + "\n")
    cert, key = make_tls(state)
    registries = {}
    try:
        registries["open"] = start_registry(state, "open")
        registries["auth"] = start_registry(state, "auth", htpasswd=htpasswd)
        registries["tls"] = start_registry(state, "tls", tls=(cert, key))
        token_realm_port = free_port()
        registries["token"] = start_registry(
            state, "token", token_realm="http://127.0.0.1:%d/token" % token_realm_port, token_cert=cert
        )
    finally:
        with open(os.path.join(state, "registries.json"), "w") as handle:
            json.dump({"registries": registries}, handle, indent=2)
    open_host, auth_host, tls_host = (registries[name]["host"] for name in ("open", "auth", "tls"))
    for name in ("multi", "amd64only", "arm64only"):
        skopeo_copy("oci:%s:1.0" % layouts[name], "docker://%s/gpufleet/%s:1.0" % (open_host, name))
    skopeo_copy(
        "oci:%s:1.0" % layouts["plainlist"], "docker://%s/gpufleet/dockerlist:1.0" % open_host, ["--format", "v2s2"]
    )
    skopeo_copy(
        "oci:%s:1.0" % layouts["multi"],
        "docker://%s/gpufleet/private:1.0" % auth_host,
        ["--dest-creds", "%s:%s" % (USERNAME, PASSWORD)],
    )
    skopeo_copy("oci:%s:1.0" % layouts["amd64only"], "docker://%s/gpufleet/amd64only:1.0" % tls_host)
    info = {
        "registries": registries,
        "username": USERNAME,
        "password": PASSWORD,
        "ca_cert": cert,
        "unused_port": free_port(),
        "token_realm_port": token_realm_port,
        "layouts": layouts,
        "images": {
            "multi": "%s/gpufleet/multi:1.0" % open_host,
            "dockerlist": "%s/gpufleet/dockerlist:1.0" % open_host,
            "amd64only": "%s/gpufleet/amd64only:1.0" % open_host,
            "arm64only": "%s/gpufleet/arm64only:1.0" % open_host,
            "private": "%s/gpufleet/private:1.0" % auth_host,
            "tls": "%s/gpufleet/amd64only:1.0" % tls_host,
            "token": "%s/gpufleet/private:1.0" % registries["token"]["host"],
        },
        "seconds": round(time.time() - started, 1),
    }
    path = os.path.join(state, "registries.json")
    with open(path, "w") as handle:
        json.dump(info, handle, indent=2)
    log("%d registries up, images pushed in %ss" % (len(registries), info["seconds"]))
    print(path)


def down(state):
    path = os.path.join(state, "registries.json")
    if not os.path.exists(path):
        return
    with open(path) as handle:
        registries = json.load(handle).get("registries", {})
    for name, registry in registries.items():
        try:
            os.kill(registry["pid"], signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _attempt in range(50):
            try:
                os.kill(registry["pid"], 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        log("stopped %s registry (pid %d)" % (name, registry["pid"]))
    os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--state", required=True, help="folder for configs, storage, certificates and pids")
    args = parser.parse_args()
    (up if args.action == "up" else down)(os.path.abspath(args.state))


if __name__ == "__main__":
    main()
