#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nvidia_repo
short_description: NVIDIA's libnvidia-container apt repository, with a pinned key and a trial run first
version_added: 0.1.0
description:
  - Gets NVIDIA's signing key from a URL or from the given text, and refuses it unless its primary fingerprint is
    exactly O(fingerprint). Only then is it stored, dearmored, as O(keyring) with mode 0644.
  - Tries the repository in a private apt state directory before anything is written to the host. apt must accept
    the signature, the index must exist for O(architecture), and every package in O(packages) must be there (at
    O(version) when given). A failure names its cause, and the host's apt configuration is left as it was.
  - Writes O(source_file) with one C(signed-by) entry in NVIDIA's flat layout for the host's architecture, then
    refreshes the host's package lists for this source only. If that refresh fails, the source is removed again.
  - Removes leftovers of older NVIDIA installs (C(nvidia-docker.list), C(libnvidia-container.list),
    C(nvidia-container-runtime.list), lists pointing only at NVIDIA's repositories, the pinned key in
    C(/etc/apt/trusted.gpg) or C(trusted.gpg.d)), each backed up into O(backup_dir) first.
  - Does not install packages; it reports the versions the repository offers.
author: gpufleet maintainers (@gpufleet)
options:
  base_url:
    description:
      - Repository root, NVIDIA's or a mirror that keeps NVIDIA's layout and signature.
      - An C(http://), C(https://) or C(file:///) URL without spaces, quotes or C(#) (it is written into the
        source entry); percent-encode such characters.
    type: str
    default: https://nvidia.github.io/libnvidia-container
  channel:
    description: Repository channel.
    type: str
    choices: [stable, experimental]
    default: stable
  architecture:
    description:
      - The host's dpkg architecture (C(dpkg --print-architecture)), e.g. C(amd64) or C(arm64).
      - Lower-case letters, digits and C(-) only; anything else is refused, since it is written into the source
        entry's options.
    type: str
    required: true
  key_url:
    description:
      - Where to fetch the armored key. Defaults to O(base_url)C(/gpgkey). Ignored with O(key_content).
      - C(http://) and C(https://) URLs are downloaded (through O(proxy) when set); a C(file:///path) URL reads a
        file on the managed host.
      - A download that is not OpenPGP data at all (an HTML page from a captive portal, a proxy or a mirror
        without the key) fails with cause C(not_a_key), not as a fingerprint mismatch.
    type: str
  key_content:
    description:
      - The key itself, armored or binary (air-gapped hosts). Checked against O(fingerprint) all the same.
      - An empty or blank value is an error; leave the option out to download from O(key_url) instead.
    type: str
  fingerprint:
    description: Primary key fingerprint the key must have, and the only primary key it may hold.
    type: str
    default: C95B321B61E88C1809C4F759DDCAE044F796ECB0
  keyring:
    description:
      - Where the dearmored key is stored; the source's C(signed-by) names it.
      - An absolute, normalised path of letters, digits and C(. _ + -) only (no spaces or brackets).
    type: path
    default: /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
  source_file:
    description:
      - The apt source file this module owns.
      - An absolute, normalised path of letters, digits and C(. _ + -) only.
    type: path
    default: /etc/apt/sources.list.d/nvidia-container-toolkit.list
  packages:
    description: Packages the repository must offer (at O(version) when it is set). Debian package names only.
    type: list
    elements: str
    default: [nvidia-container-toolkit, nvidia-container-toolkit-base, libnvidia-container-tools, libnvidia-container1]
  version:
    description: Exact package version (e.g. C(1.17.8-1)) every package in O(packages) must be available at.
    type: str
  proxy:
    description:
      - HTTP(S) proxy URL for the key download and for apt's requests to this repository, for example
        C(http://user:password@proxy.example:3128).
      - Treated as a secret. apt gets it from a configuration file readable by root only, in a private temporary
        folder removed after each run, never on its command line; the value is not returned.
      - Quotes, spaces, backslashes, braces and semicolons are refused; percent-encode them in a password.
    type: str
  validate_certs:
    description: Verify TLS certificates when fetching the key.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the key download.
    type: int
    default: 30
  cleanup_leftovers:
    description: Remove leftovers of older NVIDIA installs (see description).
    type: bool
    default: true
  backup_dir:
    description: Where removed or rewritten leftovers are copied first.
    type: path
    default: /var/backups/gpufleet/nvidia-container-toolkit
  update_cache:
    description: Refresh the host's lists for this source when the probe saw newer ones than the host has.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: The key download and the trial run in a private directory happen in check mode too; nothing is written.
  diff_mode:
    support: full
    description: Returns the keyring and source file before and after.
  platform:
    support: full
    platforms: debian
    description: Debian and Ubuntu hosts with apt.
notes:
  - Needs C(apt-get) and C(apt-cache) on the host; gpg is not needed (keys are parsed in Python).
seealso:
  - name: NVIDIA Container Toolkit installation guide
    description: The documented repository layout and key location this module follows.
    link: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html
"""

EXAMPLES = r"""
- name: NVIDIA's repository, toolkit 1.17.8-1 required
  gpufleet.containers.nvidia_repo:
    architecture: "{{ ansible_facts.architecture | replace('x86_64', 'amd64') | replace('aarch64', 'arm64') }}"
    version: 1.17.8-1

- name: Air-gapped mirror, key shipped with the playbook
  gpufleet.containers.nvidia_repo:
    architecture: arm64
    base_url: http://mirror.example.internal/libnvidia-container
    key_content: "{{ lookup('ansible.builtin.file', 'files/nvidia-gpgkey.asc') }}"

- name: Behind an authenticating proxy, with the key already on the host
  gpufleet.containers.nvidia_repo:
    architecture: amd64
    key_url: file:///usr/local/share/keys/nvidia-gpgkey.asc
    proxy: "http://{{ proxy_user }}:{{ proxy_password | urlencode }}@proxy.example.internal:3128"
"""

RETURN = r"""
keyring:
  description: The keyring file, its primary fingerprint, and whether it was (or would be) written.
  returned: success
  type: dict
  sample:
    path: /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
    fingerprint: C95B321B61E88C1809C4F759DDCAE044F796ECB0
    changed: false
source:
  description: The source file, its entry, and whether it was (or would be) written.
  returned: success
  type: dict
  sample:
    path: /etc/apt/sources.list.d/nvidia-container-toolkit.list
    changed: true
    line: >-
      deb [arch=amd64 signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg]
      https://nvidia.github.io/libnvidia-container/stable/deb/amd64 /
leftovers:
  description: Leftovers removed or rewritten (or that would be), each with the reason and its backup path.
  returned: success
  type: list
  elements: dict
messages:
  description: One human line per leftover and per file left alone, for the play's output.
  returned: success
  type: list
  elements: str
versions:
  description: Versions the repository offers per package, newest first (O(packages) plus nvidia-docker2).
  returned: success
  type: dict
  sample: {nvidia-container-toolkit: [1.17.8-1, 1.17.7-1]}
cache_current:
  description: Whether the host's package lists hold this repository's current index (after any refresh).
  returned: success
  type: bool
cache_updated:
  description: Whether this run refreshed the host's lists for this source.
  returned: success
  type: bool
cause:
  description:
    - On failure, a short name for what went wrong.
    - One of C(fingerprint), C(key_download), C(signature), C(not_a_repository), C(not_found), C(unreachable),
      C(version), C(apt_cache), C(unknown), C(not_a_key) (the key source gave no OpenPGP data at all),
      C(key_invalid) (damaged OpenPGP data), C(invalid_option) (a value refused before anything ran).
  returned: failure
  type: str
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo import apt as repo_apt
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo import leftovers as leftovers_mod
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.keyring import (
    KeyringError,
    NotAnOpenPGPKeyError,
    PinMismatchError,
    check_pinned,
    normalize_fingerprint,
    primary_fingerprints,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.repository import (
    DEFAULT_BASE_URL,
    LEGACY_PACKAGES,
    TOOLKIT_PACKAGES,
    check_apt_path,
    check_architecture,
    check_base_url,
    check_package_names,
    key_location,
    missing_version,
    repository_uri,
    source_file_content,
    source_line,
)

ETC_APT = "/etc/apt"


def fail(module, cause, msg, hint, **extra):
    module.fail_json(msg="%s. Fix: %s" % (msg.rstrip("."), hint), cause=cause, **extra)


def get_key(module):
    """(the key's bytes, 'content', 'file' or 'http', the file or URL, the server's Content-Type)."""
    params = module.params
    if params["key_content"] is not None:
        if not params["key_content"].strip():
            fail(
                module,
                "invalid_option",
                "key_content is empty",
                "give the armored key block (-----BEGIN PGP PUBLIC KEY BLOCK-----), for example with a file "
                "lookup, or leave key_content out to download the key from key_url",
            )
        return params["key_content"].encode("utf-8"), "content", "key_content", None
    url = params["key_url"] or params["base_url"].rstrip("/") + "/gpgkey"
    try:
        kind, location = key_location(url)
    except ValueError as exc:
        fail(module, "invalid_option", str(exc), "correct key_url (nvidia_container_toolkit_gpg_key_url)")
    if kind == "file":
        try:
            with open(location, "rb") as handle:
                return handle.read(), "file", location, None
        except OSError as exc:
            fail(
                module,
                "key_download",
                "cannot read the key file %s: %s" % (location, exc.strerror or exc),
                "a file:// key URL is read on the managed host: check the path and its permissions there, or ship "
                "the key from the controller with key_content and a file lookup",
            )
    response, info = fetch_with_proxy(module, url)
    if info.get("status") != 200 or response is None:
        fail(
            module,
            "key_download",
            "Could not fetch the key from %s: HTTP %s, %s" % (url, info.get("status"), info.get("msg")),
            "check nvidia_container_toolkit_gpg_key_url and the proxy, or give the key inline or as a file",
        )
    return response.read(), "http", url, info.get("content-type")


def fetch_with_proxy(module, url):
    # urllib takes its proxy from the environment only; it is set for this download alone, so the commands the
    # module runs afterwards do not inherit the password.
    proxy = module.params["proxy"]
    saved = dict((name, os.environ.get(name)) for name in ("http_proxy", "https_proxy"))
    if proxy:
        os.environ["http_proxy"] = os.environ["https_proxy"] = proxy
    try:
        return fetch_url(module, url, timeout=module.params["timeout"], force=True)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def check_key(module, data, kind, origin, content_type, fingerprint):
    """The binary keyring holding just the pinned key, or a failure that tells a bad download from a wrong key."""
    try:
        return check_pinned(data, fingerprint)
    except NotAnOpenPGPKeyError as exc:
        if kind == "content":
            what = "key_content"
            hint = "give the armored key block (-----BEGIN PGP PUBLIC KEY BLOCK-----) or the binary key"
        elif kind == "file":
            what = "the key file %s" % origin
            hint = "point key_url at the file that holds the armored key; the pin itself needs no change"
        else:
            what = "what %s returned%s" % (origin, " (served as %s)" % content_type if content_type else "")
            hint = (
                "the address did not give the key: a mirror without it, a proxy's error page or a captive portal "
                "answers this way. Open it from this host (through the same proxy) to see what it serves, then point "
                "nvidia_container_toolkit_gpg_key_url at the armored key; the pin itself needs no change"
            )
        fail(module, "not_a_key", "Refusing the repository key: %s is %s" % (what, exc), hint)
    except PinMismatchError as exc:
        fail(
            module,
            "fingerprint",
            "Refusing the repository key: %s" % exc,
            "use the key whose fingerprint is pinned, or change nvidia_container_toolkit_gpg_fingerprint "
            "after verifying the new key out of band",
        )
    except KeyringError as exc:
        fail(
            module,
            "key_invalid",
            "Refusing the repository key from %s: %s" % (origin, exc),
            "the data is OpenPGP but damaged or not a single public key: fetch it again from NVIDIA's documented "
            "URL, or export the public key alone",
        )


def check_options(module):
    """Refuse values that would reach apt's source entry or command line in a form apt would misread."""
    params = module.params
    try:
        check_base_url(params["base_url"])
        check_architecture(params["architecture"])
        check_apt_path("keyring", params["keyring"])
        check_apt_path("source_file", params["source_file"])
        check_package_names(params["packages"])
        if params["proxy"]:
            repo_apt.check_proxy(params["proxy"])
    except ValueError as exc:
        fail(module, "invalid_option", str(exc), "correct that value where the play sets it")


def read_file(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def write_file(module, path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".gpufleet-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o644)
    module.atomic_move(temporary, path)
    os.chmod(path, 0o644)


def needs_write(path, data):
    """True when `path` is missing, holds other bytes, or is not mode 0644 (apt reads it as `_apt`)."""
    return read_file(path) != data or (os.stat(path).st_mode & 0o777) != 0o644


def describe_keyring(data):
    if data is None:
        return ""
    try:
        keys = "".join("key %s\n" % fingerprint for fingerprint in primary_fingerprints(data))
        return "%s(%d bytes)\n" % (keys, len(data))
    except KeyringError as exc:
        return "(unreadable keyring: %s)\n" % exc


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            base_url=dict(type="str", default=DEFAULT_BASE_URL),
            channel=dict(type="str", default="stable", choices=["stable", "experimental"]),
            architecture=dict(type="str", required=True),
            key_url=dict(type="str", no_log=False),  # a public URL, not a secret
            key_content=dict(type="str", no_log=False),
            fingerprint=dict(type="str", default="C95B321B61E88C1809C4F759DDCAE044F796ECB0"),
            keyring=dict(type="path", default="/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"),
            source_file=dict(type="path", default="/etc/apt/sources.list.d/nvidia-container-toolkit.list"),
            packages=dict(type="list", elements="str", default=list(TOOLKIT_PACKAGES)),
            version=dict(type="str"),
            proxy=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
            cleanup_leftovers=dict(type="bool", default=True),
            backup_dir=dict(type="path", default="/var/backups/gpufleet/nvidia-container-toolkit"),
            update_cache=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run_env = {"LC_ALL": "C", "LANG": "C", "DEBIAN_FRONTEND": "noninteractive"}

    def run(argv):
        return module.run_command(argv, environ_update=run_env)

    check_options(module)
    try:
        fingerprint = normalize_fingerprint(params["fingerprint"])
    except KeyringError as exc:
        fail(module, "invalid_option", str(exc), "set fingerprint to the key's full fingerprint")

    # 1. The key: pinned before apt sees it.
    key_data, key_kind, key_origin, content_type = get_key(module)
    keyring_data = check_key(module, key_data, key_kind, key_origin, content_type, fingerprint)

    uri = repository_uri(params["base_url"], params["channel"], params["architecture"])
    line = source_line(params["base_url"], params["channel"], params["architecture"], params["keyring"])
    source_data = source_file_content(line).encode("utf-8")
    queried = list(params["packages"]) + [name for name in LEGACY_PACKAGES if name not in params["packages"]]

    # 2. Trial run in a private directory: nothing on the host changes when the repository is broken.
    workdir = tempfile.mkdtemp(prefix="gpufleet-nvidia-repo-")
    try:
        try:
            found, index_names = repo_apt.probe(
                run,
                workdir,
                keyring_data,
                lambda path: source_line(params["base_url"], params["channel"], params["architecture"], path),
                uri,
                queried,
                params["proxy"],
            )
        except ValueError as exc:
            # Only the trial folder's own path is left unchecked by check_options: it comes from TMPDIR.
            fail(
                module,
                "invalid_option",
                "Nothing was changed on the host. The trial run's folder %s cannot go into an apt source entry: %s"
                % (workdir, exc),
                "set TMPDIR on the host to a plain path such as /tmp",
            )
        except repo_apt.RepositoryError as exc:
            fail(
                module,
                exc.cause,
                "Nothing was changed on the host. " + exc.message,
                exc.hint,
                rc=exc.rc,
                stdout=exc.stdout,
                stderr=exc.stderr,
            )
        problem = missing_version(found, params["packages"], params["version"])
        if problem:
            fail(
                module,
                "version",
                "Nothing was changed on the host: %s (architecture %s)" % (problem, params["architecture"]),
                "set nvidia_container_toolkit_version to one of the listed versions",
                versions=found,
            )
        probe_lists = os.path.join(workdir, "lists")

        # 3. Plan.
        keyring_before = read_file(params["keyring"])
        keyring_changed = needs_write(params["keyring"], keyring_data)
        source_before = read_file(params["source_file"])
        source_changed = needs_write(params["source_file"], source_data)
        planned, warnings = ([], [])
        if params["cleanup_leftovers"]:
            planned, warnings = leftovers_mod.plan(ETC_APT, params["source_file"], params["base_url"], fingerprint)
        cache_current = repo_apt.host_cache_current(probe_lists, index_names)

        # 4. Apply.
        if module.check_mode:
            removed = [leftover.as_dict() for leftover in planned]
        else:
            removed = leftovers_mod.apply(planned, params["backup_dir"])
            if keyring_changed:
                write_file(module, params["keyring"], keyring_data)
            if source_changed:
                write_file(module, params["source_file"], source_data)
        cache_updated = False
        if (
            not module.check_mode
            and params["update_cache"]
            and (source_changed or keyring_changed or not cache_current)
        ):
            try:
                repo_apt.update_host(run, params["source_file"], uri, params["proxy"])
            except repo_apt.RepositoryError as exc:
                os.remove(params["source_file"])
                fail(
                    module,
                    exc.cause,
                    "Removed %s again so the host's apt keeps working. %s" % (params["source_file"], exc.message),
                    exc.hint,
                    rc=exc.rc,
                    stdout=exc.stdout,
                    stderr=exc.stderr,
                )
            cache_updated = True
            cache_current = repo_apt.host_cache_current(probe_lists, index_names)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    messages = [leftovers_mod.describe(result, module.check_mode) for result in removed] + warnings
    changed = keyring_changed or source_changed or bool(removed)
    diff = [
        dict(
            before_header=params["source_file"],
            after_header=params["source_file"],
            before=(source_before or b"").decode("utf-8", "replace"),
            after=source_data.decode("utf-8"),
        ),
        dict(
            before_header=params["keyring"],
            after_header=params["keyring"],
            before=describe_keyring(keyring_before),
            after=describe_keyring(keyring_data),
        ),
    ] + [
        dict(
            before_header=item["path"],
            after_header=item["path"],
            before="%s\n" % item["path"],
            after="(%s: %s)\n" % (item["action"], item["reason"]),
        )
        for item in removed
    ]
    module.exit_json(
        changed=changed,
        keyring=dict(path=params["keyring"], fingerprint=fingerprint, changed=keyring_changed),
        source=dict(path=params["source_file"], line=line, changed=source_changed),
        leftovers=removed,
        messages=messages,
        versions=found,
        cache_current=cache_current,
        cache_updated=cache_updated,
        diff=diff,
    )


def main():
    run_module()


if __name__ == "__main__":
    main()
