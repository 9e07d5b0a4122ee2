# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline testbed: a Docker engine, Debian test-host images, the fixture NVIDIA repository.

Nothing here reaches beyond Debian's mirror: images are built by debootstrap (amd64 natively, arm64 under
qemu-user-static), NVIDIA's repository is replaced by a fixture repository signed by a throwaway key and served
on 127.0.0.1, and the GPU is simulated (tests/testbed/gpu_sim). Every artefact is cached by a hash of its inputs.

    testbed.py up [--arch amd64 --arch arm64] [--image trixie:amd64]
                                                 engine + images + fixture repo + CUDA-like image; prints the env
    testbed.py engine-start | engine-stop        start dockerd when none answers; stop only the one we started
    testbed.py image --release bookworm --arch amd64
    testbed.py down                              stop what `up` started (repository server, our dockerd)
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE_DIR = os.environ.get("GPUFLEET_TESTBED_CACHE", os.path.expanduser("~/.cache/gpufleet-testbed"))
STATE_DIR = os.environ.get("GPUFLEET_TESTBED_STATE", "/run/gpufleet-testbed")
DEBIAN_MIRROR = os.environ.get("GPUFLEET_DEBIAN_MIRROR", "http://deb.debian.org/debian")
REPO_PORT = int(os.environ.get("GPUFLEET_FIXTURE_REPO_PORT", "8765"))
# Where the dockerd the testbed starts keeps its images; CI points it at an empty folder to prove a fresh machine.
DOCKER_DATA_ROOT = os.environ.get("GPUFLEET_DOCKER_DATA_ROOT", "")

# Debian release codename -> version, for image tags and molecule platform names.
RELEASES = {"bullseye": "11", "bookworm": "12", "trixie": "13"}
# What a fresh cloud image of Debian has that Ansible and our roles rely on; nothing of what the roles install.
BASE_PACKAGES = [
    "python3",
    "python3-apt",
    "gnupg",
    "ca-certificates",
    "systemd",
    "systemd-sysv",
    "sudo",
    "dbus",
    "iproute2",
    "openssh-server",
    "procps",
]
IMAGE_REPO = "gpufleet-testbed/debian"
# Bump when the way images are built changes, so caches built the old way are not reused.
IMAGE_RECIPE_VERSION = "4"
# Bump when only the way a cached rootfs becomes an image changes (no new debootstrap needed).
IMAGE_LOADER_VERSION = "5"
# qemu-user cannot emulate what runc and nsenter do with namespaces (setns from a multi-threaded process, runc's
# clone dance), so emulated test hosts get the machine's own runc and nsenter, run natively, ahead on PATH. Everything
# else in the host, dockerd and containerd included, stays the foreign architecture's own.
NATIVE_EMULATION_AIDS = {"/usr/sbin/runc": "usr/local/sbin/runc", "/usr/bin/nsenter": "usr/local/bin/nsenter"}
# Podman there too: its arm64 crun cannot run under qemu-user ("Failed to re-execute libcrun via memory file
# descriptor", then "clone: Invalid argument"), so it is pointed at the native runc above; and the arm64 build of its
# seccomp profile allows arch_prctl only for amd64, which the x86_64 qemu running each arm64 program in the container
# needs at start ("cannot set %fs base address for thread-local storage"). A drop-in Podman reads when it is
# installed; nothing on a native arm64 runner has it.
PODMAN_EMULATION_DROPIN = (
    "etc/containers/containers.conf.d/50-gpufleet-emulation.conf",
    "# gpufleet testbed: Podman in an arm64 test host emulated by qemu-user (tests/testbed/testbed.py)\n"
    "[containers]\n"
    'seccomp_profile = "unconfined"\n'
    "\n"
    "[engine]\n"
    'runtime = "runc"\n'
    "\n"
    "[engine.runtimes]\n"
    'runc = ["/usr/local/sbin/runc"]\n',
)


