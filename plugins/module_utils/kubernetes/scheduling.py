# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each workload's pods can land, by node architecture, and whether its images run there.

The rules are the scheduler's own filters that decide architecture, in the order it applies them:
- `nodeSelector`: every label must be on the node with that value;
- required node affinity: `nodeSelectorTerms` are ORed, the `matchExpressions` (and `matchFields`) of a term ANDed;
  In, NotIn, Exists, DoesNotExist on the node's labels; Gt and Lt compare a label's integer value (a node without
  the label, or with a value that is not an integer, does not match); a term with no expression matches nothing;
- taints: a NoSchedule or NoExecute taint keeps a pod off unless a toleration matches it (PreferNoSchedule only
  discourages); the DaemonSet controller adds tolerations for the node.kubernetes.io/* condition taints only;
- GPUs: a pod asking for `nvidia.com/gpu` fits only nodes that offer at least that many (extended resources are
  asked for in limits; requests, when given, must equal them).
A pod that can land on nodes of an architecture whose variant one of its images lacks crash-loops there with
`exec format error`: that is the finding this audit exists for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import platform_matches
from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import platform_text
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.nodes import ARCH_LABELS, GPU_RESOURCE
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import containers

BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
# What the DaemonSet controller adds to every DaemonSet pod (pkg/controller/daemon/util/daemonset_util.go).
DAEMONSET_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
HOST_NETWORK_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


# --- the scheduler's filters ----------------------------------------------------------------------------------------


def expression_matches(expression, labels):
    key = expression.get("key")
    operator = expression.get("operator")
    values = [str(value) for value in expression.get("values") or []]
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term, node):
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    return all(expression_matches(e, node["labels"]) for e in expressions) and all(
        expression_matches(f, {"metadata.name": node["name"]}) for f in fields
    )


def required_terms(pod_spec):
    """The required nodeSelectorTerms, or None when the pod has no required node affinity."""
    affinity = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if affinity is None:
        return None
    return affinity.get("nodeSelectorTerms") or []


def selector_mismatch(pod_spec, node):
    """Why the node's labels keep the pod off, or None."""
    for key, value in sorted((pod_spec.get("nodeSelector") or {}).items()):
        if node["labels"].get(key) != str(value):
            return "nodeSelector %s=%s (%s nodes have %s)" % (
                key,
                value,
                node["architecture"],
                "%s=%s" % (key, node["labels"][key]) if key in node["labels"] else "no such label",
            )
    terms = required_terms(pod_spec)
    if terms is not None and not any(term_matches(term, node) for term in terms):
        return "no required nodeAffinity term matches"
    return None


def toleration_matches(toleration, taint):
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("operator") == "Exists":
        return not toleration.get("key") or toleration["key"] == taint["key"]
    return toleration.get("key") == taint["key"] and str(toleration.get("value") or "") == taint["value"]


def tolerations(workload):
    found = [t for t in workload["pod_spec"].get("tolerations") or [] if isinstance(t, dict)]
    if workload["kind"] == "DaemonSet":
        found += DAEMONSET_TOLERATIONS
        if workload["pod_spec"].get("hostNetwork"):
            found.append(HOST_NETWORK_TOLERATION)
    return found


def taint_text(taint):
    return "%s%s:%s" % (taint["key"], "=" + taint["value"] if taint["value"] else "", taint["effect"])


def _quantity(value):
    try:
        return int(str(value))
    except ValueError:
        return 0  # the API refuses fractional GPUs; a malformed count asks for none rather than guessing


def gpu_request(pod_spec):
    """GPUs the pod asks for: the app containers' sum, or the largest init container's if more (init containers
    run one at a time, before the others)."""
    app, init = 0, 0
    for container, is_init in containers(pod_spec):
        resources = container.get("resources") or {}
        value = (resources.get("limits") or {}).get(GPU_RESOURCE, (resources.get("requests") or {}).get(GPU_RESOURCE))
        count = _quantity(value) if value is not None else 0
        if is_init:
            init = max(init, count)
        else:
            app += count
    return max(app, init)


def check_node(workload, node):
    """What keeps the pod off the node: {selector: reason|None, untolerated: [taints], tolerated: [taints],
    gpu: reason|None}; the pod fits when selector and gpu are None and untolerated is empty."""
    pod_tolerations = tolerations(workload)
    untolerated, tolerated = [], []
    for taint in node["taints"]:
        if taint["effect"] not in BLOCKING_EFFECTS:
            continue
        if any(toleration_matches(toleration, taint) for toleration in pod_tolerations):
            tolerated.append(taint)
        else:
            untolerated.append(taint)
    wanted = gpu_request(workload["pod_spec"])
    gpu = None
    if wanted and node["gpus"] < wanted:
        gpu = "asks for %d %s, %s nodes offer %d" % (wanted, GPU_RESOURCE, node["architecture"], node["gpus"])
    return {
        "selector": selector_mismatch(workload["pod_spec"], node),
        "untolerated": untolerated,
        "tolerated": tolerated,
        "gpu": gpu,
    }


def fits(check):
    return check["selector"] is None and not check["untolerated"] and check["gpu"] is None


def blocked_reasons(check):
    reasons = [check["selector"]] if check["selector"] else []
    reasons += ["taint %s not tolerated" % taint_text(taint) for taint in check["untolerated"]]
    return reasons + ([check["gpu"]] if check["gpu"] else [])


def selected_architectures(pod_spec, candidates):
    """The architectures the pod's nodeSelector and required affinity allow, looking only at the architecture
    labels; None when neither names one (the pod does not choose an architecture)."""
    selector = pod_spec.get("nodeSelector") or {}
    terms = required_terms(pod_spec) or []
    arch_expressions = [[e for e in t.get("matchExpressions") or [] if e.get("key") in ARCH_LABELS] for t in terms]
    if not any(key in selector for key in ARCH_LABELS) and not any(arch_expressions):
        return None
    chosen = []
    for arch in candidates:
        labels = dict.fromkeys(ARCH_LABELS, arch)
        if any(str(selector[key]) != arch for key in ARCH_LABELS if key in selector):
            continue
        if terms and not any(all(expression_matches(e, labels) for e in exprs) for exprs in arch_expressions):
            continue
        chosen.append(arch)
    return chosen


def named_architectures(pod_spec):
    """Architecture values the pod's selector and affinity name, so `selects arm64` is seen without arm64 nodes."""
    named = [str(v) for k, v in (pod_spec.get("nodeSelector") or {}).items() if k in ARCH_LABELS]
    for term in required_terms(pod_spec) or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") in ARCH_LABELS:
                named.extend(str(value) for value in expression.get("values") or [])
    return named


# --- images -------------------------------------------------------------------------------------------------------


def image_index(image_platforms):
    """reference -> {"platforms": [text] or None, "why": str}: from the `images` list image_platforms returns, or from
    a mapping reference -> platform texts (None or an error text for an image whose platforms are unknown)."""
    index = {}
    if isinstance(image_platforms, dict):
        for reference, platforms in image_platforms.items():
            if isinstance(platforms, list):
                index[reference] = {"platforms": [str(p) for p in platforms], "why": ""}
            else:
                index[reference] = {"platforms": None, "why": str(platforms or "its platforms were not given")}
        return index
    for row in image_platforms or []:
        error = row.get("error")
        if error:
            why = "%s: %s" % (error.get("kind"), error.get("message"))
            index[row["reference"]] = {"platforms": None, "why": why, "hint": error.get("hint")}
        else:
            platforms = [p if isinstance(p, str) else p.get("platform") or platform_text(p) for p in row["platforms"]]
            index[row["reference"]] = {"platforms": platforms, "why": ""}
    return index


def supports(platforms, arch):
    """True/False, or None when the image's platforms are unknown."""
    if platforms is None:
        return None
    return any(platform_matches(platform, arch) for platform in platforms)


def only_text(image, platforms, arches):
    have = [arch for arch in arches if supports(platforms, arch)]
    if len(have) == 1:
        return "image %s is %s-only" % (image, have[0])
    return "image %s has no linux/%s variant" % (image, "/".join(a for a in arches if a not in have))


# --- the audit ------------------------------------------------------------------------------------------------------


def workload_id(workload):
    return "%s/%s/%s" % (workload["kind"], workload["namespace"], workload["name"])


def finding(workload, kind, problem, fix, severity="error", container=None):
    return {
        "workload": workload_id(workload) if workload else None,
        "container": container["name"] if container else None,
        "image": container["image"] if container else None,
        "kind": kind,
        "problem": problem,
        "fix": fix,
        "severity": severity,
    }


def _container_rows(workload, images):
    rows = []
    for container, init in containers(workload["pod_spec"]):
        image = str(container.get("image") or "")
        known = images.get(image)
        rows.append(
            {
                "name": str(container.get("name") or "?"),
                "image": image,
                "init": init,
                "platforms": known["platforms"] if known else None,
            }
        )
    return rows


def _fix_for(workload, arch, rows, node_arches, checks_by_arch):
    """Where the workload should go instead: the architectures all its images have, with the toleration it needs
    there when every node of that architecture carries a taint it does not tolerate."""
    good = [a for a in node_arches if a != arch and all(supports(r["platforms"], a) is not False for r in rows)]
    if not good:
        return None
    target = good[0]
    selector = "add a nodeSelector for %s (kubernetes.io/arch: %s)" % (target, target)
    checks = checks_by_arch.get(target) or []
    if checks and all(check["untolerated"] for check in checks):
        taints = []
        for check in checks:
            taints += [taint_text(t) for t in check["untolerated"] if taint_text(t) not in taints]
        selector += " and a toleration for %s" % ", ".join(taints)
    return selector


def audit_workload(workload, nodes, images):
    """-> (the workload's row of the result, its findings)."""
    pod_spec = workload["pod_spec"]
    rows = _container_rows(workload, images)
    node_arches = sorted({node["architecture"] for node in nodes})
    checks_by_arch = {
        arch: [check_node(workload, node) for node in nodes if node["architecture"] == arch] for arch in node_arches
    }
    candidates = node_arches + [a for a in named_architectures(pod_spec) if a not in node_arches]
    selected = selected_architectures(pod_spec, candidates)
    has_selector = bool(pod_spec.get("nodeSelector")) or required_terms(pod_spec) is not None
    findings = []
    for row in rows:
        if row["platforms"] is None:
            known = images.get(row["image"])
            why = known["why"] if known else "it was not among the images whose platforms were read"
            fix = (known or {}).get(
                "hint"
            ) or "Run the image audit on this image (image_platforms) and give its result."
            findings.append(
                finding(
                    workload,
                    "platforms_unknown",
                    "platforms of image %s could not be read (%s): its architectures were not checked"
                    % (row["image"], why),
                    fix,
                    "warning",
                    row,
                )
            )

    cells = {}
    for arch in node_arches:
        fitting = [check for check in checks_by_arch[arch] if fits(check)]
        if not fitting:
            reasons = []  # each node's first reason, in the scheduler's order: enough to see what to change
            for check in checks_by_arch[arch]:
                first = blocked_reasons(check)[0]
                if first not in reasons:
                    reasons.append(first)
            cells[arch] = {"verdict": "blocked", "reason": "; ".join(reasons)}
            continue
        lacking = [row for row in rows if supports(row["platforms"], arch) is False]
        if not lacking:
            unknown = [row["image"] for row in rows if row["platforms"] is None]
            reason = "can land on %d %s node(s)" % (len(fitting), arch)
            cells[arch] = {
                "verdict": "ok",
                "reason": reason + ("; platforms unknown: %s" % ", ".join(unknown) if unknown else ""),
            }
            continue
        cells[arch] = {
            "verdict": "fail",
            "reason": "; ".join(
                "image %s (%s) has no linux/%s variant" % (r["image"], r["name"], arch) for r in lacking
            ),
        }
        for row in lacking:
            findings.append(
                _lacking_finding(
                    workload, arch, row, rows, selected, has_selector, fitting, node_arches, checks_by_arch
                )
            )

    explained = False
    if selected is not None and not any(arch in node_arches for arch in selected):
        explained = True
        findings.append(
            finding(
                workload,
                "selects_missing_architecture",
                "selects %s but no %s node exists (nodes: %s)"
                % (
                    "/".join(selected) or "no architecture",
                    "/".join(selected) or "such",
                    ", ".join(node_arches) or "none",
                ),
                "select an architecture the cluster has and its images have, or add %s nodes" % "/".join(selected),
            )
        )
    gpu = None if explained else _gpu_finding(workload, rows, nodes, node_arches, selected)
    if gpu:
        explained = True
        findings.append(gpu)
    if not explained and not any(cell["verdict"] != "blocked" for cell in cells.values()):
        findings.append(
            finding(
                workload,
                "unschedulable",
                "can land on no node: %s" % "; ".join("%s: %s" % (a, c["reason"]) for a, c in sorted(cells.items()))
                if cells
                else "can land on no node: the node list is empty",
                "match the nodeSelector/affinity to labels the nodes have, tolerate their taints, or label the nodes",
            )
        )
    public_rows = [dict(row) for row in rows]
    result = {
        "kind": workload["kind"],
        "namespace": workload["namespace"],
        "name": workload["name"],
        "containers": public_rows,
        "architectures": cells,
    }
    return result, findings


def _gpu_finding(workload, rows, nodes, node_arches, selected):
    """A GPU pod whose own architectures (those it selects and its images have) have no node with enough GPUs."""
    wanted = gpu_request(workload["pod_spec"])
    if not wanted:
        return None
    image_arches = [a for a in node_arches if all(supports(r["platforms"], a) is not False for r in rows)]
    its_arches = [a for a in image_arches if selected is None or a in selected]
    gpu_arches = sorted({node["architecture"] for node in nodes if node["gpus"] >= wanted})
    if not its_arches or any(a in gpu_arches for a in its_arches):
        return None
    add = "add GPU nodes of %s" % "/".join(its_arches)
    runnable = [a for a in gpu_arches if a in image_arches]
    if runnable:
        fix = "select %s (kubernetes.io/arch: %s), where the GPU nodes are, or %s" % (runnable[0], runnable[0], add)
    elif gpu_arches:
        fix = "publish a linux/%s variant of its images and select %s, or %s" % (gpu_arches[0], gpu_arches[0], add)
    else:
        fix = add + " (no node offers %s: check that the NVIDIA device plugin runs on the GPU nodes)" % GPU_RESOURCE
    problem = "requests %d GPU(s) (%s) but no GPU node of its architecture (%s) has that many; GPU nodes: %s" % (
        wanted,
        GPU_RESOURCE,
        "/".join(its_arches),
        ", ".join(gpu_arches) or "none",
    )
    return finding(workload, "no_gpu_node_of_architecture", problem, fix)


def _lacking_finding(workload, arch, row, rows, selected, has_selector, fitting, node_arches, checks_by_arch):
    """The finding for a container whose image lacks `arch` where the pod can land, named after why it lands there."""
    better = _fix_for(workload, arch, rows, node_arches, checks_by_arch)
    publish = "publish a linux/%s variant of %s" % (arch, row["image"])
    image_is = only_text(row["image"], row["platforms"], node_arches)
    if selected is not None and arch in selected:
        kind = "selects_architecture_image_lacks"
        problem = "selects %s, but its %s" % (arch, image_is)
        fix = "%s, or %s" % (
            better.replace("add a nodeSelector for", "select") if better else "select another architecture",
            publish,
        )
    elif all(check["tolerated"] for check in fitting):
        taints = []
        for check in fitting:
            taints += [taint_text(t) for t in check["tolerated"] if taint_text(t) not in taints]
        kind = "tolerates_taint_image_lacks_architecture"
        problem = "tolerates the %s taint of the %s nodes, but its %s" % (", ".join(taints), arch, image_is)
        fix = "drop the toleration%s, or %s" % (" and " + better if better else "", publish)
    else:
        kind = "lands_where_image_lacks_architecture"
        why = "no selector" if not has_selector else "its selector allows %s" % arch
        problem = "can land on %s nodes (%s, no taint keeps it off), %s" % (
            arch,
            why,
            image_is.replace("its image", "image"),
        )
        fix = "%s, or %s" % (better or "taint the %s nodes" % arch, publish)
    return finding(workload, kind, problem, fix, "error", row)


def audit(workloads, nodes, images, source_errors=()):
    """The scheduling audit's result (the schema in the module's RETURN, written as scheduling.json)."""
    rows, findings = [], []
    for error in source_errors:
        findings.append(
            {
                "workload": error["path"],
                "container": None,
                "image": None,
                "kind": "unreadable_manifest",
                "problem": error["message"],
                "fix": error["hint"],
                "severity": "error",
            }
        )
    for workload in workloads:
        row, found = audit_workload(workload, nodes, images)
        rows.append(row)
        findings.extend(found)
    errors = sum(1 for item in findings if item["severity"] == "error")
    return {
        "node_architectures": sorted({node["architecture"] for node in nodes}),
        "nodes": nodes,
        "workloads": rows,
        "findings": findings,
        "summary": {
            "workloads": len(rows),
            "findings": len(findings),
            "errors": errors,
            "warnings": len(findings) - errors,
            "verdict": "fail" if errors else "pass",
        },
    }
