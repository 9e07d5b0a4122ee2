# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a file so that a crash, a full disk or a refused rename leaves the old file or the new one, never an
empty or half-written one, and no temporary file beside it.

One writer for every module that owns a file on the host (daemon.json, containerd's config and drop-in, the CDI
spec, the kubelet's environment file, a file engine_restart puts back). Plain Python (no Ansible import): the module
passes its AnsibleModule.atomic_move as `move`, which carries the old file's owner, mode and SELinux context over to
the new one, and reports an OSError in its own words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

NEW_FILE_MODE = 0o644
NEW_FOLDER_MODE = 0o755


def replace_file(path, data, move, staging_prefix=None, new_file_mode=NEW_FILE_MODE):
    """Put `data` (bytes) at `path` through a staged file beside it; returns whether `path` existed before.

    The staged file is named `staging_prefix` plus a random suffix (default: ".<file name>."); a leading dot and no
    extension keep folder watchers (CDI loaders, conf.d readers) from taking it for a real file while it is written.
    Its data reaches the disk before `move(staged, path)` gives it the file's name, and the folder's entry after, so
    a crash after this returns cannot bring the old file back. A missing folder is made (0755). A file that did not
    exist gets `new_file_mode` after the move (atomic_move would give it 0666 less the umask); None keeps that.

    Raises OSError with `path` untouched; the staged file is gone whatever stopped the write, a SystemExit from
    fail_json inside `move` included.
    """
    directory = os.path.dirname(path) or "."
    if staging_prefix is None:
        staging_prefix = ".%s." % os.path.basename(path)
    existed = os.path.exists(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, NEW_FOLDER_MODE)
    handle, staged = tempfile.mkstemp(prefix=staging_prefix, dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        move(staged, path)
    finally:
        if os.path.exists(staged):
            os.unlink(staged)
    sync_folder(directory)
    if not existed and new_file_mode is not None:
        os.chmod(path, new_file_mode)
    return existed


def sync_folder(folder):
    """Put a folder's entries on disk: a rename lives there, and without this a crash can bring back the old file."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the file's own data is already on disk
    finally:
        os.close(handle)