def log(message):
    print("testbed: " + message, file=sys.stderr, flush=True)


def run(argv, **kwargs):
    """Run a step; its chatter goes to stderr, as stdout carries `up`'s answer (the env file's path)."""
    log("$ " + " ".join(argv))
    kwargs.setdefault("stdout", sys.stderr)
    return subprocess.run(argv, check=True, **kwargs)


def docker_answers():
    probe = subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return probe.returncode == 0


def engine_start(args=None):
    """Start dockerd the way TESTBED.md measured to work here, unless an engine already answers."""
    if docker_answers():
        log("a Docker engine already answers; using it")
        return
    os.makedirs(STATE_DIR, exist_ok=True)
    # No bridge and no iptables: this machine's network must not gain private address ranges.
    logfile = open(os.path.join(STATE_DIR, "dockerd.log"), "ab")  # noqa: SIM115 (dockerd keeps it open)
    argv = ["dockerd", "--bridge=none", "--iptables=false", "--ip6tables=false"]
    if DOCKER_DATA_ROOT:
        argv.append("--data-root=" + DOCKER_DATA_ROOT)
    proc = subprocess.Popen(
        argv,
        stdout=logfile,
        stderr=logfile,
        start_new_session=True,
    )
    with open(os.path.join(STATE_DIR, "dockerd.pid"), "w") as handle:
        handle.write(str(proc.pid))
    for _second in range(60):
        if docker_answers():
            log("started dockerd (pid %d)" % proc.pid)
            return
        if proc.poll() is not None:
            break
        time.sleep(1)
    raise SystemExit("testbed: dockerd did not come up; see %s/dockerd.log" % STATE_DIR)


def engine_stop(args=None):
    pidfile = os.path.join(STATE_DIR, "dockerd.pid")
    if not os.path.exists(pidfile):
        log("no dockerd started by the testbed; leaving the engine alone")
        return
    with open(pidfile) as handle:
        pid = int(handle.read().strip())
    try:
        os.kill(pid, 15)
        for _second in range(30):
            os.kill(pid, 0)
            time.sleep(1)
    except ProcessLookupError:
        pass
    os.unlink(pidfile)
    log("stopped the dockerd the testbed started (pid %d)" % pid)


