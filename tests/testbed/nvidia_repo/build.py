# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the FIXTURE NVIDIA apt repository: laid out like nvidia.github.io/libnvidia-container, signed by a
throwaway key made at build time, holding real .deb packages with NVIDIA's names, versions and dependencies whose
programs are the gpufleet testbed fakes (tests/testbed/fake_toolkit).

    build.py OUT [--base-url URL] [--force]

OUT/stable/deb/{amd64,arm64}/ and OUT/experimental/deb/{amd64,arm64}/: the .debs, Packages, Packages.gz,
Release, InRelease (clear-signed), Release.gpg. OUT/gpgkey: the armored public key. OUT/stable/deb/
nvidia-container-toolkit.list: NVIDIA's list with the fixture URL. OUT/fingerprint.txt: `good=FPR`,
`wrongkey=FPR`, `good_keyid=`, `wrongkey_keyid=`. OUT-wrongkey/: the same repository signed by another throwaway
key (for NO_PUBKEY faults). Nothing is rebuilt while the inputs (this builder, the fakes, the URL) are unchanged.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_TOOLKIT = os.path.join(os.path.dirname(HERE), "fake_toolkit")
DEFAULT_BASE_URL = os.environ.get("GPUFLEET_FIXTURE_REPO_URL", "http://127.0.0.1:8765")
ARCHITECTURES = ("amd64", "arm64")
CHANNELS = ("stable", "experimental")
TOOLKIT_VERSIONS = ("1.17.7-1", "1.17.8-1", "1.18.0-1")
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
MAINTAINER = "gpufleet testbed <testbed@gpufleet.invalid>"
KEY_USER_IDS = {
    "good": "gpufleet testbed fixture NVIDIA repository key (THROWAWAY) <testbed@gpufleet.invalid>",
    "wrongkey": "gpufleet testbed WRONG key for fault tests (THROWAWAY) <wrongkey@gpufleet.invalid>",
}
# nvidia-docker2 up to 2.13 shipped this daemon.json as a conffile, replacing whatever the host had.
NVIDIA_DOCKER2_DAEMON_JSON = """{
    "runtimes": {
        "nvidia": {
            "path": "nvidia-container-runtime",
            "runtimeArgs": []
        }
    }
}
"""
NVIDIA_DOCKER_WRAPPER = """#!/bin/sh
# gpufleet testbed FAKE of nvidia-docker (nvidia-docker2): docker with the nvidia runtime.
exec docker "$@" --runtime=nvidia
"""


