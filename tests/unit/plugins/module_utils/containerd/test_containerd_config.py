# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's wanted configuration, decided over real `containerd config dump` output.

The *.dump.1.6.20.toml fixtures are `containerd --config X.config.toml config dump` of Debian 12's containerd
1.6.20 on this machine, X being the *.config.toml beside them: Debian's stock file, one with users' own CRI
settings (SystemdCgroup = true, their pause image, a registry config_path), Docker's containerd.io file (no version,
disabled_plugins = ["cri"]) and a schema-1 file with [plugins.cri]. containerd2_written.dump.toml is written by
hand (its header says from what), since no containerd 2.x runs here.
"""

import os

import pytest
import tomllib

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.config import (
    CRI_PLUGIN,
    ConfigError,
    check_candidate,
    check_settings,
    cri_disabled_by,
    dropin_document,
    dumps,
    expand_imports,
    find_top_level_array,
    loads,
    nvidia_runtime,
    parse_version,
    runtime_names,
    schema_for,
    wanted_config_text,
    wanted_cri_section,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
NVIDIA = "/usr/bin/nvidia-container-runtime"
OPTIONS = {"nvidia_runtime": True, "runtime_binary": NVIDIA, "default_runtime": False, "cdi": False}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def dump(name):
    return loads(fixture(name))


@pytest.mark.parametrize(
    "text, version, schema",
    [
        ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n", (1, 6, 20), 2),
        ("containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6\n", (1, 7, 24), 2),
        ("containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da\n", (1, 7, 27), 2),
        (
            "containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7193e4e490e9fbdc236c0e811ccaba3376\n",
            (2, 1, 4),
            3,
        ),
    ],
)
def test_the_schema_follows_the_installed_version(text, version, schema):
    assert parse_version(text) == version
    assert schema_for(version) == schema


def test_an_unknown_major_version_is_refused_with_a_fix():
    with pytest.raises(ConfigError) as error:
        schema_for((3, 0, 0))
    assert "newer than this module knows" in error.value.message and error.value.hint


def test_the_nvidia_runtime_copies_runc_from_debians_stock_dump():
    section = dump("debian12_stock.dump.1.6.20.toml")["plugins"][CRI_PLUGIN[2]]
    runtime, warnings = nvidia_runtime(section, NVIDIA)
    runc = section["containerd"]["runtimes"]["runc"]
    assert warnings == []
    assert runtime["runtime_type"] == "io.containerd.runc.v2"
    assert runtime["options"] == dict(runc["options"], BinaryName=NVIDIA)
    assert runtime["options"]["SystemdCgroup"] is False
    # runc itself is untouched.
    assert runc["options"]["BinaryName"] == ""


def test_users_systemd_cgroup_and_other_settings_are_carried_over():
    section = dump("users_settings.dump.1.6.20.toml")["plugins"][CRI_PLUGIN[2]]
    wanted, _warnings = wanted_cri_section(section, 2, OPTIONS)
    nvidia = wanted["containerd"]["runtimes"]["nvidia"]
    assert nvidia["options"] == {"SystemdCgroup": True, "BinaryName": NVIDIA}
    assert wanted["sandbox_image"] == "registry.example.internal/pause:3.9"
    assert wanted["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert wanted["containerd"]["default_runtime_name"] == "runc"


def test_default_runtime_and_cdi_are_set_only_when_asked():
    section = dump("debian12_stock.dump.1.6.20.toml")["plugins"][CRI_PLUGIN[2]]
    wanted, _warnings = wanted_cri_section(section, 2, dict(OPTIONS, default_runtime=True, cdi=True))
    assert wanted["containerd"]["default_runtime_name"] == "nvidia"
    assert (wanted["enable_cdi"], wanted["cdi_spec_dirs"]) == (True, ["/etc/cdi", "/var/run/cdi"])
    assert wanted_cri_section(section, 2, dict(OPTIONS, nvidia_runtime=False)) == (None, [])
    with pytest.raises(ConfigError) as error:
        wanted_cri_section(section, 2, dict(OPTIONS, nvidia_runtime=False, default_runtime=True))
    assert "nvidia_runtime" in error.value.hint


def test_schema_3_puts_the_runtime_under_the_cri_runtime_plugin():
    document = dump("containerd2_written.dump.toml")
    section = document["plugins"][CRI_PLUGIN[3]]
    assert CRI_PLUGIN[3] == "io.containerd.cri.v1.runtime"
    wanted, _warnings = wanted_cri_section(section, 3, OPTIONS)
    nvidia = wanted["containerd"]["runtimes"]["nvidia"]
    assert nvidia["options"]["SystemdCgroup"] is True and nvidia["options"]["BinaryName"] == NVIDIA
    assert nvidia["sandboxer"] == "podsandbox"
    candidate = loads(dumps({"version": 3, "plugins": {CRI_PLUGIN[3]: wanted}}))
    assert runtime_names(candidate, 3) == ["nvidia", "runc"]
    assert check_candidate(candidate, 3, dict(OPTIONS, cdi=True), (2, 1, 4)) == []


def test_a_candidate_without_what_was_asked_is_named():
    base = dump("debian12_stock.dump.1.6.20.toml")
    problems = check_candidate(base, 2, dict(OPTIONS, default_runtime=True, cdi=True), (1, 6, 20))
    assert problems[0].startswith("the nvidia runtime is missing")
    assert problems[1] == "the default runtime is not nvidia"
    assert "containerd 1.6.20 does not know it (CDI in the CRI plugin came with 1.7)" in problems[2]


def test_the_writer_round_trips_every_dump_through_tomllib():
    for name in sorted(os.listdir(FIXTURES)):
        if "dump" in name:
            document = dump(name)
            text = dumps(document, header="a header\nof two lines")
            assert tomllib.loads(text) == document, name
            assert text.startswith("# a header\n# of two lines\n\n")
            assert dumps(document) == dumps(tomllib.loads(text)), "not deterministic: %s" % name


def test_the_writer_quotes_what_toml_needs_and_refuses_what_it_cannot_hold():
    document = {"a.b": {'q"uote': "line\nbreak\t\\", "list": [1, 2.5, True, "x"]}, "tables": [{"x": 1}, {"x": 2}]}
    assert tomllib.loads(dumps(document)) == document
    with pytest.raises(ValueError):
        dumps({"n": float("nan")})


# --- config.toml edits ---------------------------------------------------------------------------------------------


def test_debians_stock_file_gets_the_import_after_its_version_line_and_nothing_else_changes():
    text = fixture("debian12_stock.config.toml")
    after, edits = wanted_config_text(text, 2, "/etc/containerd/conf.d/*.toml", False)
    assert after == text.replace("version = 2\n", 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n', 1)
    assert edits == ["imports /etc/containerd/conf.d/*.toml"]
    # Already there: nothing to do.
    assert wanted_config_text(after, 2, "/etc/containerd/conf.d/*.toml", False) == (after, [])


def test_an_existing_multiline_imports_keeps_its_entries_and_the_comments_around_it():
    text = '# mine\nversion = 2\nimports = [\n    "/etc/containerd/mine.toml",  # a comment\n]\n\n[grpc]\n  uid = 0\n'
    after, _edits = wanted_config_text(text, 2, "/etc/containerd/conf.d/*.toml", False)
    assert after == (
        '# mine\nversion = 2\nimports = [\n    "/etc/containerd/mine.toml",\n    "/etc/containerd/conf.d/*.toml",\n]'
        "\n\n[grpc]\n  uid = 0\n"
    )
    assert tomllib.loads(after)["grpc"] == {"uid": 0}


def test_a_missing_file_is_created_minimal_and_only_when_something_is_wanted():
    assert wanted_config_text(None, 2, "/etc/containerd/conf.d/*.toml", False)[0] == (
        'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'
    )
    assert wanted_config_text(None, 3, None, False) == (None, [])


def test_docker_containerd_io_file_is_reported_and_fixed_only_when_asked():
    text = fixture("containerd_io_disabled_cri.config.toml")
    assert cri_disabled_by(loads(text)) == ["cri"]
    assert dump("containerd_io_disabled_cri.dump.1.6.20.toml").get("plugins", {}).get(CRI_PLUGIN[2]) is None
    kept, _edits = wanted_config_text(text, 2, "/etc/containerd/conf.d/*.toml", False)
    # No version: declared, and "cri" spelled as version 2 wants it; still disabled.
    assert loads(kept)["disabled_plugins"] == ["io.containerd.grpc.v1.cri"]
    assert loads(kept)["version"] == 2
    fixed, edits = wanted_config_text(text, 2, "/etc/containerd/conf.d/*.toml", True)
    assert loads(fixed)["disabled_plugins"] == []
    assert "the CRI plugin enabled (removed from disabled_plugins)" in edits
    # Docker's comments stay, line for line.
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        line for line in fixed.splitlines() if line.startswith("#")
    ]


def test_a_schema_1_file_with_plugin_sections_is_refused_with_the_fix():
    with pytest.raises(ConfigError) as error:
        wanted_config_text(fixture("no_version_with_plugins.config.toml"), 2, "/etc/containerd/conf.d/*.toml", False)
    assert "schema 1" in error.value.message
    assert "version = 2" in error.value.hint and "io.containerd.grpc.v1.cri" in error.value.hint


def test_imports_are_spelled_out_without_the_dropin_or_with_the_candidate_in_its_place(tmp_path):
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    for name in ("10-a.toml", "99-nvidia.toml", "99-zz.toml", "notes.txt"):
        (conf_d / name).write_text("version = 2\n")
    config = str(tmp_path / "config.toml")
    dropin = str(conf_d / "99-nvidia.toml")
    imports = [str(conf_d / "*.toml"), "mine.toml"]
    assert expand_imports(config, imports, dropin) == [
        str(conf_d / "10-a.toml"),
        str(conf_d / "99-zz.toml"),
        str(tmp_path / "mine.toml"),
    ]
    assert expand_imports(config, imports, dropin, "/tmp/candidate.toml")[:3] == [
        str(conf_d / "10-a.toml"),
        "/tmp/candidate.toml",
        str(conf_d / "99-zz.toml"),
    ]
    # Not written yet: the candidate still goes where it will sort.
    os.unlink(dropin)
    assert expand_imports(config, imports[:1], dropin, "/tmp/c.toml") == [
        str(conf_d / "10-a.toml"),
        "/tmp/c.toml",
        str(conf_d / "99-zz.toml"),
    ]


def test_find_top_level_array_ignores_keys_inside_tables():
    text = 'version = 2\n[plugins."x"]\n  imports = ["no"]\n'
    assert find_top_level_array(text, "imports") is None
    found = find_top_level_array("imports = [\"a]\", 'b'] # c\n", "imports")
    assert found[2] == ["a]", "b"]


def test_settings_merge_into_the_cri_section_and_carry_other_plugin_sections_whole():
    base = dump("debian12_stock.dump.1.6.20.toml")
    section = base["plugins"][CRI_PLUGIN[2]]
    wanted, _warnings = wanted_cri_section(section, 2, dict(OPTIONS, cdi_spec_dirs=None))
    settings = {
        "oom_score": -999,
        "plugins": {
            CRI_PLUGIN[2]: {"containerd": {"snapshotter": "native"}},
            "io.containerd.gc.v1.scheduler": {"pause_threshold": 0.05},
        },
    }
    document = dropin_document(base, 2, wanted, settings)
    assert document["version"] == 2 and document["oom_score"] == -999
    cri = document["plugins"][CRI_PLUGIN[2]]["containerd"]
    assert cri["snapshotter"] == "native" and sorted(cri["runtimes"]) == ["nvidia", "runc"]
    scheduler = document["plugins"]["io.containerd.gc.v1.scheduler"]
    assert scheduler == dict(base["plugins"]["io.containerd.gc.v1.scheduler"], pause_threshold=0.05)
    # Top-level sections are merged by containerd field by field: only the settings are written, no dumped ones.
    assert "grpc" not in document and "debug" not in document
    assert dropin_document(base, 2, None, {}) is None


@pytest.mark.parametrize(
    "cri, module_options, words",
    [
        ({"enable_cdi": False}, {"cdi": True}, "enable_cdi = false contradicts cdi: true"),
        ({"cdi_spec_dirs": ["/etc/cdi"]}, {"cdi": True, "cdi_spec_dirs": ["/srv/cdi"]}, "contradicts cdi_spec_dirs"),
        ({"containerd": {"runtimes": {"nvidia": {"runtime_type": "io.containerd.kata.v2"}}}}, {}, "runtime_type"),
    ],
)
def test_cdi_and_runtime_type_settings_that_contradict_the_options_are_refused(cri, module_options, words):
    options = dict(dict(OPTIONS, enable_cri=False, cdi_spec_dirs=None), **module_options)
    with pytest.raises(ConfigError) as error:
        check_settings({"plugins": {CRI_PLUGIN[2]: cri}}, 2, options)
    assert words in error.value.message
    # The same settings agree with a module asked for nothing of the kind.
    check_settings({"plugins": {CRI_PLUGIN[2]: {"max_concurrent_downloads": 5}}}, 2, options)