def ensure_foreign_arch(arch):
    """Register qemu for arm64 binaries (binfmt_misc), as TESTBED.md measured.

    Registered anew from the installed qemu's own binfmt.d line: entries carry the F flag, which keeps the
    interpreter that was installed at registration open, so an upgraded qemu is used only once registered again.
    """
    if arch == host_dpkg_arch():
        return
    qemu = {"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}[arch]
    if not os.path.exists("/proc/sys/fs/binfmt_misc/status"):
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"])
    entry = "/proc/sys/fs/binfmt_misc/" + qemu
    conf = "/usr/lib/binfmt.d/%s.conf" % qemu
    if os.path.exists(conf):
        if os.path.exists(entry):
            with open(entry, "w") as handle:
                handle.write("-1")
        with open(conf) as source, open("/proc/sys/fs/binfmt_misc/register", "w") as register:
            register.write(source.read().strip())
        log("registered %s from %s" % (qemu, conf))
    elif not os.path.exists(entry):
        run(["update-binfmts", "--enable", qemu])


def host_dpkg_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def image_tag(release, arch):
    return "%s:%s-%s" % (IMAGE_REPO, RELEASES[release], arch)


def image_inputs_hash(release, arch):
    digest = hashlib.sha256()
    digest.update(json.dumps([IMAGE_RECIPE_VERSION, release, arch, BASE_PACKAGES, DEBIAN_MIRROR]).encode())
    return digest.hexdigest()[:16]


def image_label(tag):
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", '{{ index .Config.Labels "gpufleet.testbed.hash" }}', tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def build_rootfs_tarball(release, arch, tarball):
    ensure_foreign_arch(arch)
    rootfs = tempfile.mkdtemp(prefix="gpufleet-rootfs-", dir=CACHE_DIR)
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--arch=" + arch,
                "--include=" + ",".join(BASE_PACKAGES),
                release,
                rootfs,
                DEBIAN_MIRROR,
            ],
            stdout=subprocess.DEVNULL,
        )
        customise_rootfs(rootfs, release)
        partial = tarball + ".partial"
        run(["tar", "-C", rootfs, "-c", "-f", partial, "."])
        os.rename(partial, tarball)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def customise_rootfs(rootfs, release):
    """Make the rootfs behave like a fresh cloud host under systemd in a container."""
    with open(os.path.join(rootfs, "etc/apt/sources.list"), "w") as handle:
        handle.write("deb %s %s main\n" % (DEBIAN_MIRROR, release))
        handle.write("deb %s %s-updates main\n" % (DEBIAN_MIRROR, release))
    # Units that wait for hardware or consoles that a container does not have.
    for unit in ("getty.target", "console-getty.service", "systemd-udevd.service", "systemd-remount-fs.service"):
        link = os.path.join(rootfs, "etc/systemd/system", unit)
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)
    # sshd would listen on port 22 of the machine itself (test hosts share its network namespace): the fleet
    # scenarios start it on a port of their own.
    for wanted in ("multi-user.target.wants/ssh.service", "sshd.service"):
        path = os.path.join(rootfs, "etc/systemd/system", wanted)
        if os.path.lexists(path):
            os.unlink(path)
    # apt in a fresh image has no lists; docs and man pages only cost time in every test host.
    with open(os.path.join(rootfs, "etc/dpkg/dpkg.cfg.d/01-gpufleet-testbed-nodoc"), "w") as handle:
        handle.write("path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n")
    with open(os.path.join(rootfs, "etc/gpufleet-testbed"), "w") as handle:
        handle.write("This is a gpufleet.containers test host built by tests/testbed/testbed.py (not a real server).\n")
    open(os.path.join(rootfs, "etc/machine-id"), "w").close()


def ensure_image(release, arch):
    tag = image_tag(release, arch)
    inputs = image_inputs_hash(release, arch)
    if image_label(tag) == inputs + "." + IMAGE_LOADER_VERSION:
        log("image %s is current (inputs %s)" % (tag, inputs))
        return tag
    os.makedirs(CACHE_DIR, exist_ok=True)
    tarball = os.path.join(CACHE_DIR, "rootfs-%s-%s-%s.tar" % (release, arch, inputs))
    if not os.path.exists(tarball):
        started = time.time()
        build_rootfs_tarball(release, arch, tarball)
        log("debootstrap %s/%s took %.0f s" % (release, arch, time.time() - started))
    load_image(tarball, tag, arch, inputs)
    return tag


def emulation_aids_layer(directory):
    """A tar layer with native runc and nsenter, the shared libraries they load, and Podman's drop-in; its path."""
    layer = os.path.join(directory, "emulation-aids.tar")
    libraries = set()
    for program in NATIVE_EMULATION_AIDS:
        listing = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
        for line in listing.splitlines():
            path = line.split("=>")[-1].split("(")[0].strip()
            if path.startswith("/"):
                libraries.add(path)
    with tarfile.open(layer, "w") as archive:
        for program, target in NATIVE_EMULATION_AIDS.items():
            archive.add(os.path.realpath(program), arcname=target)
        for library in sorted(libraries):
            # Debian's /lib is a link to usr/lib: a layer entry under lib/ would replace the link with a folder.
            target = library.lstrip("/")
            if target.startswith("lib/"):
                target = "usr/" + target
            archive.add(os.path.realpath(library), arcname=target)
        dropin_path, dropin_text = PODMAN_EMULATION_DROPIN
        dropin = dropin_text.encode()
        entry = tarfile.TarInfo(dropin_path)
        entry.size, entry.mode, entry.mtime = len(dropin), 0o644, 0
        archive.addfile(entry, io.BytesIO(dropin))
    return layer


