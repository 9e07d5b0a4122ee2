# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.kubelet_args import (
    TAINT_EFFECTS,
    KubeletArgsError,
    kubelet_refuses_label,
    parse_environment_file,
    plan_update,
    product_label_value,
    quote_value,
    wanted_taint,
)

NVIDIA_SMI_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvidia_smi")

# What the kubelet package of pkgs.k8s.io installs as /etc/default/kubelet: one empty assignment.
PACKAGE_DEFAULT = "KUBELET_EXTRA_ARGS=\n"
USERS_FILE = """\
# Extra kubelet arguments, kept by the ops team.
; systemd also reads ';' as a comment
HTTP_PROXY=http://proxy.example:3128
KUBELET_EXTRA_ARGS="--max-pods=110 --node-labels=team=ml --cgroup-driver systemd"
OTHER='kept'
"""
A100 = "NVIDIA A100-SXM4-80GB"


def values(text):
    return {a.key: a.value for a in parse_environment_file(text)}


def args_in(text):
    return values(text).get("KUBELET_EXTRA_ARGS", "").split()


def plan(text, **kwargs):
    result = plan_update(text, **kwargs)
    # Every plan reads back as what it claims, and a second run over its output changes nothing.
    assert args_in(result["new_text"]) == result["args"] or not result["changed"]
    again = plan_update(result["new_text"], **kwargs)
    assert not again["changed"], again["actions"]
    return result


class TestEnvironmentFile:
    """systemd's EnvironmentFile= reading (src/basic/env-file.c), case by case."""

    @pytest.mark.parametrize(
        "text, expected",
        [
            (PACKAGE_DEFAULT, {"KUBELET_EXTRA_ARGS": ""}),
            ("A=--a --b\n", {"A": "--a --b"}),
            ("  A =  --a --b  \n", {"A": "--a --b"}),
            ('A="--a  --b"\n', {"A": "--a  --b"}),
            ("A='--a \\ --b'\n", {"A": "--a \\ --b"}),
            ('A="x\\"y\\\\z\\$w\\q"\n', {"A": 'x"y\\z$w\\q'}),
            ("A=x\\ y\\\\z\n", {"A": "x y\\z"}),
            ("A=--a \\\n  --b\n", {"A": "--a   --b"}),
            ('A="--a\n--b"\n', {"A": "--a\n--b"}),
            ("A='x' \"y\"z\n", {"A": "xyz"}),
            ('A=x"y"\n', {"A": 'x"y"'}),
            ("# A=1\n;B=2\nno equals sign\nC=3", {"C": "3"}),
            ("# comment ending in a backslash \\\nA=swallowed\nB=2\n", {"B": "2"}),
            ("A=1\nA=2\n", {"A": "2"}),
            ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ],
    )
    def test_values(self, text, expected):
        assert values(text) == expected

    def test_lines_spanned(self):
        first, second = parse_environment_file('# c\nA="1\n2"\nB=x \\\n y\n')
        assert (first.first_line, first.last_line, first.quote) == (1, 2, '"')
        assert (second.first_line, second.last_line, second.quote) == (3, 4, "")

    @pytest.mark.parametrize("quote", ["", '"', "'"])
    @pytest.mark.parametrize(
        "args",
        [
            ["--max-pods=110"],
            ["--node-labels=a=b", "--x='y'", '--z="w"'],
            ["--a=\\b", "--c=`d`", "--e=$HOME", "--f=;#"],
        ],
    )
    def test_written_values_read_back(self, quote, args):
        text = "K=%s\n" % quote_value(" ".join(args), quote)
        assert values(text)["K"].split() == args


