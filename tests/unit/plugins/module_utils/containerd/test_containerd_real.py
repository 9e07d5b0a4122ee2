# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole plan and the containerd_config module against the real containerd binary (`config dump` only: no
daemon is started). Skipped where containerd is not installed."""

import base64
import json
import os
import shutil
import subprocess

import pytest
import tomllib
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.config import ConfigError, plan
from ansible_collections.gpufleet.containers.plugins.modules import containerd_config

CONTAINERD = shutil.which("containerd")
pytestmark = pytest.mark.skipif(CONTAINERD is None, reason="containerd is not installed here")
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
NVIDIA = "/usr/bin/nvidia-container-runtime"


def run_main(module, args, capsys):
    """The module's JSON answer, run with real argument handling and real commands."""
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def run(argv):
    process = subprocess.run(argv, capture_output=True, text=True, check=False, env=dict(os.environ, LC_ALL="C"))
    return process.returncode, process.stdout, process.stderr


def setup(tmp_path, fixture=None, text=None):
    config = tmp_path / "config.toml"
    if fixture:
        shutil.copy(os.path.join(FIXTURES, fixture), str(config))
    elif text is not None:
        config.write_text(text)
    return {
        "containerd_bin": CONTAINERD,
        "config_path": str(config),
        "dropin_path": str(tmp_path / "conf.d" / "99-nvidia.toml"),
        "nvidia_runtime": True,
        "runtime_binary": NVIDIA,
        "default_runtime": False,
        "cdi": False,
        "cdi_spec_dirs": None,
        "enable_cri": False,
    }


def module_args(options, **more):
    return dict(
        {
            "config_path": options["config_path"],
            "dropin_dir": os.path.dirname(options["dropin_path"]),
            "containerd_bin": CONTAINERD,
        },
        **more,
    )


def tree(tmp_path):
    return {str(path): path.read_bytes() for path in sorted(tmp_path.rglob("*")) if path.is_file()}