def log(message):
    print("nvidia_repo: " + message, file=sys.stderr, flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


# Since 1.18 nvidia-container-toolkit-base keeps a CDI specification of the GPUs in /var/run/cdi/nvidia.yaml itself:
# a oneshot service that runs `nvidia-ctk cdi generate` at boot, and a path unit that runs it again when the kernel's
# module list changes (a driver install or upgrade), both enabled by the package. Shaped like NVIDIA's units, except
# that the service has no ExecCondition on /lib/modules/%v/modules.dep naming nvidia.ko: test hosts have no module
# tree, and the simulated driver is no kernel module.
CDI_REFRESH_SERVICE = """[Unit]
Description=Refresh NVIDIA CDI specification file
ConditionPathExists=|/usr/bin/nvidia-smi
ConditionPathExists=|/usr/sbin/nvidia-smi

[Service]
Type=oneshot
EnvironmentFile=-/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env
ExecStart=/usr/bin/nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml

[Install]
WantedBy=multi-user.target
"""
CDI_REFRESH_PATH = """[Unit]
Description=Trigger CDI refresh on NVIDIA driver install / uninstall events

[Path]
PathChanged=/lib/modules/%v/modules.dep
PathChanged=/lib/modules/%v/modules.dep.bin

[Install]
WantedBy=multi-user.target
"""
CDI_REFRESH_POSTINST = """#!/bin/sh
set -e
# gpufleet testbed fake: enable and start the CDI refresh units, as the real package does.
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    systemctl enable nvidia-cdi-refresh.path nvidia-cdi-refresh.service >/dev/null 2>&1 || true
    systemctl start nvidia-cdi-refresh.path || true
    systemctl start nvidia-cdi-refresh.service || true
fi
"""


def inputs_digest(base_url):
    digest = hashlib.sha256(base_url.encode())
    for directory in (HERE, FAKE_TOOLKIT):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not name.endswith(".pyc"):
                digest.update(name.encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def upstream(version):
    return version.rsplit("-", 1)[0]


def fake(name):
    """A program from fake_toolkit, installed executable ('@' marks a file to read from there)."""
    return ("@" + name, 0o755)


def package_specs(version):
    """NVIDIA's four toolkit packages at one version: (name, control fields, {path: (source or text, mode)})."""
    # Since 1.18 the toolkit wants its tools at exactly its own version; before, any newer tools would do.
    exact = int(version.split(".")[1]) >= 18
    tools_dependency = "libnvidia-container-tools (%s %s)" % ("=" if exact else ">=", version)
    base_files = {
        "usr/bin/nvidia-ctk": fake("nvidia-ctk"),
        "usr/bin/nvidia-container-runtime": fake("nvidia-container-runtime"),
        "etc/nvidia-container-runtime/config.toml": ("@config.toml", 0o644),
    }
    if exact:
        base_files.update(
            {
                "lib/systemd/system/nvidia-cdi-refresh.service": (CDI_REFRESH_SERVICE, 0o644),
                "lib/systemd/system/nvidia-cdi-refresh.path": (CDI_REFRESH_PATH, 0o644),
                "DEBIAN/postinst": (CDI_REFRESH_POSTINST, 0o755),
            }
        )
    return [
        ("libnvidia-container1", {}, {"usr/share/doc/libnvidia-container1/FAKE": ("gpufleet testbed fake\n", 0o644)}),
        (
            "libnvidia-container-tools",
            {"Depends": "libnvidia-container1 (>= %s)" % version},
            {"usr/bin/nvidia-container-cli": fake("nvidia-container-cli")},
        ),
        (
            "nvidia-container-toolkit-base",
            {"Breaks": "nvidia-container-toolkit (<= 1.10.0-1)", "Replaces": "nvidia-container-toolkit (<= 1.10.0-1)"},
            base_files,
        ),
        (
            "nvidia-container-toolkit",
            {
                "Depends": "nvidia-container-toolkit-base (= %s), %s, libnvidia-container-tools (<< 2.0.0)"
                % (version, tools_dependency),
                "Breaks": "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook",
                "Replaces": "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook",
            },
            {"usr/bin/nvidia-container-runtime-hook": fake("nvidia-container-runtime-hook")},
        ),
    ]


def nvidia_docker2_specs():
    return [
        (
            "2.13.0-1",
            {"Depends": "nvidia-container-toolkit (>= 1.13.0-1)"},
            {
                "etc/docker/daemon.json": (NVIDIA_DOCKER2_DAEMON_JSON, 0o644),
                "usr/bin/nvidia-docker": (NVIDIA_DOCKER_WRAPPER, 0o755),
            },
        ),
        ("2.14.0-1", {"Depends": "nvidia-container-toolkit (>= 1.14.0-1)"}, {}),
    ]


def build_deb(work, out_dir, name, version, arch, fields, files):
    root = os.path.join(work, "%s_%s_%s" % (name, version, arch))
    os.makedirs(os.path.join(root, "DEBIAN"))
    conffiles = []
    for relative, (content, mode) in sorted(files.items()):
        target = os.path.join(root, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if content.startswith("@"):
            with open(os.path.join(FAKE_TOOLKIT, content[1:])) as handle:
                content = handle.read().replace("@VERSION@", upstream(version))
            if mode & 0o111:
                # The sources carry no shebang (ansible-test sanity allows only `env python`, which Debian lacks).
                content = "#!/usr/bin/env python3\n" + content
        with open(target, "w") as handle:
            handle.write(content)
        os.chmod(target, mode)
        if relative.startswith("etc/"):
            conffiles.append("/" + relative)
    control = [
        ("Package", name),
        ("Version", version),
        ("Architecture", arch),
        ("Maintainer", MAINTAINER),
        ("Section", "utils"),
        ("Priority", "optional"),
        ("Homepage", "https://github.com/NVIDIA/nvidia-container-toolkit"),
    ]
    control += sorted(fields.items())
    control.append(
        (
            "Description",
            "gpufleet testbed FAKE of NVIDIA's %s\n Stand-in built by the gpufleet testbed; it"
            " imitates the real package's interfaces only." % name,
        )
    )
    with open(os.path.join(root, "DEBIAN", "control"), "w") as handle:
        handle.write("".join("%s: %s\n" % pair for pair in control))
    if conffiles:
        with open(os.path.join(root, "DEBIAN", "conffiles"), "w") as handle:
            handle.write("\n".join(conffiles) + "\n")
    deb = os.path.join(out_dir, "%s_%s_%s.deb" % (name, version, arch))
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb], stdout=subprocess.DEVNULL)
    return deb


def build_packages(work):
    """Every .deb once, per architecture: {arch: [paths]}."""
    pool = os.path.join(work, "pool")
    os.makedirs(pool)
    debs = {arch: [] for arch in ARCHITECTURES}
    for arch in ARCHITECTURES:
        for version in TOOLKIT_VERSIONS:
            for name, fields, files in package_specs(version):
                debs[arch].append(build_deb(work, pool, name, version, arch, fields, files))
    for version, fields, files in nvidia_docker2_specs():
        deb = build_deb(work, pool, "nvidia-docker2", version, "all", fields, files)
        for arch in ARCHITECTURES:
            debs[arch].append(deb)
    return debs


def make_key(gnupghome, user_id):
    run(
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            user_id,
            "ed25519",
            "sign",
            "never",
        ],
        env=dict(os.environ, GNUPGHOME=gnupghome),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listing = run(
        ["gpg", "--batch", "--quiet", "--with-colons", "--list-secret-keys", user_id],
        env=dict(os.environ, GNUPGHOME=gnupghome),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        universal_newlines=True,
    ).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def write_list(path, base_url):
    line = "deb [signed-by=%s] %s/%s/deb/$(ARCH) /\n"
    with open(path, "w") as handle:
        handle.write(line % (KEYRING, base_url, "stable"))
        handle.write("#" + line % (KEYRING, base_url, "experimental"))


def build_tree(out, debs, gnupghome, fingerprint, base_url):
    gpg = [
        "gpg",
        "--batch",
        "--quiet",
        "--yes",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--local-user",
        fingerprint,
    ]
    env = dict(os.environ, GNUPGHOME=gnupghome)
    for channel in CHANNELS:
        for arch in ARCHITECTURES:
            directory = os.path.join(out, channel, "deb", arch)
            os.makedirs(directory)
            for deb in debs[arch]:
                os.link(deb, os.path.join(directory, os.path.basename(deb)))
            packages = run(["apt-ftparchive", "packages", "."], cwd=directory, stdout=subprocess.PIPE).stdout
            with open(os.path.join(directory, "Packages"), "wb") as handle:
                handle.write(packages)
            with gzip.open(os.path.join(directory, "Packages.gz"), "wb") as handle:
                handle.write(packages)
            release = run(
                [
                    "apt-ftparchive",
                    "-o",
                    "APT::FTPArchive::Release::Origin=gpufleet testbed fixture of nvidia.github.io/libnvidia-container",
                    "-o",
                    "APT::FTPArchive::Release::Label=gpufleet testbed FAKE NVIDIA %s %s" % (channel, arch),
                    "-o",
                    "APT::FTPArchive::Release::Architectures=%s all" % arch,
                    "release",
                    ".",
                ],
                cwd=directory,
                stdout=subprocess.PIPE,
            ).stdout
            with open(os.path.join(directory, "Release"), "wb") as handle:
                handle.write(release)
            run(gpg + ["--clearsign", "--output", "InRelease", "Release"], cwd=directory, env=env)
            run(gpg + ["--armor", "--detach-sign", "--output", "Release.gpg", "Release"], cwd=directory, env=env)
        write_list(os.path.join(out, channel, "deb", "nvidia-container-toolkit.list"), base_url)
    key = run(["gpg", "--armor", "--export", fingerprint], env=env, stdout=subprocess.PIPE).stdout
    with open(os.path.join(out, "gpgkey"), "wb") as handle:
        handle.write(key)


def replace_dir(new, target):
    if os.path.exists(target):
        old = target + ".old"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old)
    else:
        os.rename(new, target)