class TestNames:
    def test_product_names_from_real_nvidia_smi_outputs(self):
        names = set()
        for path in glob.glob(os.path.join(NVIDIA_SMI_FIXTURES, "*", "output.txt")):
            with open(path, encoding="utf-8") as handle:
                names.update(re.findall(r"^GPU \d+: (.+?) \(UUID", handle.read(), re.MULTILINE))
        assert {"NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3", "NVIDIA A100 80GB PCIe"} <= names
        for name in names:
            value = product_label_value(name)
            # GPU Feature Discovery's own rule (spaces to '-') already gives a valid label value for these.
            assert value == name.replace(" ", "-")
            assert re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", value)
        assert product_label_value(A100) == "NVIDIA-A100-SXM4-80GB"

    @pytest.mark.parametrize(
        "model, value",
        [("Orin (nvgpu)", "Orin--nvgpu"), (" Tesla T4 ", "Tesla-T4"), ("X" * 70 + " Y", "X" * 63)],
    )
    def test_product_names_that_need_more_than_gfd_does(self, model, value):
        assert product_label_value(model) == value

    @pytest.mark.parametrize(
        "key, refused",
        [
            ("node-role.kubernetes.io/worker", True),
            ("example.k8s.io/x", True),
            ("node.kubernetes.io/gpu", False),
            ("x.kubelet.kubernetes.io/y", False),
            ("topology.kubernetes.io/zone", False),
            ("nvidia.com/gpu.present", False),
            ("team", False),
        ],
    )
    def test_labels_the_kubelet_refuses(self, key, refused):
        assert kubelet_refuses_label(key) is refused

    @pytest.mark.parametrize(
        "taint, parsed",
        [
            ("arm=true:NoSchedule", ("arm", "true", "NoSchedule")),
            ("dedicated:NoExecute", ("dedicated", "", "NoExecute")),
            ({"key": "arm", "value": "true", "effect": "NoSchedule"}, ("arm", "true", "NoSchedule")),
            ({"key": "example.com/gpu", "effect": "PreferNoSchedule"}, ("example.com/gpu", "", "PreferNoSchedule")),
        ],
    )
    def test_taints(self, taint, parsed):
        assert wanted_taint(taint) == parsed

    @pytest.mark.parametrize(
        "taint, words",
        [
            ("arm=true", "effect ''"),
            ("arm=true:NoScheduled", "effect 'NoScheduled'"),
            ("a:b:NoSchedule", "more than one ':'"),
            ("a=b=c:NoSchedule", "more than one '='"),
            ("Bad_Prefix/x=y:NoSchedule", "DNS subdomain"),
            ("arm=not valid:NoSchedule", "its value"),
            ({"key": "arm", "effect": "NoSchedule", "operator": "Equal"}, "unknown keys"),
        ],
    )
    def test_bad_taints(self, taint, words):
        with pytest.raises(KubeletArgsError) as raised:
            wanted_taint(taint)
        assert words in str(raised.value)
        assert "Fix: " in str(raised.value)


