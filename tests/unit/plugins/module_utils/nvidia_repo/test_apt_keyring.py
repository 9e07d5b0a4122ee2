# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python keyring reader must agree with GnuPG on keys GnuPG itself generated in the test.

Keys are throwaway ones made per test session by the gpg on this machine; gpg's own fingerprint listing and
`--dearmor` output are the expected values, so nothing here is hard-coded.
"""

import os
import shutil

import pytest
from throwaway_gpg import gpg, make_signing_key

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.keyring import (
    KeyringError,
    NotAnOpenPGPKeyError,
    PinMismatchError,
    check_pinned,
    dearmor,
    normalize_fingerprint,
    primary_fingerprints,
    to_binary,
    without_keys,
)

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is the reference implementation")


def gpg_fingerprints(home, path):
    listing = gpg(home, "--with-colons", "--show-keys", str(path)).decode()
    fingerprints, primary = [], False
    for line in listing.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            primary = True
        elif fields[0] == "fpr" and primary:
            fingerprints.append(fields[9])
            primary = False
    return fingerprints


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """Two throwaway keys: an RSA one (old-format packet headers, like NVIDIA's) and an ed25519 one."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    made = {}
    for name, algorithm in (("rsa", "rsa2048"), ("ed", "ed25519")):
        armored = gpg(home, "--armor", "--export", make_signing_key(home, name, algorithm))
        armored_path = home / ("%s.asc" % name)
        armored_path.write_bytes(armored)
        binary_path = home / ("%s.gpg" % name)
        gpg(home, "--output", str(binary_path), "--dearmor", str(armored_path))
        made[name] = {
            "armored": armored,
            "binary": binary_path.read_bytes(),
            "fingerprint": gpg_fingerprints(home, armored_path)[0],
        }
    made["home"] = home
    return made


def test_fingerprints_match_gpg_for_rsa_and_ed25519(keys):
    for name in ("rsa", "ed"):
        assert primary_fingerprints(keys[name]["binary"]) == [keys[name]["fingerprint"]]


def test_dearmor_is_byte_identical_to_gpg_dearmor(keys):
    assert dearmor(keys["rsa"]["armored"]) == keys["rsa"]["binary"]
    assert to_binary(keys["ed"]["armored"].decode()) == keys["ed"]["binary"]


def test_binary_input_passes_through_unchanged(keys):
    assert to_binary(keys["rsa"]["binary"]) == keys["rsa"]["binary"]


def test_pinned_key_is_accepted_in_any_spelling(keys):
    spaced = " ".join(keys["rsa"]["fingerprint"][i : i + 4] for i in range(0, 40, 4)).lower()
    assert check_pinned(keys["rsa"]["armored"], spaced) == keys["rsa"]["binary"]


def test_wrong_key_is_refused_naming_both_fingerprints(keys):
    with pytest.raises(KeyringError) as error:
        check_pinned(keys["ed"]["armored"], keys["rsa"]["fingerprint"])
    assert keys["ed"]["fingerprint"] in str(error.value)
    assert keys["rsa"]["fingerprint"] in str(error.value)


def test_pinned_key_with_an_extra_key_appended_is_refused(keys):
    # Every primary key in a signed-by keyring is trusted, so a smuggled second key must not pass.
    both = keys["rsa"]["binary"] + keys["ed"]["binary"]
    with pytest.raises(KeyringError, match="fingerprints are"):
        check_pinned(both, keys["rsa"]["fingerprint"])


def test_junk_after_a_valid_key_is_a_broken_keyring_not_a_web_page(keys):
    with pytest.raises(KeyringError, match="not OpenPGP data at byte %d" % len(keys["rsa"]["binary"])):
        to_binary(keys["rsa"]["binary"] + b"<html></html>")


# What a captive portal, a proxy's error page or a mirror without the key answers with HTTP 200.
@pytest.mark.parametrize(
    "data, kind",
    [
        (b"<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi</title></head><body>Log in</body></html>", "an HTML page"),
        (b"\r\n  <HTML><body>Access denied by policy</body></HTML>", "an HTML page"),
        (b'{"errors": [{"code": "NOT_FOUND"}]}', "JSON"),
        (b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>", "XML"),
        (b"Moved to the new mirror, see the wiki\n", "text"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x1f\x8b\x08\x00compressed", "binary data"),
    ],
)
def test_download_that_is_no_key_at_all_says_what_it_is_not_a_pin_problem(keys, data, kind):
    with pytest.raises(NotAnOpenPGPKeyError) as error:
        check_pinned(data, keys["rsa"]["fingerprint"])
    message = str(error.value)
    assert "not an OpenPGP key" in message and "neither armored nor binary" in message
    assert "it is %s" % kind in message
    assert "pin" not in message


def test_only_a_different_key_is_a_pin_mismatch(keys):
    with pytest.raises(PinMismatchError):
        check_pinned(keys["ed"]["binary"], keys["rsa"]["fingerprint"])
    with pytest.raises(KeyringError) as error:
        check_pinned(keys["rsa"]["binary"][:-7], keys["rsa"]["fingerprint"])
    assert not isinstance(error.value, (PinMismatchError, NotAnOpenPGPKeyError))


def test_altered_armor_fails_its_checksum(keys):
    text = keys["rsa"]["armored"].decode()
    lines = text.splitlines()
    payload_index = next(i for i, line in enumerate(lines) if i > 2 and len(line) > 60)
    line = lines[payload_index]
    lines[payload_index] = line[:10] + ("A" if line[10] != "A" else "B") + line[11:]
    with pytest.raises(KeyringError):
        dearmor("\n".join(lines))


def test_truncated_key_is_reported(keys):
    with pytest.raises(KeyringError, match="truncated"):
        to_binary(keys["rsa"]["binary"][:-7])


def test_one_key_is_cut_out_of_a_legacy_keyring_and_the_other_kept(keys, tmp_path):
    legacy = keys["ed"]["binary"] + keys["rsa"]["binary"]
    kept, removed = without_keys(legacy, [keys["rsa"]["fingerprint"]])
    assert removed == [keys["rsa"]["fingerprint"]]
    assert kept == keys["ed"]["binary"]
    path = tmp_path / "trusted.gpg"
    path.write_bytes(kept)
    assert gpg_fingerprints(keys["home"], path) == [keys["ed"]["fingerprint"]]


def test_secret_key_material_is_refused(keys):
    secret = gpg(
        keys["home"], "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", "ed@example.invalid"
    )
    with pytest.raises(KeyringError, match="SECRET"):
        primary_fingerprints(secret)


@pytest.mark.parametrize("text", ["DDCAE044F796ECB0", "C95B321B61E88C1809C4F759DDCAE044F796ECBZ", ""])
def test_short_or_malformed_pins_are_refused(text):
    with pytest.raises(KeyringError):
        normalize_fingerprint(text)


def test_keybox_file_is_named_as_such():
    keybox_header = b"\x00\x00\x00\x20\x01\x01\x00\x00KBXf" + b"\x00" * 20
    with pytest.raises(KeyringError, match="keybox"):
        to_binary(keybox_header)