def load_image(rootfs_tarball, tag, arch, inputs):
    """Load the rootfs as a one-layer image whose config names its real architecture.

    `docker import --platform` leaves the architecture at the engine's own on Docker 20.10, and an arm64 image that
    says amd64 would hide exactly the mistakes the arm64 scenarios exist to catch.
    """
    layers = [rootfs_tarball]
    scratch = tempfile.mkdtemp(prefix="gpufleet-layers-", dir=CACHE_DIR)
    if arch != host_dpkg_arch():
        layers.append(emulation_aids_layer(scratch))
    diff_ids = []
    for layer in layers:
        digest = hashlib.sha256()
        with open(layer, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        diff_ids.append("sha256:" + digest.hexdigest())
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "Cmd": ["/lib/systemd/systemd"],
            "Env": ["container=docker", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Labels": {
                "gpufleet.testbed.hash": inputs + "." + IMAGE_LOADER_VERSION,
                "gpufleet.testbed.note": "test host, not a real server",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "gpufleet testbed: debootstrap --variant=minbase"},
            {"created_by": "gpufleet testbed: native runc and nsenter for emulated hosts"},
        ][: len(layers)],
    }
    if arch == "arm64":
        config["variant"] = "v8"
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_names = ["layer%d/layer.tar" % number for number in range(len(layers))]
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": layer_names}]).encode()
    log("loading %s (%s) into the engine" % (tag, arch))
    loader = subprocess.Popen(["docker", "load", "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    with tarfile.open(fileobj=loader.stdin, mode="w|") as archive:
        for name, payload in ((config_name, config_bytes), ("manifest.json", manifest)):
            member = tarfile.TarInfo(name)
            member.size = len(payload)
            archive.addfile(member, io.BytesIO(payload))
        for layer, name in zip(layers, layer_names):
            archive.add(layer, arcname=name)
    loader.stdin.close()
    shutil.rmtree(scratch, ignore_errors=True)
    if loader.wait() != 0:
        raise SystemExit("testbed: docker load of %s failed" % tag)


def cmd_image(args):
    print(ensure_image(args.release, args.arch))


def serve(directory, port):
    serve_script = os.path.join(HERE, "nvidia_repo", "serve.py")
    run([sys.executable, serve_script, "start", "--dir", directory, "--port", str(port)])
    return serve_url(port)


def fixture_repo_up():
    """Build (cached) and serve the fixture NVIDIA repository and its wrong-key twin; returns the scenarios' env."""
    out_dir = os.path.join(CACHE_DIR, "nvidia-repo")
    run([sys.executable, os.path.join(HERE, "nvidia_repo", "build.py"), out_dir, "--base-url", serve_url(REPO_PORT)])
    with open(os.path.join(out_dir, "fingerprint.txt")) as handle:
        fingerprints = dict(line.split("=", 1) for line in handle.read().split() if "=" in line)
    return {
        "GPUFLEET_FIXTURE_REPO_DIR": out_dir,
        "GPUFLEET_FIXTURE_REPO_URL": serve(out_dir, REPO_PORT),
        "GPUFLEET_FIXTURE_REPO_FINGERPRINT": fingerprints["good"],
        # Same packages, signed by another key: what a tampered mirror looks like.
        "GPUFLEET_FIXTURE_WRONGKEY_URL": serve(out_dir + "-wrongkey", REPO_PORT + 1),
        "GPUFLEET_FIXTURE_WRONGKEY_FINGERPRINT": fingerprints["wrongkey"],
    }


def serve_url(port):
    return "http://127.0.0.1:%d" % port


def cuda_image_up(arch):
    out_dir = os.path.join(CACHE_DIR, "cuda-image")
    os.makedirs(out_dir, exist_ok=True)
    result = run(
        ["bash", os.path.join(HERE, "cuda_image", "build.sh"), arch, out_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def image_env(release, arch, tag, default_release):
    """The env file's names for one test-host image.

    Every image is GPUFLEET_IMAGE_<RELEASE>_<ARCH> (GPUFLEET_IMAGE_TRIXIE_AMD64); the images of `up`'s own release
    are also GPUFLEET_IMAGE_<ARCH>, the name the scenarios have always used.
    """
    env = {"GPUFLEET_IMAGE_%s_%s" % (release.upper(), arch.upper()): tag}
    if default_release:
        env["GPUFLEET_IMAGE_%s" % arch.upper()] = tag
    return env


def release_and_arch(text):
    """argparse type of `up --image`: RELEASE:ARCH, e.g. trixie:amd64."""
    release, _colon, arch = text.partition(":")
    if release not in RELEASES or arch not in ("amd64", "arm64"):
        raise argparse.ArgumentTypeError(
            "%r is not RELEASE:ARCH; RELEASE one of %s, ARCH amd64 or arm64 (e.g. trixie:amd64)"
            % (text, ", ".join(sorted(RELEASES)))
        )
    return release, arch


def cmd_up(args):
    engine_start()
    for arch in args.arch:
        ensure_foreign_arch(arch)
    for _release, arch in args.image:
        ensure_foreign_arch(arch)
    env = {"GPUFLEET_TESTBED_CACHE": CACHE_DIR}
    for arch in args.arch:
        env.update(image_env(args.release, arch, ensure_image(args.release, arch), default_release=True))
        env["GPUFLEET_CUDA_IMAGE_TARBALL_%s" % arch.upper()] = cuda_image_up(arch)
    for release, arch in args.image:
        env.update(image_env(release, arch, ensure_image(release, arch), default_release=False))
        env["GPUFLEET_CUDA_IMAGE_TARBALL_%s" % arch.upper()] = cuda_image_up(arch)
    env.update(fixture_repo_up())
    env_file = os.path.join(CACHE_DIR, "testbed.env")
    with open(env_file, "w") as handle:
        for key, value in sorted(env.items()):
            handle.write("export %s=%s\n" % (key, value))
    log("testbed is up; environment in %s" % env_file)
    print(env_file)


def cmd_down(args):
    out_dir = os.path.join(CACHE_DIR, "nvidia-repo")
    for directory in (out_dir, out_dir + "-wrongkey"):
        subprocess.run(
            [sys.executable, os.path.join(HERE, "nvidia_repo", "serve.py"), "stop", "--dir", directory, "--port", "0"],
            check=False,
        )
    engine_stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("engine-start").set_defaults(func=engine_start)
    sub.add_parser("engine-stop").set_defaults(func=engine_stop)
    image = sub.add_parser("image")
    image.add_argument("--release", default="bookworm", choices=sorted(RELEASES))
    image.add_argument("--arch", default="amd64", choices=["amd64", "arm64"])
    image.set_defaults(func=cmd_image)
    up = sub.add_parser("up")
    up.add_argument("--release", default="bookworm", choices=sorted(RELEASES))
    up.add_argument("--arch", action="append", choices=["amd64", "arm64"])
    up.add_argument(
        "--image",
        action="append",
        default=[],
        type=release_and_arch,
        help="also build RELEASE:ARCH (e.g. trixie:amd64); the env file names it GPUFLEET_IMAGE_TRIXIE_AMD64",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("down").set_defaults(func=cmd_down)
    args = parser.parse_args(argv)
    if args.command == "up":
        # Each architecture and each extra image once, in the order given; `image --arch` is a single string.
        args.arch = list(dict.fromkeys(args.arch or ["amd64"]))
        args.image = list(dict.fromkeys(args.image))
    args.func(args)


if __name__ == "__main__":
    main()
