# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway signing keys made with gpg itself, for the tests of keyring and repository handling."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess


def gpg(home, *args):
    """Run gpg in the key home `home`; return its stdout (bytes)."""
    env = dict(os.environ, GNUPGHOME=str(home), LC_ALL="C")
    return subprocess.run(["gpg", "--batch", "--quiet"] + list(args), env=env, check=True, capture_output=True).stdout


def make_signing_key(home, name, algorithm="ed25519"):
    """Make a passphrase-less signing key `name <name@example.invalid>`; return its user id's address."""
    address = "%s@example.invalid" % name
    gpg(home, "--passphrase", "", "--quick-gen-key", "%s <%s>" % (name, address), algorithm, "sign", "never")
    return address
