# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet's extra arguments in /etc/default/kubelet: read as systemd reads them, merged, written back.

Plain Python (no Ansible import); the kubelet_extra_args module calls plan_update. Two layers turn the file into the
kubelet's argument list, and both are mimicked here:
- systemd reads the file as an EnvironmentFile (env-file.c): `#`/`;` comment lines, KEY=VALUE where an unquoted value
  takes shell-like backslash escapes and line continuations, and a value in single or double quotes may span lines;
- the kubeadm drop-in starts `kubelet ... $KUBELET_EXTRA_ARGS`, and systemd splits an unquoted `$VAR` at whitespace,
  with no quote handling, into the arguments.
The kubelet then reads `--node-labels` as a map that later pairs and later flags extend and override
(cliflag.MapStringString), and `--register-with-taints` as a list that a later flag replaces whole
(RegisterWithTaintsVar): so labels are merged across every occurrence, taints in the last one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VARIABLE = "KUBELET_EXTRA_ARGS"
LABELS_FLAG = "--node-labels"
TAINTS_FLAG = "--register-with-taints"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"

_WHITESPACE = " \t\n\r"
_NEWLINE = "\n\r"
_COMMENTS = "#;"
# After a backslash inside double quotes, systemd keeps only these characters (and drops the backslash).
_DOUBLE_QUOTE_ESCAPED = '"\\`$'
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName and IsValidLabelValue.
_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE_FORBIDDEN = re.compile(r"[^-A-Za-z0-9_.]")
_LABEL_VALUE_EDGES = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")

# pkg/kubelet/apis/well_known_labels.go: the only kubernetes.io/k8s.io labels a kubelet may set on itself; any other
# label in those namespaces in --node-labels and the kubelet refuses to start.
_KUBELET_LABELS = frozenset(
    (
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
    )
)
_KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


