# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_json import (
    DaemonJsonError,
    DaemonJsonInputError,
    detect_indent,
    merge_settings,
    normalize_key_paths,
    parse_daemon_json,
    plan_update,
    remove_key_paths,
    render_daemon_json,
    same_content,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "daemon_json")
NVIDIA_RUNTIME = {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}


def fixture_text(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read().decode("utf-8")


class TestParse:
    @pytest.mark.parametrize("name", ["empty.json", "whitespace-only.json"])
    def test_empty_file_is_an_empty_config(self, name):
        assert parse_daemon_json(fixture_text(name)) == ({}, [])

    @pytest.mark.parametrize(
        "name, line, column, words",
        [
            ("junk-comment.json", 1, 1, "Expecting value"),
            ("junk-trailing-comma.json", 4, 1, "Expecting property name"),
            ("junk-two-objects.json", 2, 1, "Extra data"),
            ("junk-truncated.json", 5, 1, "Expecting"),
        ],
    )
    def test_syntax_error_reports_line_and_column(self, name, line, column, words):
        with pytest.raises(DaemonJsonError) as caught:
            parse_daemon_json(fixture_text(name))
        assert (caught.value.line, caught.value.column) == (line, column)
        assert words in caught.value.message

    def test_nan_is_refused_like_dockerd_does(self):
        with pytest.raises(DaemonJsonError) as caught:
            parse_daemon_json(fixture_text("junk-nan.json"))
        assert "NaN" in caught.value.message

    def test_top_level_array_is_not_a_config(self):
        with pytest.raises(DaemonJsonError) as caught:
            parse_daemon_json(fixture_text("array.json"))
        assert "found an array" in caught.value.message
        assert caught.value.line == 1

    @pytest.mark.parametrize("text, kind", [("null", "null"), ('"runtimes"', "a string"), ("42", "a number")])
    def test_scalar_top_level_is_not_a_config(self, text, kind):
        with pytest.raises(DaemonJsonError, match="found " + kind):
            parse_daemon_json(text)

    def test_byte_order_mark_is_accepted_with_a_warning(self):
        config, warnings = parse_daemon_json(fixture_text("bom.json"))
        assert config == {"log-driver": "local"}
        assert "byte order mark" in warnings[0]

    def test_duplicate_keys_keep_the_last_value_and_warn(self):
        config, warnings = parse_daemon_json(fixture_text("duplicate-keys.json"))
        assert config["log-level"] == "warn"
        assert warnings == ["key 'log-level' appears more than once; dockerd and this module keep the last value"]

    def test_unicode_and_crlf_parse(self):
        assert parse_daemon_json(fixture_text("user-log-opts.json"))[0]["labels"][1] == "owner=運用チーム"
        assert parse_daemon_json(fixture_text("crlf.json"))[0] == {"log-driver": "local", "live-restore": True}


class TestMerge:
    def test_nvidia_runtime_joins_user_keys_and_keeps_them(self):
        user = parse_daemon_json(fixture_text("user-log-opts.json"))[0]
        merged = merge_settings(user, NVIDIA_RUNTIME)
        assert merged["runtimes"] == NVIDIA_RUNTIME["runtimes"]
        assert {key: merged[key] for key in user} == user
        assert list(merged) == list(user) + ["runtimes"]

    def test_objects_merge_key_by_key(self):
        user = parse_daemon_json(fixture_text("user-log-opts.json"))[0]
        merged = merge_settings(user, {"log-opts": {"max-size": "10m", "compress": "true"}})
        assert merged["log-opts"] == {"max-size": "10m", "max-file": "5", "labels": "team,service", "compress": "true"}

    def test_lists_are_replaced_not_appended(self):
        user = parse_daemon_json(fixture_text("user-log-opts.json"))[0]
        assert merge_settings(user, {"dns": ["1.1.1.1"]})["dns"] == ["1.1.1.1"]

    def test_a_value_of_another_type_replaces_the_object(self):
        assert merge_settings({"features": {"cdi": True}}, {"features": "off"}) == {"features": "off"}
        assert merge_settings({"features": "off"}, {"features": {"cdi": True}}) == {"features": {"cdi": True}}

    def test_deep_merge_keeps_siblings_four_levels_down(self):
        deep = parse_daemon_json(fixture_text("deep-nesting.json"))[0]
        merged = merge_settings(deep, {"builder": {"gc": {"defaultKeepStorage": "40GB"}}})
        assert merged["builder"]["gc"]["defaultKeepStorage"] == "40GB"
        assert merged["builder"]["gc"]["policy"] == deep["builder"]["gc"]["policy"]
        assert merged["default-ulimits"] == deep["default-ulimits"]

    def test_inputs_are_not_mutated(self):
        current = {"log-opts": {"max-size": "1m"}}
        settings = {"log-opts": {"max-file": "2"}}
        snapshot = copy.deepcopy((current, settings))
        merged = merge_settings(current, settings)
        merged["log-opts"]["max-size"] = "changed"
        assert (current, settings) == snapshot

    def test_settings_must_be_a_mapping(self):
        with pytest.raises(DaemonJsonInputError):
            merge_settings({}, ["runtimes"])


class TestRemove:
    def test_nested_path_is_removed_and_siblings_stay(self):
        config = parse_daemon_json(fixture_text("nvidia-ctk-default-cdi.json"))[0]
        result = remove_key_paths(config, [["default-runtime"], ["features", "cdi"]])
        assert result == {
            "features": {},
            "log-driver": "journald",
            "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}},
        }

    def test_absent_paths_and_paths_through_scalars_are_ignored(self):
        config = {"log-driver": "local", "runtimes": {"nvidia": {"path": "x"}}}
        assert remove_key_paths(config, [["nope"], ["log-driver", "deeper"], ["runtimes", "crun", "path"]]) == config

    def test_plain_string_names_a_top_level_key(self):
        assert normalize_key_paths(["default-runtime", ["runtimes", "nvidia"]]) == [
            ["default-runtime"],
            ["runtimes", "nvidia"],
        ]

    @pytest.mark.parametrize("bad", [[[]], [["runtimes", 3]], [{"runtimes": "nvidia"}]])
    def test_malformed_paths_are_refused(self, bad):
        with pytest.raises(DaemonJsonInputError):
            normalize_key_paths(bad)


class TestPlanUpdate:
    @pytest.mark.parametrize("name", ["nvidia-ctk-4space.json", "nvidia-ctk-2space.json"])
    def test_stanza_already_written_by_nvidia_ctk_is_no_change(self, name):
        plan = plan_update(fixture_text(name), NVIDIA_RUNTIME, [])
        assert plan["changed"] is False
        assert plan["new_text"] is None

    def test_key_order_and_whitespace_are_not_changes(self):
        plan = plan_update('{"b": 1,   "a": {"y": 2, "x": 1}}', {"a": {"x": 1, "y": 2}, "b": 1}, [])
        assert plan["changed"] is False

    @pytest.mark.parametrize("old, new", [(1, True), (1, 1.0), (0, False)])
    def test_values_equal_in_python_but_not_in_json_are_changes(self, old, new):
        assert plan_update(json.dumps({"debug": old}), {"debug": new}, [])["changed"] is True

    def test_migrating_nvidia_docker2_runtime_args_needs_an_explicit_removal(self):
        text = fixture_text("nvidia-docker2-2.13.json")
        merged_only = plan_update(text, NVIDIA_RUNTIME, [])["after"]
        assert merged_only["runtimes"]["nvidia"] == {
            "path": "nvidia-container-runtime",
            "runtimeArgs": [],
            "args": [],
        }
        migrated = plan_update(text, NVIDIA_RUNTIME, [["runtimes", "nvidia", "runtimeArgs"]])
        assert migrated["after"] == NVIDIA_RUNTIME
        assert migrated["new_text"] == (
            '{\n    "runtimes": {\n        "nvidia": {\n            "path": "nvidia-container-runtime",\n'
            '            "args": []\n        }\n    }\n}\n'
        )

    def test_missing_file_gets_two_space_json_with_newline(self):
        plan = plan_update("", {"log-driver": "local"}, [])
        assert plan["before"] == {}
        assert plan["new_text"] == '{\n  "log-driver": "local"\n}\n'

    def test_tab_indented_file_stays_tab_indented(self):
        plan = plan_update(fixture_text("tabs.json"), {"debug": True}, [])
        assert plan["new_text"] == '{\n\t"debug": true,\n\t"log-level": "info"\n}\n'

    def test_non_ascii_is_written_as_utf8_not_escaped(self):
        plan = plan_update(fixture_text("user-log-opts.json"), {"labels": ["site=Zürich"]}, [])
        assert '"site=Zürich"' in plan["new_text"]
        assert parse_daemon_json(plan["new_text"])[0] == plan["after"]

    def test_rendered_text_parses_back_to_the_same_content(self):
        deep = parse_daemon_json(fixture_text("deep-nesting.json"))[0]
        assert same_content(parse_daemon_json(render_daemon_json(deep, 4))[0], deep)

    def test_removal_and_setting_the_same_key_is_refused(self):
        with pytest.raises(DaemonJsonInputError, match="runtimes.nvidia"):
            plan_update("", NVIDIA_RUNTIME, [["runtimes", "nvidia"]])

    def test_removing_the_last_key_leaves_an_empty_object(self):
        plan = plan_update(fixture_text("nvidia-docker2-2.13.json"), {}, [["runtimes"]])
        assert plan["after"] == {}
        assert plan["new_text"] == "{}\n"

    def test_syntax_error_surfaces_before_any_merge(self):
        with pytest.raises(DaemonJsonError):
            plan_update(fixture_text("junk-trailing-comma.json"), NVIDIA_RUNTIME, [])


@pytest.mark.parametrize(
    "name, indent",
    [("nvidia-docker2-2.13.json", 4), ("nvidia-ctk-2space.json", 2), ("tabs.json", "\t"), ("empty.json", None)],
)
def test_detect_indent(name, indent):
    assert detect_indent(fixture_text(name)) == indent


def test_existing_empty_file_is_rewritten_but_a_missing_one_is_not():
    assert plan_update("\n", {}, [], exists=True)["new_text"] == "{}\n"
    assert plan_update("", {}, [], exists=False)["changed"] is False


class TestValuesDockerdCannotRead:
    """Values Python's json writes or reads but dockerd (Go's encoding/json) does not: refused before any write."""

    @pytest.mark.parametrize(
        "number", [float("inf"), float("-inf"), float("nan"), 10**400], ids=["inf", "-inf", "nan", "10**400"]
    )
    def test_non_finite_or_huge_number_in_settings_is_refused_naming_the_key(self, number):
        settings = {"default-ulimits": {"nofile": {"Name": "nofile", "Hard": number}}}
        with pytest.raises(DaemonJsonInputError) as caught:
            plan_update("", settings, [])
        assert "settings.default-ulimits.nofile.Hard" in str(caught.value)
        assert "not a finite number" in str(caught.value)

    def test_non_finite_number_inside_a_list_is_named_by_its_index(self):
        with pytest.raises(DaemonJsonInputError, match=r"settings\.default-address-pools\[1\]\.size"):
            plan_update("", {"default-address-pools": [{"size": 24}, {"size": float("nan")}]}, [])

    def test_number_too_large_for_dockerd_in_the_file_is_refused(self):
        with pytest.raises(DaemonJsonError) as caught:
            parse_daemon_json('{\n  "max-concurrent-downloads": 1e999\n}\n')
        assert "1e999" in caught.value.message
        assert (caught.value.line, caught.value.column) == (2, 31)

    def test_lone_surrogate_in_settings_is_refused_naming_the_key(self):
        with pytest.raises(DaemonJsonInputError) as caught:
            plan_update("", {"labels": ["ok", "bad=\ud800"]}, [])
        assert "settings.labels[1]" in str(caught.value)
        assert "U+D800" in str(caught.value)

    def test_lone_surrogate_in_a_key_of_settings_is_refused(self):
        with pytest.raises(DaemonJsonInputError, match=r"U\+DC00"):
            plan_update("", {"log-opts": {"\udc00": "x"}}, [])

    def test_lone_surrogate_escape_already_in_the_file_is_kept_as_an_escape(self):
        plan = plan_update('{"labels": ["a=\\ud800"]}', {"debug": True}, [])
        assert '"a=\\ud800"' in plan["new_text"]
        plan["new_text"].encode("utf-8")  # the text the module writes: a lone surrogate here cannot be encoded
        assert parse_daemon_json(plan["new_text"])[0] == plan["after"]

    def test_surrogate_pairs_are_ordinary_characters(self):
        plan = plan_update('{"labels": ["\\ud83d\\ude80"]}', {"debug": True}, [])
        assert '"\U0001f680"' in plan["new_text"]


class TestNestingDepth:
    # deep-nesting.json is a realistic file four levels deep; these are the hostile depths Python's recursion cannot
    # follow (json.loads stops near 1000 levels, copying and merging well before that).
    @pytest.mark.parametrize("depth", [100000, 900])
    def test_deeply_nested_file_is_refused_with_the_position(self, depth):
        text = '{"a": ' + "[" * depth + "]" * depth + "}"
        with pytest.raises(DaemonJsonError) as caught:
            plan_update(text, {"debug": True}, [])
        assert "nested more than 100 levels" in caught.value.message
        # '{' is level 1, so the hundredth '[' (column 6 + 100) opens level 101.
        assert (caught.value.line, caught.value.column) == (1, 6 + 100)

    def test_brackets_inside_strings_do_not_count(self):
        text = json.dumps({"labels": ["[" * 500, '\\"{' * 500]})
        assert parse_daemon_json(text)[0]["labels"][0] == "[" * 500

    def test_deeply_nested_settings_are_refused(self):
        settings = value = {}
        for _level in range(5000):
            value["a"] = {}
            value = value["a"]
        with pytest.raises(DaemonJsonInputError, match="nested more than 100 levels"):
            plan_update("", settings, [])

    def test_one_hundred_levels_are_accepted(self):
        text = '{"a": ' + "[" * 99 + "]" * 99 + "}"
        assert plan_update(text, {"debug": True}, [])["changed"] is True
