#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nvidia_cdi
short_description: Keep the NVIDIA CDI specification of a host current, and retire NVIDIA's legacy Podman hook
version_added: 0.2.0
description:
  - Makes the Container Device Interface (CDI) specification through which Podman, containerd and Docker (with
    C(features.cdi)) give containers the host's NVIDIA GPUs as C(nvidia.com/gpu=all), C(nvidia.com/gpu=0) and
    C(nvidia.com/gpu=<UUID>).
  - "Written by the module: C(nvidia-ctk cdi generate) writes a fresh spec into a temporary folder, and it replaces
    O(path) only when the two differ once parsed (formatting and comments are no difference; C(nvidia-ctk) writes no
    timestamp or other run-dependent line, so nothing else is ignored). A rerun therefore reports no change, and check
    mode, which also generates into a temporary folder, predicts the real run."
  - "The result says why the spec was kept, generated or regenerated, for example
    C(stale: made for driver 535.104.05, the driver is 550.54.15). A spec is stale when it names another driver
    version than C(nvidia-smi) reports (in C(libnvidia-ml.so.<version>), C(libcuda.so.<version>) or the
    C(enable-cuda-compat) hook), host files that no longer exist, GPUs (indexes or UUIDs) that are not there now, or
    lacks GPUs that are; or when it otherwise differs from what C(nvidia-ctk cdi generate) makes now."
  - "Kept by the toolkit: NVIDIA Container Toolkit 1.18 and later ship C(nvidia-cdi-refresh.path) and
    C(nvidia-cdi-refresh.service), which write C(/var/run/cdi/nvidia.yaml) whenever the driver's modules change.
    That folder outranks C(/etc/cdi). Where the units are installed (O(use_refresh_units=auto)), the module enables
    the path unit, runs the service when the dynamic spec is missing or stale, and checks the spec it wrote. A spec
    of the same kind that it finds at O(path) is removed: the dynamic one shadows it and it would go stale unseen.
    Other shadowed specs in C(/etc/cdi) are reported in RV(shadowed_specs)."
  - NVIDIA's legacy OCI hook for Podman (C(oci-nvidia-hook.json) in C(/usr/share/containers/oci/hooks.d) or
    C(/etc/containers/oci/hooks.d)) is removed when O(remove_legacy_hook=true), since with a CDI device as well the
    GPU is set up twice and the container fails to start.
  - A host without a working NVIDIA driver fails with C(nvidia-ctk)'s own error and a hint.
author: gpufleet maintainers (@gpufleet)
options:
  path:
    description:
      - Where the module writes the spec when it writes it itself, and the spec it removes with O(state=absent) or when
        the refresh units take over. CDI loaders read C(*.yaml), C(*.yml) and C(*.json) files in C(/etc/cdi) and
        C(/var/run/cdi); the extension must match O(format).
    type: path
    default: /etc/cdi/nvidia.yaml
  format:
    description: The spec's format, given to C(nvidia-ctk cdi generate --format).
    type: str
    choices: [yaml, json]
    default: yaml
  nvidia_ctk:
    description: The C(nvidia-ctk) binary, a name looked up on PATH or an absolute path.
    type: str
    default: nvidia-ctk
  nvidia_smi:
    description:
      - The C(nvidia-smi) binary whose C(--query-gpu=driver_version,index,uuid) answer the spec is held against. When
        it is missing or fails, the driver and device checks are skipped (the comparison with a fresh spec still
        decides).
    type: str
    default: nvidia-smi
  use_refresh_units:
    description:
      - V(auto) lets the toolkit's C(nvidia-cdi-refresh) units keep the spec where they are installed (toolkit 1.18 and
        later), and writes O(path) otherwise.
      - V(true) requires the units and fails, naming the fix, on an older toolkit. V(false) always writes O(path);
        a dynamic spec that outranks it is then reported as a warning.
      - V(auto), or a boolean (YAML V(true) and V(false) and the strings Ansible reads as booleans).
    type: raw
    default: auto
  remove_legacy_hook:
    description: Remove NVIDIA's legacy OCI hook files for Podman (the spec is in use, so both together fail).
    type: bool
    default: false
  state:
    description:
      - V(present) makes the spec current. V(absent) removes O(path) (the refresh units, when enabled, are left to
        the toolkit; the module warns that their spec stays).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: C(nvidia-ctk cdi generate) runs in check mode too, into a temporary folder, so the prediction is the
      comparison a real run makes. RV(devices) then lists what the engines see now, before any change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Before and after are the text of O(path).
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Commands run as argument lists with C(LC_ALL=C).
  - The refresh units do not follow MIG changes or a driver's removal (NVIDIA's documentation); rerun the module
    after those.