class KubeletArgsError(ValueError):
    """The file or the wanted settings cannot be used; `line` (1-based) says where, when it is about the file."""

    def __init__(self, message, fix, line=None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.line = line

    def __str__(self):
        where = "line %d: " % self.line if self.line else ""
        return "%s%s. Fix: %s" % (where, self.message, self.fix)


# --- the EnvironmentFile ------------------------------------------------------------------------------------------


class Assignment:
    """One KEY=VALUE of the file: its key as written, the value systemd reads, and the lines it spans (0-based)."""

    def __init__(self, key, value, first_line, last_line, quote):
        self.key = key
        self.value = value
        self.first_line = first_line
        self.last_line = last_line
        # The quote the value opened with ('"', "'" or ''), so a rewrite keeps the file's own style.
        self.quote = quote


def parse_environment_file(text):
    """Every assignment in text, as systemd's EnvironmentFile= reader sees it (later ones win).

    Lines without '=' and invalid names are kept in the list too (systemd skips them); a quote left open is an error,
    because systemd would then read the rest of the file into that one variable.
    """
    assignments = []
    state = "pre_key"
    key = value = quote = ""
    line = first_line = quote_line = 0
    for char in text:
        if state == "pre_key":
            if char in _COMMENTS:
                state = "comment"
            elif char not in _WHITESPACE:
                state, key, first_line = "key", char, line
        elif state == "key":
            if char in _NEWLINE:
                state = "pre_key"  # no '=': systemd ignores the line
            elif char == "=":
                state, value, quote = "pre_value", "", None
            else:
                key += char
        elif state == "pre_value":
            if char in _NEWLINE:
                assignments.append(Assignment(key.rstrip(_WHITESPACE), value, first_line, line, quote or ""))
                state = "pre_key"
            elif char in "'\"":
                state = "single" if char == "'" else "double"
                quote = char if quote is None else quote
                quote_line = line
            elif char == "\\":
                state, quote = "value_escape", quote or ""
            elif char not in _WHITESPACE:
                state, quote = "value", quote or ""
                value += char
        elif state == "value":
            if char in _NEWLINE:
                assignments.append(
                    Assignment(key.rstrip(_WHITESPACE), value.rstrip(_WHITESPACE), first_line, line, quote)
                )
                state = "pre_key"
            elif char == "\\":
                state = "value_escape"
            else:
                value += char
        elif state == "value_escape":
            state = "value"
            if char not in _NEWLINE:
                value += char
        elif state == "single":
            if char == "'":
                state = "pre_value"
            else:
                value += char
        elif state == "double":
            if char == '"':
                state = "pre_value"
            elif char == "\\":
                state = "double_escape"
            else:
                value += char
        elif state == "double_escape":
            state = "double"
            if char in _DOUBLE_QUOTE_ESCAPED:
                value += char
            elif char not in _NEWLINE:
                value += "\\" + char
        elif state == "comment":
            if char == "\\":
                state = "comment_escape"  # systemd continues a comment that ends in a backslash onto the next line
            elif char in _NEWLINE:
                state = "pre_key"
        elif state == "comment_escape":
            state = "comment"
        if char == "\n":
            line += 1
    if state in ("single", "double", "double_escape"):
        raise KubeletArgsError(
            "the %s quote opened for %s is never closed, so systemd would read the rest of the file into it"
            % ("single" if state == "single" else "double", key.rstrip(_WHITESPACE)),
            "close the quote at the end of that value",
            line=quote_line + 1,
        )
    if state in ("pre_value", "value", "value_escape"):
        value = value.rstrip(_WHITESPACE) if state == "value" else value
        assignments.append(Assignment(key.rstrip(_WHITESPACE), value, first_line, line, quote or ""))
    return assignments


def _check_names(assignments, variable):
    for assignment in assignments:
        if not _ENV_NAME.match(assignment.key) and assignment.key.split()[-1:] == [variable]:
            raise KubeletArgsError(
                "systemd ignores '%s=' (not a variable name), so the kubelet never sees these arguments"
                % assignment.key,
                "write it as %s=... on a line of its own, without '%s'"
                % (variable, assignment.key[: -len(variable)].strip()),
                line=assignment.first_line + 1,
            )


def quote_value(value, quote):
    """The text after KEY= that systemd reads back as value, in the quote style asked for where it can hold it."""
    if quote == "'" and "'" not in value:
        return "'%s'" % value
    if quote == "" and not re.search(r"[\\'\"]", value):
        return value
    return '"%s"' % re.sub(r'(["\\`])', r"\\\1", value)


def split_arguments(value):
    """The arguments systemd passes for an unquoted $VAR in ExecStart: the value split at whitespace."""
    return value.split()


# --- Kubernetes names ---------------------------------------------------------------------------------------------


def qualified_name_problem(name):
    """Why name is no valid label or taint key (IsQualifiedName), or None."""
    prefix, slash, local = name.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "its prefix %r is not a lowercase DNS subdomain" % prefix
    if not local or len(local) > 63 or not _NAME_PART.match(local):
        return "its name %r must be 1-63 letters, digits, '-', '_' or '.', starting and ending alphanumeric" % local
    return None


def label_value_problem(value):
    """Why value is no valid label or taint value (IsValidLabelValue), or None."""
    if value == "" or (len(value) <= 63 and _NAME_PART.match(value)):
        return None
    return "%r must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric" % value


def kubelet_refuses_label(key):
    """The kubelet refuses to start with --node-labels in kubernetes.io/k8s.io outside its own allowed set."""
    namespace = key.rpartition("/")[0]
    in_kubernetes = any(namespace == ns or namespace.endswith("." + ns) for ns in ("kubernetes.io", "k8s.io"))
    if not in_kubernetes or key in _KUBELET_LABELS:
        return False
    return not any(namespace == ns or namespace.endswith("." + ns) for ns in _KUBELET_LABEL_NAMESPACES)


def product_label_value(model):
    """The nvidia.com/gpu.product value GPU Feature Discovery gives a GPU model: spaces become '-'.

    Other characters a label value cannot hold become '-' too, and the result is trimmed to 63 characters, so that
    the kubelet accepts it ("NVIDIA A100-SXM4-80GB" -> "NVIDIA-A100-SXM4-80GB").
    """
    value = _LABEL_VALUE_FORBIDDEN.sub("-", model.strip().replace(" ", "-"))
    return _LABEL_VALUE_EDGES.sub("", _LABEL_VALUE_EDGES.sub("", value)[:63])


# --- the wanted taints and labels ---------------------------------------------------------------------------------


def parse_taint(spec):
    """(key, value, effect) of a taint written key=value:effect or key:effect, the way the kubelet splits it."""
    key_value, colon, effect = spec.partition(":")
    if ":" in effect:
        raise ValueError("it has more than one ':'")
    key, equals, value = key_value.partition("=")
    if "=" in value:
        raise ValueError("it has more than one '='")
    return key, value, effect if colon else ""


def taint_text(taint):
    key, value, effect = taint
    return "%s%s:%s" % (key, "=" + value if value else "", effect)


def wanted_taint(taint, present=True):
    """One taint from the module's input (a key=value:effect string or a key/value/effect dict), validated.

    Taints are removed by key, so with present=False the effect may be left out.
    """
    if isinstance(taint, dict):
        unknown = sorted(set(taint) - {"key", "value", "effect"})
        if unknown:
            raise KubeletArgsError("taint %r has unknown keys %s" % (taint, unknown), "give only key, value and effect")
        parsed = ("%s" % taint.get("key", ""), "%s" % (taint.get("value") or ""), "%s" % taint.get("effect", ""))
        shown = taint_text(parsed)
    else:
        shown = "%s" % taint
        try:
            parsed = parse_taint(shown)
        except ValueError as error:
            raise KubeletArgsError(
                "taint %r: %s" % (shown, error), "write it as key=value:effect or key:effect"
            ) from None
    key, value, effect = parsed
    problem = qualified_name_problem(key)
    if problem is None:
        value_problem = label_value_problem(value)
        problem = "its value %s" % value_problem if value_problem else None
    if problem:
        raise KubeletArgsError("taint %r is not valid: %s" % (shown, problem), "correct the taint's key or value")
    if effect not in TAINT_EFFECTS and (present or effect):
        raise KubeletArgsError(
            "taint %r has effect %r" % (shown, effect), "give one of %s as the effect" % ", ".join(TAINT_EFFECTS)
        )
    return parsed


def wanted_labels(labels, gpu_product=None):
    """The labels to set, in order, as (key, value) strings; with gpu_product, GPU Feature Discovery's two first."""
    wanted = []
    if gpu_product is not None:
        value = product_label_value(gpu_product)
        if not value:
            raise KubeletArgsError(
                "GPU model %r leaves no label value" % gpu_product, "give the model nvidia-smi reports"
            )
        wanted += [(GPU_PRESENT_LABEL, "true"), (GPU_PRODUCT_LABEL, value)]
    for key, value in (labels or {}).items():
        key = "%s" % key
        value = "true" if value is True else "false" if value is False else "" if value is None else "%s" % value
        problem = qualified_name_problem(key)
        if problem:
            raise KubeletArgsError("label key %r is not valid: %s" % (key, problem), "correct the label's key")
        problem = label_value_problem(value)
        if problem:
            raise KubeletArgsError(
                "the value of label %r is not valid: %s" % (key, problem), "correct the label's value"
            )
        if kubelet_refuses_label(key):
            raise KubeletArgsError(
                "the kubelet refuses to start with label %r: it may set only a few kubernetes.io labels on itself "
                "(those under node.kubernetes.io/ or kubelet.kubernetes.io/, and the well-known ones such as "
                "topology.kubernetes.io/zone)" % key,
                "use another prefix, or set the label with kubectl label node after the node joined",
            )
        wanted.append((key, value))
    return wanted


# --- the argument list --------------------------------------------------------------------------------------------


class FlagUse:
    """One occurrence of a flag: args[index] is `--flag=value`, or `--flag` with the value in args[index + 1]."""

    def __init__(self, index, joined, items):
        self.index = index
        self.joined = joined
        self.items = items  # the value's comma-separated items, as written (empty ones dropped, as the kubelet does)
        self.original = list(items)


def find_flag(args, flag, line):
    uses = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith(flag + "="):
            uses.append(FlagUse(index, True, [item for item in arg[len(flag) + 1 :].split(",") if item]))
        elif arg == flag:
            if index + 1 == len(args):
                raise KubeletArgsError(
                    "%s is the last argument and has no value; the kubelet refuses to start" % flag,
                    "give it a value (%s=...) or remove it" % flag,
                    line=line,
                )
            uses.append(FlagUse(index, False, [item for item in args[index + 1].split(",") if item]))
            index += 1
        index += 1
    return uses


def _label_key(item, line):
    key, equals, _value = item.partition("=")
    if not equals:
        raise KubeletArgsError(
            "%s item %r is not key=value; the kubelet refuses to start with it" % (LABELS_FLAG, item),
            "write it as key=value or remove it",
            line=line,
        )
    return key.strip()


def _taint_key(item, line):
    try:
        return parse_taint(item)[0]
    except ValueError as error:
        raise KubeletArgsError(
            "%s item %r: %s; the kubelet refuses to start with it" % (TAINTS_FLAG, item, error),
            "write it as key=value:effect or remove it",
            line=line,
        ) from None


def _rebuild(args, uses, flag, keep_empty=False):
    """args with each changed use's items written back; a use we emptied is removed, flag and value.

    A use whose items did not change stays exactly as written (an empty `--register-with-taints=` of the user's too).
    """
    rebuilt = list(args)
    for use in sorted(uses, key=lambda use: use.index, reverse=True):
        if use.items == use.original:
            continue
        value = ",".join(use.items)
        if not use.items and keep_empty:
            # An empty value cannot stand as an argument of its own (systemd drops it): it joins the flag.
            rebuilt[use.index : use.index + (1 if use.joined else 2)] = ["%s=" % flag]
        elif not use.items:
            del rebuilt[use.index : use.index + (1 if use.joined else 2)]
        elif use.joined:
            rebuilt[use.index] = "%s=%s" % (flag, value)
        else:
            rebuilt[use.index + 1] = value
    return rebuilt


def merge_labels(args, wanted, present, line, actions):
    uses = find_flag(args, LABELS_FLAG, line)
    keyed = [[(_label_key(item, line), item) for item in use.items] for use in uses]
    added = []
    for key, value in wanted:
        places = [(u, i) for u, pairs in enumerate(keyed) for i, (k, _item) in enumerate(pairs) if k == key]
        wanted_item = "%s=%s" % (key, value)
        if present and len(places) == 1 and keyed[places[0][0]][places[0][1]][1] == wanted_item:
            continue
        if not present and not places:
            continue
        if present and places:
            # The kubelet keeps the last pair of a key: ours goes there, any earlier pair of that key goes.
            last_use, last_index = places[-1]
            keyed[last_use][last_index] = (key, wanted_item)
            places = places[:-1]
            actions.append("set label %s" % wanted_item)
        elif present:
            added.append(wanted_item)
            actions.append("add label %s" % wanted_item)
        else:
            actions.append("remove label %s" % key)
        for use_number, index in reversed(places):
            del keyed[use_number][index]
    for use, pairs in zip(uses, keyed):
        use.items = [item for _key, item in pairs]
    if added and uses:
        uses[-1].items += added
    args = _rebuild(args, uses, LABELS_FLAG)
    if added and not uses:
        args.append("%s=%s" % (LABELS_FLAG, ",".join(added)))
    return args


def merge_taints(args, wanted, present, line, actions, warnings):
    uses = find_flag(args, TAINTS_FLAG, line)
    if len(uses) > 1:
        warnings.append(
            "%s is given %d times; the kubelet uses only the last one (%s), so only that one is merged"
            % (TAINTS_FLAG, len(uses), ",".join(uses[-1].items) or "empty")
        )
    for use in uses:
        for item in use.items:
            _taint_key(item, line)
    items = list(uses[-1].items) if uses else []
    for key in dict.fromkeys(taint[0] for taint in wanted):
        ours = [taint_text(taint) for taint in wanted if taint[0] == key]
        positions = [i for i, item in enumerate(items) if _taint_key(item, line) == key]
        theirs = [items[i] for i in positions]
        if present and sorted(theirs) == sorted(ours):
            continue
        if not present and not theirs:
            continue
        at = positions[0] if positions else len(items)
        items = [item for i, item in enumerate(items) if i not in positions]
        if present:
            items[at:at] = ours
            actions.append("%s taint %s" % ("set" if theirs else "add", ",".join(ours)))
        else:
            actions.append("remove taint %s" % ",".join(theirs))
    if uses:
        uses[-1].items = items
        # Emptied, the last flag still has to stand: without it an earlier one, ignored until now, would count.
        return _rebuild(args, uses[-1:], TAINTS_FLAG, keep_empty=len(uses) > 1)
    if items:
        return args + ["%s=%s" % (TAINTS_FLAG, ",".join(items))]
    return list(args)


# --- the whole update ---------------------------------------------------------------------------------------------


def plan_update(text, taints=(), labels=None, gpu_product=None, state="present", variable=VARIABLE):
    """What to write so that the kubelet's extra arguments carry (or, absent, lack) the wanted taints and labels.

    text is the file's content ("" for a missing file). Returns a dict: changed, new_text, args_before, args (after),
    actions (what was or would be done, in words) and warnings. Raises KubeletArgsError, and then nothing is to be
    written, when the file or the wanted settings cannot be used.
    """
    wanted_taints = [wanted_taint(taint, state == "present") for taint in taints or ()]
    labels_wanted = wanted_labels(labels, gpu_product)
    assignments = parse_environment_file(text)
    _check_names(assignments, variable)
    ours = [assignment for assignment in assignments if assignment.key == variable]
    current = ours[-1] if ours else None
    line = current.first_line + 1 if current else None
    args_before = split_arguments(current.value) if current else []
    actions, warnings = [], []
    if len(ours) > 1:
        warnings.append(
            "%s is set %d times (lines %s); systemd uses only the last, so only that one is changed"
            % (variable, len(ours), ", ".join("%d" % (a.first_line + 1) for a in ours))
        )
    present = state == "present"
    args = merge_labels(args_before, labels_wanted, present, line, actions)
    args = merge_taints(args, wanted_taints, present, line, actions, warnings)
    result = {"changed": args != args_before, "new_text": text, "args_before": args_before, "args": args}
    result.update(actions=actions, warnings=warnings)
    if not result["changed"]:
        return result
    assignment = "%s=%s" % (variable, quote_value(" ".join(args), current.quote if current else ""))
    lines = text.splitlines(True)
    if current is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(assignment + "\n")
    else:
        # The assignment's lines (more than one with continuations or a quoted value over lines) become one line,
        # ending as the last of them did.
        last = lines[current.last_line]
        lines[current.first_line : current.last_line + 1] = [assignment + last[len(last.rstrip("\r\n")) :]]
    result["new_text"] = "".join(lines)
    return result
