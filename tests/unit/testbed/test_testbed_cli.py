# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""testbed.py's command line: which images `image` and `up` build, and the env file's names for them."""

import pytest

from .conftest import load_program


@pytest.fixture
def testbed(monkeypatch, tmp_path):
    """testbed.py with its engine, debootstrap, image and repository steps recorded instead of run."""
    module = load_program("testbed.py")
    calls = {"images": [], "foreign": []}

    def ensure_image(release, arch):
        calls["images"].append((release, arch))
        return "gpufleet-testbed/debian:%s-%s" % (module.RELEASES[release], arch)

    monkeypatch.setattr(module, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(module, "ensure_image", ensure_image)
    monkeypatch.setattr(module, "ensure_foreign_arch", calls["foreign"].append)
    monkeypatch.setattr(module, "engine_start", lambda: None)
    monkeypatch.setattr(module, "cuda_image_up", lambda arch: "/cache/cuda-sim-%s.tar" % arch)
    monkeypatch.setattr(module, "fixture_repo_up", lambda: {"GPUFLEET_FIXTURE_REPO_URL": "http://127.0.0.1:8765"})
    module.calls = calls
    return module


def read_env(path):
    with open(path) as handle:
        return dict(line[len("export ") :].strip().split("=", 1) for line in handle if line.startswith("export "))


def test_image_passes_one_release_and_architecture(testbed, capsys):
    # Was "TypeError: unhashable type: 'list'": the arch string went through up's de-duplication into characters.
    testbed.main(["image", "--release", "trixie", "--arch", "amd64"])
    assert testbed.calls["images"] == [("trixie", "amd64")]
    assert capsys.readouterr().out.strip() == "gpufleet-testbed/debian:13-amd64"


def test_image_defaults_to_bookworm_amd64(testbed):
    testbed.main(["image"])
    assert testbed.calls["images"] == [("bookworm", "amd64")]


def test_up_names_extra_images_by_release_and_keeps_the_old_names(testbed, capsys):
    testbed.main(["up", "--arch", "amd64", "--arch", "arm64", "--arch", "amd64", "--image", "trixie:amd64"])
    assert testbed.calls["images"] == [("bookworm", "amd64"), ("bookworm", "arm64"), ("trixie", "amd64")]
    env = read_env(capsys.readouterr().out.strip())
    assert env["GPUFLEET_IMAGE_AMD64"] == "gpufleet-testbed/debian:12-amd64"
    assert env["GPUFLEET_IMAGE_ARM64"] == "gpufleet-testbed/debian:12-arm64"
    assert env["GPUFLEET_IMAGE_BOOKWORM_AMD64"] == "gpufleet-testbed/debian:12-amd64"
    assert env["GPUFLEET_IMAGE_TRIXIE_AMD64"] == "gpufleet-testbed/debian:13-amd64"
    assert "GPUFLEET_IMAGE_TRIXIE_ARM64" not in env


def test_up_without_arch_builds_amd64_only(testbed, capsys):
    testbed.main(["up"])
    assert testbed.calls["images"] == [("bookworm", "amd64")]
    assert read_env(capsys.readouterr().out.strip())["GPUFLEET_IMAGE_AMD64"] == "gpufleet-testbed/debian:12-amd64"


@pytest.mark.parametrize("wrong", ["trixie", "trixie:s390x", "focal:amd64", "amd64:trixie"])
def test_up_refuses_an_image_that_is_not_release_colon_arch(testbed, wrong, capsys):
    with pytest.raises(SystemExit):
        testbed.main(["up", "--image", wrong])
    assert "RELEASE:ARCH" in capsys.readouterr().err
    assert testbed.calls["images"] == []
