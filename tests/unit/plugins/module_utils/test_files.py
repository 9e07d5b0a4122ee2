# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""replace_file, the one writer behind every module that owns a file: old file or new one, never a mix, no litter."""

import os
import stat

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils import files
from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file

OLD = b'{"log-driver": "journald"}\n'
NEW = b'{"log-driver": "journald", "default-runtime": "nvidia"}\n'


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


class RecordingMove:
    """os.rename, noting what it was handed: the staged file's name and its content at that moment."""

    def __init__(self, events=None):
        self.calls = []
        self.events = events if events is not None else []

    def __call__(self, staged, path):
        with open(staged, "rb") as handle:
            self.calls.append((staged, path, handle.read()))
        self.events.append("move")
        os.rename(staged, path)


@pytest.fixture
def umask_077():
    """A strict umask, as hardened hosts set it: a new file must still come out 0644, not 0600 or 0666."""
    previous = os.umask(0o077)
    yield
    os.umask(previous)


def test_an_existing_file_is_replaced_through_a_staged_file_beside_it(tmp_path):
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)
    move = RecordingMove()
    assert replace_file(str(target), NEW, move) is True
    assert target.read_bytes() == NEW
    [(staged, path, content)] = move.calls
    assert path == str(target)
    assert os.path.dirname(staged) == str(tmp_path)  # same file system, so the rename is atomic
    assert os.path.basename(staged).startswith(".daemon.json.")
    assert content == NEW  # complete before it takes the name
    assert os.listdir(str(tmp_path)) == ["daemon.json"]


def test_a_new_file_gets_0644_whatever_the_umask_and_its_missing_folders_are_made(tmp_path, umask_077):
    target = tmp_path / "etc" / "cdi" / "nvidia.yaml"
    assert replace_file(str(target), NEW, RecordingMove()) is False
    assert target.read_bytes() == NEW
    assert mode_of(target) == 0o644
    assert os.path.isdir(str(tmp_path / "etc" / "cdi"))


def test_an_existing_file_keeps_the_mode_the_move_gives_it(tmp_path):
    # The mode of an existing file is atomic_move's to carry over; replace_file must not reset it to 0644.
    target = tmp_path / "kubelet"
    target.write_bytes(OLD)
    os.chmod(str(target), 0o600)

    def move_keeping_mode(staged, path):
        os.chmod(staged, mode_of(path))
        os.rename(staged, path)

    replace_file(str(target), NEW, move_keeping_mode)
    assert mode_of(target) == 0o600


def test_new_file_mode_none_keeps_the_mode_the_move_gave(tmp_path):
    target = tmp_path / "config.toml"

    def move_giving_0640(staged, path):
        os.rename(staged, path)
        os.chmod(path, 0o640)

    replace_file(str(target), NEW, move_giving_0640, new_file_mode=None)
    assert mode_of(target) == 0o640


def test_a_staging_prefix_names_the_staged_file(tmp_path):
    move = RecordingMove()
    replace_file(str(tmp_path / "nvidia.yaml"), NEW, move, staging_prefix=".nvidia-cdi.")
    staged_name = os.path.basename(move.calls[0][0])
    assert staged_name.startswith(".nvidia-cdi.")
    assert not staged_name.endswith((".yaml", ".json"))  # CDI loaders skip it while it is written


def test_the_data_is_synced_before_the_move_and_the_folder_after(tmp_path, monkeypatch):
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)
    events = []
    real_fsync = os.fsync

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        return real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    replace_file(str(target), NEW, RecordingMove(events))
    assert events == ["fsync file", "move", "fsync folder"]


def test_a_refused_move_leaves_the_old_file_and_no_staged_file(tmp_path):
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)

    def refusing_move(staged, path):
        raise PermissionError(13, "Permission denied", path)

    with pytest.raises(PermissionError):
        replace_file(str(target), NEW, refusing_move)
    assert target.read_bytes() == OLD
    assert os.listdir(str(tmp_path)) == ["daemon.json"]


def test_a_move_that_fails_the_module_leaves_no_staged_file(tmp_path):
    # atomic_move reports its own failures with fail_json, which leaves through SystemExit, not OSError.
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)

    def failing_module_move(staged, path):
        raise SystemExit(1)

    with pytest.raises(SystemExit):
        replace_file(str(target), NEW, failing_module_move)
    assert target.read_bytes() == OLD
    assert os.listdir(str(tmp_path)) == ["daemon.json"]


def test_a_full_disk_while_writing_leaves_the_old_file_and_no_staged_file(tmp_path, monkeypatch):
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    move = RecordingMove()
    with pytest.raises(OSError) as raised:
        replace_file(str(target), NEW, move)
    assert raised.value.errno == 28
    assert move.calls == []
    assert target.read_bytes() == OLD
    assert os.listdir(str(tmp_path)) == ["daemon.json"]


def test_a_folder_that_refuses_new_files_raises_with_nothing_written(tmp_path, monkeypatch):
    target = tmp_path / "daemon.json"
    target.write_bytes(OLD)

    def refusing_mkstemp(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(files.tempfile, "mkstemp", refusing_mkstemp)
    with pytest.raises(PermissionError):
        replace_file(str(target), NEW, RecordingMove())
    assert target.read_bytes() == OLD