seealso:
  - name: Support for Container Device Interface (NVIDIA Container Toolkit)
    description: NVIDIA's guide to CDI, the spec's generation and the refresh units.
    link: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html
  - name: CDI specification
    description: The format and the spec folders' precedence.
    link: https://github.com/cncf-tags/container-device-interface/blob/main/SPEC.md
"""

EXAMPLES = r"""
- name: Keep the CDI spec current (the toolkit's refresh units where installed)
  gpufleet.containers.nvidia_cdi:
    remove_legacy_hook: true
  register: cdi

- name: Show why the spec was kept or made again
  ansible.builtin.debug:
    msg: "{{ cdi.action }}: {{ cdi.reason }}; engines read {{ cdi.spec_path }}, devices {{ cdi.devices }}"

- name: A JSON spec written by the module even where the refresh units exist
  gpufleet.containers.nvidia_cdi:
    path: /etc/cdi/nvidia.json
    format: json
    use_refresh_units: false

- name: Remove the spec
  gpufleet.containers.nvidia_cdi:
    state: absent
"""

RETURN = r"""
action:
  description:
    - V(keep), V(generate) (no spec yet) or V(regenerate) (stale) for a spec the module writes; V(refresh) when the
      refresh units' service was (or in check mode would be) run; V(remove) or V(absent) with O(state=absent).
  returned: always
  type: str
  sample: regenerate
reason:
  description: Why, in one sentence.
  returned: always
  type: str
  sample: "stale: made for driver 535.104.05, the driver is 550.54.15"
reasons:
  description: Each staleness finding on its own.
  returned: always
  type: list
  elements: str
  sample: ["made for driver 535.104.05, the driver is 550.54.15"]
spec_path:
  description: The spec the engines read the devices from (the dynamic one outranks O(path) when both exist).
  returned: always
  type: str
  sample: /etc/cdi/nvidia.yaml
generated_by:
  description: What writes the spec, V(nvidia-ctk cdi generate) (this module) or V(nvidia-cdi-refresh.service).
  returned: when O(state=present)
  type: str
  sample: nvidia-ctk cdi generate
driver_version:
  description: The driver version nvidia-smi reports, or null when it could not be asked.
  returned: when O(state=present)
  type: str
  sample: 550.54.15
devices:
  description: The CDI devices the loaders see (C(nvidia-ctk cdi list)), after the change.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-520e01f2-cf30-6396-abef-e8e9a5233b0e", "nvidia.com/gpu=all"]
refresh_units:
  description: Whether the toolkit's refresh units are used, and the C(systemctl) calls made (or predicted).
  returned: when O(state=present)
  type: dict
  sample: {used: true, shipped: true, actions: [["enable", "--now", "nvidia-cdi-refresh.path"]]}
shadowed_specs:
  description: Specs in C(/etc/cdi) of the same kind as the dynamic spec, whose devices the loaders ignore.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [/etc/cdi/nvidia.yaml]
removed:
  description: Files removed (or, in check mode, to be removed), the legacy hook and shadowed or absent specs.
  returned: always
  type: list
  elements: str
  sample: [/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json]
"""

import glob
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.plan import (
    DYNAMIC_SPEC,
    LEGACY_HOOKS,
    NO_DRIVER_HINT,
    REFRESH_PATH_UNIT,
    REFRESH_SERVICE,
    REFRESH_UNITS,
    STATIC_SPEC_DIR,
    UNIT_DIRS,
    CdiPlanError,
    legacy_hooks_to_remove,
    parse_cdi_list,
    parse_gpu_query,
    plan_dynamic_spec,
    plan_static_spec,
    refresh_unit_actions,
    shadowed_static_specs,
    spec_format_problem,
    use_refresh_units,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.spec import CdiSpecError, load_spec
from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
NVIDIA_GPU_KIND = "nvidia.com/gpu"
# Words of nvidia-ctk's errors when NVML or the kernel module is missing.
NO_DRIVER_WORDS = ("NVML", "libnvidia-ml", "driver", "ERROR_LIBRARY_NOT_FOUND")

ARGUMENT_SPEC = dict(
    path=dict(type="path", default="/etc/cdi/nvidia.yaml"),
    format=dict(type="str", choices=["yaml", "json"], default="yaml"),
    nvidia_ctk=dict(type="str", default="nvidia-ctk"),
    nvidia_smi=dict(type="str", default="nvidia-smi"),
    use_refresh_units=dict(type="raw", default="auto"),
    remove_legacy_hook=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def refresh_choice(module):
    """auto, true or false from what the user wrote (a YAML boolean as well as a string)."""
    value = module.params["use_refresh_units"]
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return "true" if boolean(value, strict=True) else "false"
    except TypeError:
        module.fail_json(msg="use_refresh_units is %r; give auto, true or false" % (value,))


def find_binary(module, name):
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    return module.get_bin_path(name)


def read_text(module, path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError as error:
        module.fail_json(msg="cannot read %s: %s; run the task as root (become: true)" % (path, error.strerror))


def last_error_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "level=error" in line or line.startswith("ERRO")]
    return (errors or lines or ["(no output)"])[-1].strip()


def query_driver(module):
    """(driver_version, [(index, uuid)]) from nvidia-smi, or (None, []) with a warning when it cannot answer."""
    binary = find_binary(module, module.params["nvidia_smi"])
    if binary is None:
        return None, []
    argv = [binary, "--query-gpu=driver_version,index,uuid", "--format=csv,noheader"]
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
    if rc != 0:
        module.warn("nvidia-smi failed (rc %d: %s); the spec's driver and GPUs were not checked" % (rc, out + err))
        return None, []
    return parse_gpu_query(out)


def generate(module, nvidia_ctk, folder):
    """A fresh spec's text, made by nvidia-ctk in a temporary folder; fails with nvidia-ctk's words."""
    extension = "json" if module.params["format"] == "json" else "yaml"
    output = os.path.join(folder, "nvidia.%s" % extension)
    argv = [nvidia_ctk, "cdi", "generate", "--format=%s" % module.params["format"], "--output=%s" % output]
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
    if rc != 0 or not os.path.exists(output):
        words = last_error_line(err or out)
        no_driver = any(word in (err + out) for word in NO_DRIVER_WORDS)
        module.fail_json(
            msg="nvidia-ctk cdi generate failed (rc %d): %s" % (rc, words),
            cmd=argv,
            rc=rc,
            stdout=out,
            stderr=err,
            hint=NO_DRIVER_HINT if no_driver else "Run the command above by hand to see nvidia-ctk's whole account.",
        )
    with open(output, "rb") as handle:
        return handle.read().decode("utf-8")


def write_spec(module, path, text):
    try:
        # A staged name without .yaml/.json: CDI loaders watching the folder skip it until it takes the spec's name.
        replace_file(path, text.encode("utf-8"), module.atomic_move, staging_prefix=".nvidia-cdi.")
    except OSError as error:
        module.fail_json(msg="cannot write %s: %s; run the task as root (become: true)" % (path, error.strerror))


def remove_files(module, paths):
    if module.check_mode:
        return
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            module.fail_json(msg="cannot remove %s: %s; run the task as root (become: true)" % (path, error.strerror))


def list_devices(module, nvidia_ctk):
    argv = [nvidia_ctk, "cdi", "list"]
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
    if rc != 0:
        module.warn("nvidia-ctk cdi list failed (rc %d): %s" % (rc, last_error_line(err or out)))
        return []
    return parse_cdi_list(out)


def shipped_refresh_units():
    return [unit for unit in REFRESH_UNITS if any(os.path.exists(os.path.join(d, unit)) for d in UNIT_DIRS)]


def spec_kind(text):
    try:
        return load_spec(text).get("kind")
    except CdiSpecError:
        return None


def static_specs(module):
    """The specs in /etc/cdi, path -> text."""
    found = {}
    for pattern in ("*.yaml", "*.yml", "*.json"):
        for path in glob.glob(os.path.join(STATIC_SPEC_DIR, pattern)):
            text = read_text(module, path)
            if text is not None:
                found[path] = text
    return found


def unit_state(module, systemctl, verb):
    rc, _out, _err = module.run_command([systemctl, verb, "--quiet", REFRESH_PATH_UNIT], environ_update=C_LOCALE)
    return rc == 0


def keep_written_spec(module, nvidia_ctk, driver, gpus, result):
    """The module writes the spec: generate, compare, replace when different."""
    path = module.params["path"]
    folder = tempfile.mkdtemp(prefix="nvidia-cdi.", dir=module.tmpdir)
    try:
        fresh = generate(module, nvidia_ctk, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    existing = read_text(module, path)
    try:
        plan = plan_static_spec(existing, fresh, driver, gpus, os.path.exists)
    except CdiSpecError as error:
        module.fail_json(msg="nvidia-ctk generated a spec this module cannot read: %s" % error, spec=fresh)
    for warning in plan["warnings"]:
        module.warn("%s: %s" % (path, warning))
    result.update(action=plan["action"], reason=plan["reason"], reasons=plan["reasons"], spec_path=path)
    result["generated_by"] = "nvidia-ctk cdi generate"
    if plan["action"] != "keep":
        result["changed"] = True
        if module._diff:
            result["diff"] = dict(before=existing or "", after=fresh, before_header=path, after_header=path)
        if not module.check_mode:
            write_spec(module, path, fresh)
    dynamic = read_text(module, DYNAMIC_SPEC)
    if dynamic is not None and spec_kind(dynamic) == spec_kind(fresh):
        result["spec_path"] = DYNAMIC_SPEC
        module.warn(
            "%s outranks %s (same kind, and CDI loaders let /var/run/cdi win): the engines read that one. Use "
            "use_refresh_units=auto to let the toolkit's refresh units keep it, or remove it." % (DYNAMIC_SPEC, path)
        )


def keep_refreshed_spec(module, systemctl, driver, gpus, result):
    """The toolkit's refresh units write the spec: enable them, run the service when the spec is missing or stale."""
    dynamic = read_text(module, DYNAMIC_SPEC)
    plan = plan_dynamic_spec(dynamic, driver, gpus, os.path.exists)
    actions = refresh_unit_actions(
        unit_state(module, systemctl, "is-enabled"), unit_state(module, systemctl, "is-active"), plan
    )
    result["refresh_units"]["actions"] = actions
    result.update(action="refresh" if plan["action"] == "refresh" else "keep", reason=plan["reason"])
    result.update(reasons=plan["reasons"], spec_path=DYNAMIC_SPEC, generated_by=REFRESH_SERVICE)
    if actions:
        result["changed"] = True
    if actions and not module.check_mode:
        for action in actions:
            argv = [systemctl] + action
            rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
            if rc != 0:
                module.fail_json(
                    msg="systemctl %s failed (rc %d): %s" % (" ".join(action), rc, (err or out).strip()),
                    cmd=argv,
                    rc=rc,
                    hint="journalctl -u %s shows nvidia-ctk's own error; without a working driver: %s"
                    % (REFRESH_SERVICE, NO_DRIVER_HINT),
                )
        dynamic = read_text(module, DYNAMIC_SPEC)
        after = plan_dynamic_spec(dynamic, driver, gpus, os.path.exists)
        if after["action"] != "keep":
            module.fail_json(
                msg="%s ran, but %s is still %s" % (REFRESH_SERVICE, DYNAMIC_SPEC, after["reason"]),
                hint="Check /etc/nvidia-container-toolkit/nvidia-cdi-refresh.env and journalctl -u %s"
                % REFRESH_SERVICE,
            )
    if module._diff and plan["action"] == "refresh":
        result["diff"] = dict(before=dynamic or "", after="(written by %s)\n" % REFRESH_SERVICE)
    # A static spec of the same kind is shadowed: the module's own (at path) goes, others are reported.
    shadowed = shadowed_static_specs(static_specs(module), spec_kind(dynamic or "") or NVIDIA_GPU_KIND)
    result["shadowed_specs"] = shadowed
    path = module.params["path"]
    if path in shadowed:
        result["removed"].append(path)
        result["changed"] = True
        remove_files(module, [path])
    others = [spec for spec in shadowed if spec != path]
    if others:
        module.warn(
            "%s: shadowed by %s (CDI loaders let /var/run/cdi win), so its devices are ignored and it goes stale "
            "unseen; remove it" % (", ".join(others), DYNAMIC_SPEC)
        )


def run_module(module):
    params = module.params
    result = dict(changed=False, removed=[], reasons=[])
    problem = spec_format_problem(params["path"], params["format"])
    if problem:
        module.fail_json(msg=problem)
    if params["state"] == "absent":
        existing = read_text(module, params["path"])
        result.update(action="absent", reason="no spec at %s" % params["path"], spec_path=params["path"])
        if existing is not None:
            result.update(changed=True, action="remove", reason="state=absent", removed=[params["path"]])
            if module._diff:
                result["diff"] = dict(before=existing, after="", before_header=params["path"])
            remove_files(module, [params["path"]])
        if os.path.exists(DYNAMIC_SPEC):
            module.warn("%s stays: the toolkit's refresh units write it" % DYNAMIC_SPEC)
        module.exit_json(**result)

    nvidia_ctk = find_binary(module, params["nvidia_ctk"])
    if nvidia_ctk is None:
        module.fail_json(
            msg="%s not found" % params["nvidia_ctk"],
            hint="Install the NVIDIA Container Toolkit (package nvidia-container-toolkit-base) first, or give its "
            "path in nvidia_ctk.",
        )
    driver, gpus = query_driver(module)
    shipped = shipped_refresh_units()
    try:
        refresh = use_refresh_units(refresh_choice(module), shipped)
    except CdiPlanError as error:
        module.fail_json(msg=str(error))
    systemctl = module.get_bin_path("systemctl") if refresh else None
    if refresh and systemctl is None:
        module.fail_json(msg="the refresh units need systemd, and systemctl is not here; set use_refresh_units=false")
    result.update(driver_version=driver, shadowed_specs=[])
    result["refresh_units"] = dict(used=refresh, shipped=len(shipped) == len(REFRESH_UNITS), actions=[])
    if refresh:
        keep_refreshed_spec(module, systemctl, driver, gpus, result)
    else:
        keep_written_spec(module, nvidia_ctk, driver, gpus, result)

    hooks = legacy_hooks_to_remove(
        [hook for hook in LEGACY_HOOKS if os.path.lexists(hook)], True, params["remove_legacy_hook"]
    )
    if hooks:
        result["changed"] = True
        result["removed"].extend(hooks)
        remove_files(module, hooks)
    result["devices"] = list_devices(module, nvidia_ctk)
    module.exit_json(**result)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