class TestMerge:
    def test_package_default_gets_ours(self):
        result = plan(PACKAGE_DEFAULT, taints=["arm=true:NoSchedule"], labels={"zone": "a"}, gpu_product=A100)
        assert result["new_text"] == (
            "KUBELET_EXTRA_ARGS=--node-labels=nvidia.com/gpu.present=true,"
            "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB,zone=a --register-with-taints=arm=true:NoSchedule\n"
        )
        assert result["args_before"] == []

    def test_missing_file_gets_one_line(self):
        result = plan("", labels={"zone": "a"})
        assert result["new_text"] == "KUBELET_EXTRA_ARGS=--node-labels=zone=a\n"

    def test_users_arguments_and_lines_kept(self):
        result = plan(USERS_FILE, taints=["arm=true:NoSchedule"], labels={"zone": "a"})
        assert result["args"] == [
            "--max-pods=110",
            "--node-labels=team=ml,zone=a",
            "--cgroup-driver",
            "systemd",
            "--register-with-taints=arm=true:NoSchedule",
        ]
        before, after = USERS_FILE.splitlines(), result["new_text"].splitlines()
        assert after[:3] + after[4:] == before[:3] + before[4:]
        assert after[3].startswith('KUBELET_EXTRA_ARGS="') and after[3].endswith('"')
        assert result["actions"] == ["add label zone=a", "add taint arm=true:NoSchedule"]

    def test_ours_win_only_for_our_keys(self):
        text = (
            "KUBELET_EXTRA_ARGS=--node-labels=team=ml,zone=b,rack=4 "
            "--register-with-taints=arm=no:NoExecute,x=1:NoSchedule\n"
        )
        result = plan(text, taints=["arm=true:NoSchedule"], labels={"zone": "a"})
        assert result["args"] == [
            "--node-labels=team=ml,zone=a,rack=4",
            "--register-with-taints=arm=true:NoSchedule,x=1:NoSchedule",
        ]
        assert result["actions"] == ["set label zone=a", "set taint arm=true:NoSchedule"]

    def test_flag_and_value_as_two_arguments(self):
        text = "KUBELET_EXTRA_ARGS='--node-labels team=ml --register-with-taints x=1:NoSchedule --v 2'\n"
        result = plan(text, taints=["arm=true:NoSchedule"], labels={"zone": "a"})
        assert result["new_text"] == (
            "KUBELET_EXTRA_ARGS='--node-labels team=ml,zone=a "
            "--register-with-taints x=1:NoSchedule,arm=true:NoSchedule --v 2'\n"
        )

    def test_repeated_label_flags(self):
        # The kubelet merges every --node-labels, later pairs winning: ours replaces the last pair of its key.
        text = "KUBELET_EXTRA_ARGS=--node-labels=zone=b,team=ml --node-labels=zone=c,rack=4\n"
        result = plan(text, labels={"zone": "a", "new": "x"})
        assert result["args"] == ["--node-labels=team=ml", "--node-labels=zone=a,rack=4,new=x"]

    def test_repeated_taint_flags_only_the_last_counts(self):
        text = "KUBELET_EXTRA_ARGS=--register-with-taints=old=1:NoSchedule --register-with-taints=x=1:NoSchedule\n"
        result = plan(text, taints=["arm=true:NoSchedule"])
        assert result["args"] == [
            "--register-with-taints=old=1:NoSchedule",
            "--register-with-taints=x=1:NoSchedule,arm=true:NoSchedule",
        ]
        assert "only the last one (x=1:NoSchedule)" in result["warnings"][0]

    def test_emptied_last_taint_flag_stays_so_an_earlier_one_does_not_count(self):
        text = "KUBELET_EXTRA_ARGS=--register-with-taints=old=1:NoSchedule --register-with-taints arm=true:NoSchedule\n"
        result = plan(text, taints=["arm"], state="absent")
        assert result["args"] == ["--register-with-taints=old=1:NoSchedule", "--register-with-taints="]

    def test_users_empty_flags_are_left_as_they_are(self):
        text = "KUBELET_EXTRA_ARGS=--node-labels= --register-with-taints=\n"
        assert not plan(text)["changed"]

    def test_same_taints_in_another_order_is_no_change(self):
        text = "KUBELET_EXTRA_ARGS=--register-with-taints=gpu:NoExecute,x=1:NoSchedule,gpu:NoSchedule\n"
        result = plan(text, taints=["gpu:NoSchedule", "gpu:NoExecute"])
        assert not result["changed"] and result["new_text"] == text

    def test_absent_removes_only_our_keys(self):
        text = (
            "KUBELET_EXTRA_ARGS=--max-pods=110 --node-labels=zone=a --node-labels=team=ml,nvidia.com/gpu.product=X "
            "--register-with-taints=arm=true:NoSchedule\n"
        )
        result = plan(text, taints=["arm"], labels={"zone": None}, gpu_product="X", state="absent")
        assert result["args"] == ["--max-pods=110", "--node-labels=team=ml"]
        assert result["actions"] == [
            "remove label nvidia.com/gpu.product",
            "remove label zone",
            "remove taint arm=true:NoSchedule",
        ]

    def test_continued_assignment_becomes_one_line(self):
        text = "A=1\nKUBELET_EXTRA_ARGS=--max-pods=110 \\\n  --v=2\nB=2\n"
        result = plan(text, labels={"zone": "a"})
        assert result["new_text"] == ("A=1\nKUBELET_EXTRA_ARGS=--max-pods=110 --v=2 --node-labels=zone=a\nB=2\n")

    def test_crlf_line_ends_stay(self):
        text = "A=1\r\nKUBELET_EXTRA_ARGS=--v=2\r\nB=2\r\n"
        result = plan(text, labels={"zone": "a"})
        assert result["new_text"] == "A=1\r\nKUBELET_EXTRA_ARGS=--v=2 --node-labels=zone=a\r\nB=2\r\n"

    def test_backslash_before_crlf_ends_the_value_as_in_systemd(self):
        # systemd takes the '\r' as the continued newline, and the '\n' then ends the value: the next line is no
        # longer part of it. The merge follows what the kubelet would really get.
        text = "KUBELET_EXTRA_ARGS=--max-pods=110 \\\r\n  --v=2\r\n"
        assert plan_update(text)["args"] == ["--max-pods=110"]

    def test_last_assignment_is_the_one_changed(self):
        text = "KUBELET_EXTRA_ARGS=--v=1\nKUBELET_EXTRA_ARGS=--v=2\n"
        result = plan(text, labels={"zone": "a"})
        assert result["new_text"] == "KUBELET_EXTRA_ARGS=--v=1\nKUBELET_EXTRA_ARGS=--v=2 --node-labels=zone=a\n"
        assert "set 2 times (lines 1, 2)" in result["warnings"][0]

    def test_unchanged_file_is_returned_as_it_was(self):
        text = "# x\nKUBELET_EXTRA_ARGS=  --node-labels=zone=a  # not a comment, an argument\n"
        result = plan_update(text, labels={"zone": "a"})
        assert not result["changed"] and result["new_text"] == text
        assert result["args"] == ["--node-labels=zone=a", "#", "not", "a", "comment,", "an", "argument"]


