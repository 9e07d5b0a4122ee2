# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's GPU verification from start to verdict, in one call: what the gpu_verify module does.

Plain Python (no Ansible import), driven through a runner (get_bin_path, run) that the module gives and the tests
replace. The steps: read the host (dpkg architecture, the toolkit's version, the distribution); then for each engine
(Docker, containerd, Podman; their commands in verification/engines.py): its version, make the verification image
present (loaded from a tarball or pulled, only when absent), check its architecture, run nvidia-smi in it, parse it
and hold it against the expectations, and for containerd read its CRI plugin back (containerd_state.py); give the
verdict (verdict.build_verdict per engine, verdict.combine_engines for the host: the one schema every verdict file
has). Check mode runs the read-only steps, and says what it would add instead of adding it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.host.probe import dpkg_query_argv, parse_dpkg_query
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.run import (
    cdi_devices,
    gpu_selection,
    run_and_judge,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.containerd_state import (
    DumpError,
    cri_plugin_status,
    parse_config_dump,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.engines import (
    CONTAINER_PREFIX,
    SKIPPED,
    add_image,
    cleanup_argvs,
    cli,
    command,
    describe_addition,
    detail,
    engine_version,
    image_name,
    probe_image,
    run_params,
    stable_command,
    version_argv,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import (
    build_verdict,
    combine_engines,
    fail_engine,
    find_blocker,
)

TOOLKIT_PACKAGE = "nvidia-container-toolkit"
# timeout(1)'s exit codes: the run was stopped, or killed after ignoring that.
TIMED_OUT = (124, 137)
# The gpu_verify module's engine settings and their defaults, for callers that give none (verification as it was
# before engines: Docker alone).
ENGINE_DEFAULTS = {
    "engines": ["docker"],
    "docker_cdi": False,
    "ctr_bin": "ctr",
    "containerd_bin": "containerd",
    "containerd_namespace": "gpufleet",
    "containerd_snapshotter": "",
    "containerd_runtime_binary": "/usr/bin/nvidia-container-runtime",
    "containerd_net_host": False,
    "containerd_require_cri": True,
    "podman_bin": "podman",
    "run_id": "0",
}
_command = command


def parse_os_release(text):
    """/etc/os-release as Ansible's facts name it: distribution, distribution_version, distribution_major_version."""
    values = {}
    for line in (text or "").splitlines():
        key, separator, value = line.partition("=")
        if separator:
            values[key.strip()] = value.strip().strip("\"'")
    version = values.get("VERSION_ID", "")
    return {
        # Ansible's names: Debian, Ubuntu (NAME would say "Debian GNU/Linux").
        "distribution": values.get("ID", "unknown").capitalize() if values.get("ID") != "ubuntu" else "Ubuntu",
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
    }


def host_architecture(runner, machine):
    """dpkg's architecture, or the kernel's machine name mapped to it where dpkg does not answer."""
    probe = _command(runner, ["dpkg", "--print-architecture"])
    if probe["rc"] == 0 and probe["stdout"].strip():
        return probe["stdout"].strip()
    try:
        return dpkg_arch(machine)
    except UnsupportedArchitecture:
        return machine


def toolkit_version(runner):
    probe = _command(runner, dpkg_query_argv([TOOLKIT_PACKAGE]))
    state = parse_dpkg_query(probe["stdout"], [TOOLKIT_PACKAGE])[TOOLKIT_PACKAGE]
    return state["version"] if state["installed"] else None


def containerd_findings(runner, options):
    """The CRI plugin as containerd reports it: (detail fields, [(error_kind, message)] of what is wrong)."""
    dump = command(runner, [options["containerd_bin"], "config", "dump"])
    if dump["rc"] != 0:
        why = ("%s" % (dump["stderr"] or dump["msg"] or "no output")).strip()
        message = "`%s config dump` failed: %s" % (options["containerd_bin"], why.splitlines()[-1])
        return {"cri_runtimes": None, "cri_plugin_status": None}, [("containerd_config_invalid", message)]
    try:
        state = parse_config_dump(dump["stdout"])
    except DumpError as error:
        return {"cri_runtimes": None, "cri_plugin_status": None}, [("containerd_config_invalid", str(error))]
    listed = command(runner, [options["ctr_bin"], "plugins", "ls"])
    status = cri_plugin_status(listed["stdout"]) if listed["rc"] == 0 else None
    fields = {"cri_runtimes": state["cri_runtimes"], "cri_plugin_status": status}
    problems = []
    if state["cri_plugin"] is None:
        disabled = ", ".join(state["disabled_plugins"]) or "none"
        problems.append(
            ("cri_plugin_failed", "containerd's configuration has no CRI plugin (disabled_plugins: %s)" % disabled)
        )
    elif "nvidia" not in state["cri_runtimes"]:
        runtimes = ", ".join(state["cri_runtimes"]) or "none"
        problems.append(("cri_runtime_missing", "the CRI plugin's runtimes are %s, without nvidia" % runtimes))
    if state["cri_plugin"] is not None and listed["rc"] == 0 and status != "ok":
        problems.append(("cri_plugin_failed", "`ctr plugins ls` shows the CRI plugin as %s" % (status or "absent")))
    return fields, problems


def output_cut_short(smi):
    """Why a run that succeeded lost the end of its output, or None.

    nvidia-smi exited 0, so the XML it wrote was whole: an engine's copy of the container's stdout lost its tail
    (measured with `ctr run` under load on containerd 1.7; Docker has the same class of bug, docker/cli#4338). Such a
    run says nothing about the GPUs, so it is run once more rather than failing the host.
    """
    message = smi.get("msg") or smi.get("message") or ""
    if smi.get("rc") == 0 and smi.get("error_kind") == "parse_error" and "cut short" in message:
        return message
    return None


def verify_engine(runner, options, engine, check_mode, expect, host_facts):
    """One engine's verification: probe it, add the image only when absent, run nvidia-smi, judge the answer.

    Returns changed, actions, unverified and message, and (when verified) verdict, version and detail.
    """
    name = image_name(options, engine)
    version = command(runner, version_argv(options, engine))
    image_before = image_after = load = pull = None
    if version["rc"] == 0:
        image_before = probe_image(runner, options, engine)
        image_after, load, pull = SKIPPED, SKIPPED, SKIPPED
        if image_before["rc"] != 0 and not check_mode:
            load, pull = add_image(runner, options, engine, host_facts["architecture"])
            image_after = probe_image(runner, options, engine)
    blocker = find_blocker(
        version,
        image_before,
        image_after,
        load,
        pull,
        image=name,
        tarball=options["image_tarball"],
        pull_timeout=options["pull_timeout"],
        docker_bin=cli(options, engine),
        host_arch=host_facts["architecture"],
        check_mode=check_mode,
        engine=engine,
    )
    added = [attempt for attempt in (load, pull) if attempt not in (None, SKIPPED) and attempt["rc"] == 0]
    changed = bool(added) or blocker["unverified"]
    outcome = {
        "changed": changed,
        "actions": [describe_addition(options, engine, check_mode)] if changed else [],
        "unverified": blocker["unverified"],
        "message": blocker["message"] if blocker["unverified"] else None,
    }
    if blocker["unverified"]:
        return outcome
    container_name = CONTAINER_PREFIX + options["run_id"] if engine == "containerd" else None
    smi = SKIPPED
    cut_short = None
    if blocker["error_kind"] is None:
        present = image_before if image_before["rc"] == 0 else image_after
        params = run_params(options, engine, expect, container_name, present.get("name", name))
        smi = run_and_judge(runner, params)
        if engine == "containerd" and smi.get("rc") in TIMED_OUT:
            for argv in cleanup_argvs(options, container_name):
                command(runner, argv)
        cut_short = output_cut_short(smi)
        if cut_short:
            smi = run_and_judge(runner, params)
    found_version = engine_version(engine, version)
    verdict = build_verdict(
        smi,
        blocker,
        image=name,
        expect=expect,
        docker_version=found_version if engine == "docker" else None,
        **host_facts,
    )
    verdict["nvidia_smi"]["cmd"] = stable_command(verdict["nvidia_smi"]["cmd"], container_name)
    via_cdi = engine == "podman" or (engine == "docker" and options["docker_cdi"])
    engine_detail = detail(options, engine, cdi_devices(options["gpus"]) if via_cdi else [])
    if engine == "containerd":
        fields, problems = containerd_findings(runner, options)
        engine_detail.update(fields)
        if options["containerd_require_cri"] and problems:
            fail_engine(verdict, *problems[0])
    if cut_short:
        engine_detail["retried"] = "the first run's output was cut short (%s); this is the second run's" % cut_short
    outcome.update(verdict=verdict, version=found_version, detail=engine_detail)
    return outcome


def verify(runner, options, check_mode, os_release_text, machine):
    """Everything the gpu_verify module returns.

    options: host, image, image_tarball, pull_timeout, run_timeout, gpus, runtime, network, docker_bin, expect, and
    the engine settings in ENGINE_DEFAULTS (engines: which engines to verify, in order; run_id: unique to this run,
    for the name of containerd's container). Returns a dict: changed (an image was, or in check mode would be, added
    to an engine), actions (what was or would be done), unverified (check mode cannot verify before an engine or its
    image is there) with message, and verdict (None when unverified; with an `engines` map).
    """
    options = dict(ENGINE_DEFAULTS, **{key: value for key, value in options.items() if value is not None})
    engines = list(dict.fromkeys(options["engines"] or ["docker"]))
    if any(engine != "docker" for engine in engines) or options["docker_cdi"]:
        gpu_selection(options["gpus"])  # before anything runs: a count has no CDI or NVIDIA_VISIBLE_DEVICES form
    # As the inventory states it: the keys a user set, not the ones an argument spec filled with nulls.
    expect = {key: value for key, value in (options["expect"] or {}).items() if value is not None}
    host_facts = {
        "host": options["host"],
        "architecture": host_architecture(runner, machine),
        "toolkit_version": toolkit_version(runner),
        "facts": parse_os_release(os_release_text),
    }
    outcomes = [(engine, verify_engine(runner, options, engine, check_mode, expect, host_facts)) for engine in engines]
    changed = any(outcome["changed"] for _engine, outcome in outcomes)
    actions = [action for _engine, outcome in outcomes for action in outcome["actions"]]
    unverified = [outcome["message"] for _engine, outcome in outcomes if outcome["unverified"]]
    if unverified:
        return {
            "changed": changed,
            "actions": actions,
            "unverified": True,
            "message": " ".join(unverified),
            "verdict": None,
        }
    verdict = combine_engines(
        [(engine, outcome["verdict"], outcome["version"], outcome["detail"]) for engine, outcome in outcomes]
    )
    return {"changed": changed, "actions": actions, "unverified": False, "message": None, "verdict": verdict}