def build(out, base_url, force=False):
    out = os.path.abspath(out)
    wrong = out + "-wrongkey"
    stamp = os.path.join(out, ".inputs-sha256")
    digest = inputs_digest(base_url)
    if not force and os.path.isdir(wrong) and os.path.exists(stamp):
        with open(stamp) as handle:
            if handle.read().strip() == digest:
                log("up to date: %s (inputs %s)" % (out, digest[:12]))
                return out
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".nvidia-repo-build-", dir=parent)
    gnupghome = tempfile.mkdtemp(prefix="gpufleet-gnupg-")
    try:
        os.chmod(gnupghome, 0o700)
        log("building packages for %s" % ", ".join(ARCHITECTURES))
        debs = build_packages(work)
        fingerprints = {role: make_key(gnupghome, user_id) for role, user_id in KEY_USER_IDS.items()}
        trees = {}
        for role in ("good", "wrongkey"):
            trees[role] = os.path.join(work, "tree-" + role)
            build_tree(trees[role], debs, gnupghome, fingerprints[role], base_url)
        with open(os.path.join(trees["good"], "fingerprint.txt"), "w") as handle:
            for role, fingerprint in sorted(fingerprints.items()):
                handle.write("%s=%s\n%s_keyid=%s\n" % (role, fingerprint, role, fingerprint[-16:]))
        with open(os.path.join(trees["good"], ".inputs-sha256"), "w") as handle:
            handle.write(digest + "\n")
        replace_dir(trees["wrongkey"], wrong)
        replace_dir(trees["good"], out)
        log("built %s and %s (good key %s)" % (out, wrong, fingerprints["good"]))
    finally:
        run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=gnupghome), stderr=subprocess.DEVNULL)
        shutil.rmtree(gnupghome, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output directory (also the cache: reused while the inputs are unchanged)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="URL the repository is served at")
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    args = parser.parse_args(argv)
    for tool in ("dpkg-deb", "apt-ftparchive", "gpg"):
        if shutil.which(tool) is None:
            parser.error("%s is missing (apt-get install dpkg-dev apt-utils gnupg)" % tool)
    print(build(args.out, args.base_url.rstrip("/"), args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