class TestRefusals:
    @pytest.mark.parametrize(
        "text, line, words",
        [
            ('# c\nKUBELET_EXTRA_ARGS="--v=2\nB=1\n', 2, "never closed"),
            ("A=1\nexport KUBELET_EXTRA_ARGS=--v=2\n", 2, "without 'export'"),
            ("KUBELET_EXTRA_ARGS=--node-labels=team\n", 1, "not key=value"),
            ("\nKUBELET_EXTRA_ARGS=--v=2 --node-labels\n", 2, "has no value"),
            ("KUBELET_EXTRA_ARGS=--register-with-taints=a:b:c\n", 1, "more than one ':'"),
        ],
    )
    def test_file_the_kubelet_could_not_use(self, text, line, words):
        with pytest.raises(KubeletArgsError) as raised:
            plan_update(text, labels={"zone": "a"})
        assert raised.value.line == line
        assert words in str(raised.value)
        assert str(raised.value).startswith("line %d: " % line)

    @pytest.mark.parametrize(
        "labels, words",
        [
            ({"node-role.kubernetes.io/worker": ""}, "kubectl label node"),
            ({"zone": "two words"}, "value of label 'zone'"),
            ({"-zone": "a"}, "label key '-zone'"),
        ],
    )
    def test_labels_refused(self, labels, words):
        with pytest.raises(KubeletArgsError) as raised:
            plan_update(PACKAGE_DEFAULT, labels=labels)
        assert words in str(raised.value)

    def test_label_values_from_yaml_types(self):
        result = plan_update(PACKAGE_DEFAULT, labels={"a": True, "b": 3, "c": None})
        assert result["args"] == ["--node-labels=a=true,b=3,c="]


hypothesis = pytest.importorskip("hypothesis")
strategies = hypothesis.strategies
KEYS = strategies.sampled_from(["team", "zone", "rack", "example.com/pool"])
VALUES = strategies.sampled_from(["a", "b", "ml", "x-1"])


def effective_labels(args):
    """The labels the kubelet ends up with: every --node-labels in order, later pairs winning (MapStringString)."""
    labels = {}
    for index, arg in enumerate(args):
        value = arg[len("--node-labels=") :] if arg.startswith("--node-labels=") else None
        if arg == "--node-labels":
            value = args[index + 1]
        for item in (value or "").split(","):
            if item:
                key, _equals, label = item.partition("=")
                labels[key] = label
    return labels


def effective_taints(args):
    """The taints the kubelet registers with: the last --register-with-taints only (RegisterWithTaintsVar)."""
    taints = []
    for index, arg in enumerate(args):
        if arg.startswith("--register-with-taints="):
            taints = [t for t in arg.split("=", 1)[1].split(",") if t]
        elif arg == "--register-with-taints":
            taints = [t for t in args[index + 1].split(",") if t]
    return taints


@hypothesis.given(
    users=strategies.lists(strategies.lists(strategies.tuples(KEYS, VALUES), max_size=3), max_size=3),
    user_taints=strategies.lists(
        strategies.lists(strategies.tuples(KEYS, strategies.sampled_from(TAINT_EFFECTS)), max_size=3), max_size=2
    ),
    ours=strategies.dictionaries(KEYS, VALUES, max_size=3),
    our_taints=strategies.lists(
        strategies.tuples(KEYS, strategies.sampled_from(TAINT_EFFECTS)), max_size=2, unique=True
    ),
    joined=strategies.booleans(),
    state=strategies.sampled_from(["present", "absent"]),
)
def test_merge_changes_exactly_our_keys(users, user_taints, ours, our_taints, joined, state):
    args = ["--max-pods=110"]
    for pairs in users:
        value = ",".join("%s=%s" % pair for pair in pairs)
        args += ["--node-labels=" + value] if joined else ["--node-labels", value or "a=b"]
    for taints in user_taints:
        args.append("--register-with-taints=" + ",".join("%s=v:%s" % taint for taint in taints))
    wanted_taints = ["%s=t:%s" % taint for taint in our_taints]
    text = "# theirs\nKUBELET_EXTRA_ARGS='%s'\nOTHER=1\n" % " ".join(args)
    result = plan(text, taints=wanted_taints, labels=ours, state=state)
    before, after = args_in(text), result["args"]
    expected_labels = {k: v for k, v in effective_labels(before).items() if k not in ours}
    if state == "present":
        expected_labels.update(ours)
    assert effective_labels(after) == expected_labels
    our_keys = {taint[0] for taint in our_taints}
    kept = [t for t in effective_taints(before) if t.partition("=")[0] not in our_keys]
    assert [t for t in effective_taints(after) if t.partition("=")[0] not in our_keys] == kept
    ours_after = sorted(t for t in effective_taints(after) if t.partition("=")[0] in our_keys)
    assert ours_after == (sorted(wanted_taints) if state == "present" else [])
    assert after[0] == "--max-pods=110"
    assert result["new_text"].startswith("# theirs\n") and result["new_text"].endswith("\nOTHER=1\n")