def test_users_settings_reach_the_nvidia_runtime_and_containerd_reads_it_back(tmp_path):
    options = setup(tmp_path, "users_settings.config.toml")
    wanted = plan(run, options)
    assert wanted["runtimes"] == ["nvidia", "runc"]
    dropin = tomllib.loads(wanted["dropin"]["after"])
    cri = dropin["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["containerd"]["runtimes"]["nvidia"]["options"] == {"SystemdCgroup": True, "BinaryName": NVIDIA}
    assert cri["sandbox_image"] == "registry.example.internal/pause:3.9"
    # The user's comments are still in config.toml.
    assert "# our registry mirror's pause image" in wanted["config"]["after"]


def test_the_module_writes_once_then_changes_nothing_and_later_user_edits_reach_the_dropin(tmp_path, capsys):
    options = setup(tmp_path, "debian12_stock.config.toml")
    args = module_args(options)
    first = run_main(containerd_config, dict(args, _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert first["changed"] and not os.path.exists(options["dropin_path"])
    assert [item["after_header"] for item in first["diff"]] == [options["config_path"], options["dropin_path"]]
    second = run_main(containerd_config, args, capsys)
    assert second["changed_files"] == first["changed_files"]
    assert second["previous"][1] == {"path": options["dropin_path"], "exists": False}
    with open(os.path.join(FIXTURES, "debian12_stock.config.toml"), "rb") as handle:
        assert base64.b64decode(second["previous"][0]["content"]) == handle.read()
    assert run_main(containerd_config, args, capsys)["changed"] is False
    # A user's later edit of config.toml is carried into the drop-in, not shadowed by it.
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace('bin_dir = "/usr/lib/cni"', 'bin_dir = "/opt/mine/cni"'))
    third = run_main(containerd_config, args, capsys)
    assert third["changed_files"] == [options["dropin_path"]]
    with open(options["dropin_path"]) as handle:
        assert 'bin_dir = "/opt/mine/cni"' in handle.read()


def test_a_disabled_cri_plugin_is_reported_and_left_alone_unless_asked(tmp_path, capsys):
    options = setup(tmp_path, "containerd_io_disabled_cri.config.toml")
    before = tree(tmp_path)
    reported = run_main(containerd_config, module_args(options), capsys)
    assert reported["cri_disabled"] and not reported["changed"]
    assert "enable_cri" in json.dumps(reported["warnings"])
    assert tree(tmp_path) == before
    fixed = run_main(containerd_config, module_args(options, enable_cri=True), capsys)
    assert fixed["changed"] and fixed["runtimes"] == ["nvidia", "runc"]
    assert tomllib.loads((tmp_path / "config.toml").read_text())["disabled_plugins"] == []


def test_a_broken_setting_is_refused_in_containerds_words_and_nothing_is_written(tmp_path, capsys):
    with open(os.path.join(FIXTURES, "users_settings.config.toml")) as handle:
        text = handle.read()
    text = text.replace('sandbox_image = "registry.example.internal/pause:3.9"', 'max_concurrent_downloads = "three"')
    options = setup(tmp_path, text=text)
    before = tree(tmp_path)
    result = run_main(containerd_config, module_args(options), capsys)
    assert result["failed"]
    assert "containerd refuses the current configuration: containerd: (" in result["msg"]
    assert "Can't convert three(string) to int" in result["msg"]
    assert tree(tmp_path) == before


def test_a_broken_candidate_is_refused_before_anything_is_written(tmp_path):
    options = setup(tmp_path, "debian12_stock.config.toml")
    before = tree(tmp_path)

    def run_with_a_wrong_type_in_the_candidate(argv):
        # The drop-in as written by the plan, with a wrong type slipped in before containerd reads it.
        candidate = os.path.join(os.path.dirname(argv[2]), "99-nvidia.toml") if len(argv) > 2 else ""
        if os.path.exists(candidate):
            with open(candidate) as handle:
                text = handle.read()
            with open(candidate, "w") as handle:
                handle.write(text.replace("max_concurrent_downloads = 3", 'max_concurrent_downloads = "three"'))
        return run(argv)

    with pytest.raises(ConfigError) as error:
        plan(run_with_a_wrong_type_in_the_candidate, options)
    assert error.value.message.startswith("containerd refuses the new configuration: containerd: (")
    assert "Can't convert three(string) to int" in error.value.message
    assert tree(tmp_path) == before


def test_cdi_on_containerd_1_6_is_refused_because_its_dump_drops_enable_cdi(tmp_path, capsys):
    options = setup(tmp_path, "debian12_stock.config.toml")
    before = tree(tmp_path)
    result = run_main(containerd_config, module_args(options, cdi=True), capsys)
    version = run([CONTAINERD, "--version"])[1]
    if " 1.6." not in version:
        pytest.skip("this containerd (%s) knows enable_cdi" % version.strip())
    assert result["failed"] and "enable_cdi is not set" in result["msg"]
    assert tree(tmp_path) == before


def test_a_schema_1_config_with_plugin_sections_is_refused_and_left_alone(tmp_path, capsys):
    options = setup(tmp_path, "no_version_with_plugins.config.toml")
    before = tree(tmp_path)
    result = run_main(containerd_config, module_args(options), capsys)
    assert result["failed"] and "schema 1" in result["msg"] and "version = 2" in result["hint"]
    assert tree(tmp_path) == before


def test_default_runtime_is_read_back_and_turning_everything_off_removes_the_dropin(tmp_path, capsys):
    options = setup(tmp_path)  # no config.toml yet: created minimal
    args = module_args(options, default_runtime=True)
    result = run_main(containerd_config, args, capsys)
    assert result["changed_files"] == [options["config_path"], options["dropin_path"]]
    assert (tmp_path / "config.toml").read_text() == 'version = 2\nimports = ["%s/*.toml"]\n' % (tmp_path / "conf.d")
    dump = tomllib.loads(run([CONTAINERD, "--config", options["config_path"], "config", "dump"])[1])
    assert dump["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["default_runtime_name"] == "nvidia"
    off = run_main(containerd_config, module_args(options, nvidia_runtime=False), capsys)
    assert off["changed_files"] == [options["dropin_path"]] and not os.path.exists(options["dropin_path"])


# --- users' own settings (containerd_config_options in the role) ------------------------------------------------------

SETTINGS = {
    "oom_score": -999,
    "debug": {"level": "debug"},
    "grpc": {"max_recv_message_size": 33554432},
    "plugins": {
        "io.containerd.grpc.v1.cri": {"max_concurrent_downloads": 5, "containerd": {"snapshotter": "native"}},
        "io.containerd.gc.v1.scheduler": {"pause_threshold": 0.05},
    },
}


def test_settings_reach_containerds_dump_next_to_the_nvidia_runtime_and_config_tomls_own(tmp_path, capsys):
    options = setup(tmp_path, "users_settings.config.toml")
    config = tmp_path / "config.toml"
    # config.toml's own top-level section: containerd merges an imported one field by field.
    config.write_text(config.read_text().replace("version = 2\n", 'version = 2\n\n[debug]\n  format = "json"\n', 1))
    args = module_args(options, settings=SETTINGS)
    result = run_main(containerd_config, args, capsys)
    assert result["changed"] and result["runtimes"] == ["nvidia", "runc"]
    assert result["expect_plugins"] == ["io.containerd.grpc.v1.cri"]
    dump = tomllib.loads(run([CONTAINERD, "--config", options["config_path"], "config", "dump"])[1])
    cri = dump["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["max_concurrent_downloads"] == 5 and cri["containerd"]["snapshotter"] == "native"
    assert cri["containerd"]["runtimes"]["nvidia"]["options"] == {"SystemdCgroup": True, "BinaryName": NVIDIA}
    # config.toml's CRI settings survive although the drop-in's CRI section replaces config.toml's.
    assert cri["sandbox_image"] == "registry.example.internal/pause:3.9"
    assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
    # A plugin section the settings name is carried whole: the scheduler's other defaults are still there.
    assert dump["plugins"]["io.containerd.gc.v1.scheduler"]["pause_threshold"] == 0.05
    assert dump["plugins"]["io.containerd.gc.v1.scheduler"]["mutation_threshold"] == 100
    assert dump["oom_score"] == -999 and dump["grpc"]["max_recv_message_size"] == 33554432
    assert dump["debug"] == dict(dump["debug"], level="debug", format="json")
    assert run_main(containerd_config, args, capsys)["changed"] is False


@pytest.mark.parametrize(
    "settings, module_options, words",
    [
        (
            {
                "plugins": {
                    "io.containerd.grpc.v1.cri": {
                        "containerd": {"runtimes": {"nvidia": {"options": {"BinaryName": "/opt/nvidia/runtime"}}}}
                    }
                }
            },
            {},
            "BinaryName = '/opt/nvidia/runtime' contradicts runtime_binary '%s'" % NVIDIA,
        ),
        (
            {"plugins": {"io.containerd.grpc.v1.cri": {"containerd": {"default_runtime_name": "runc"}}}},
            {"default_runtime": True},
            "default_runtime_name = 'runc' contradicts default_runtime: true",
        ),
        (
            {"plugins": {"io.containerd.grpc.v1.cri": {"containerd": {"default_runtime_name": "nvidia"}}}},
            {},
            'default_runtime_name = "nvidia" contradicts default_runtime: false',
        ),
        ({"disabled_plugins": ["io.containerd.grpc.v1.cri"]}, {}, "switch off the CRI plugin"),
        ({"imports": ["/etc/elsewhere/*.toml"]}, {}, "settings set `imports`"),
    ],
)
def test_a_setting_that_contradicts_the_module_is_refused_naming_both(
    tmp_path, capsys, settings, module_options, words
):
    options = setup(tmp_path, "debian12_stock.config.toml")
    before = tree(tmp_path)
    result = run_main(containerd_config, module_args(options, settings=settings, **module_options), capsys)
    assert result["failed"] and words in result["msg"], result["msg"]
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "settings, words",
    [
        # containerd drops a key it does not know: the setting would silently do nothing.
        ({"debug": {"levle": "debug"}}, "debug.levle is not in it"),
        ({"plugins": {"io.containerd.grpc.v1.cri": {"max_concurent_downloads": 5}}}, "max_concurent_downloads"),
        # An imported zero does not override config.toml's value (mergo's WithOverride skips zero values).
        ({"oom_score": 0}, "oom_score is -500, not 0 (a file containerd imports cannot set a top-level value"),
        # A default runtime that is not defined passes `config dump` but leaves containerd without CRI.
        (
            {"plugins": {"io.containerd.grpc.v1.cri": {"containerd": {"default_runtime_name": "crun"}}}},
            "default_runtime_name 'crun' names none of its runtimes (nvidia, runc)",
        ),
    ],
)
def test_a_setting_containerd_would_not_apply_is_refused_before_anything_is_written(tmp_path, capsys, settings, words):
    options = setup(tmp_path, "debian12_stock.config.toml")
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace("version = 2\n", "version = 2\noom_score = -500\n", 1))
    before = tree(tmp_path)
    result = run_main(containerd_config, module_args(options, settings=settings), capsys)
    assert result["failed"] and words in result["msg"], result["msg"]
    assert tree(tmp_path) == before


def test_settings_alone_write_a_dropin_without_the_nvidia_runtime(tmp_path, capsys):
    options = setup(tmp_path, "debian12_stock.config.toml")
    result = run_main(
        containerd_config, module_args(options, nvidia_runtime=False, settings={"oom_score": -999}), capsys
    )
    assert result["changed"] and result["runtimes"] == ["runc"]
    dropin = tomllib.loads((tmp_path / "conf.d" / "99-nvidia.toml").read_text())
    assert dropin == {"version": 2, "oom_score": -999}
