# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenPGP public keys as apt uses them, in plain Python (RFC 4880 / RFC 9580 packet framing).

apt's `signed-by` wants a binary ("dearmored") keyring. Working on the packets directly gives three things that
shelling out to gpg does not: the fingerprints are known before anything is written (so a key is checked against
its pin before apt can trust it), dearmoring is byte-for-byte deterministic (so "changed" is a byte comparison),
and one key can be cut out of a legacy multi-key keyring such as /etc/apt/trusted.gpg without a gpg home.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json

ARMOR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
ARMOR_END = "-----END PGP PUBLIC KEY BLOCK-----"

TAG_SECRET_KEY = 5
TAG_PUBLIC_KEY = 6
TAG_SECRET_SUBKEY = 7
TAG_PUBLIC_SUBKEY = 14


class KeyringError(ValueError):
    """The data is not an OpenPGP public keyring apt could use."""


class NotAnOpenPGPKeyError(KeyringError):
    """The data is no OpenPGP at all: a web page, an error message, nothing. A download problem, not a key problem."""


class PinMismatchError(KeyringError):
    """A readable public key, but not the pinned one (or not only the pinned one)."""


def describe_content(data):
    """What bytes that are not OpenPGP look like, for an error message: 'an HTML page', 'JSON', 'empty', ..."""
    text = bytes(data).lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        return "empty"
    head = text[:1024].lower()
    if head.startswith(b"<!doctype html") or any(tag in head for tag in (b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith(b"<"):
        return "XML"
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    if decoded[:1] in "{[":
        try:
            json.loads(decoded)
            return "JSON"
        except ValueError:
            pass
    if all(char.isprintable() or char.isspace() for char in decoded):
        return "text"
    return "binary data"


def _preview(data, size=60):
    return " ".join(bytes(data[:size]).decode("utf-8", "replace").split())


def normalize_fingerprint(text):
    """'c95b 321b ...' or '0xC95B...' -> 'C95B321B...'; raises KeyringError for anything but 40 or 64 hex digits."""
    cleaned = (text or "").replace(" ", "").replace(":", "").upper()
    if cleaned.startswith("0X"):
        cleaned = cleaned[2:]
    if len(cleaned) not in (40, 64) or any(char not in "0123456789ABCDEF" for char in cleaned):
        raise KeyringError("%r is not a full OpenPGP fingerprint (40 hex digits, or 64 for v5/v6 keys)" % (text,))
    return cleaned


def crc24(data):
    """The checksum line of ASCII armor (RFC 4880 section 6.1)."""
    crc = 0xB704CE
    for byte in bytearray(data):
        crc ^= byte << 16
        for _bit in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(text):
    """Every public key block in `text`, decoded and concatenated, as `gpg --dearmor` would write it."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    blocks = []
    lines = iter(text.replace("\r\n", "\n").split("\n"))
    for line in lines:
        if line.strip() != ARMOR_BEGIN:
            continue
        blocks.append(_decode_armor_body(lines))
    if not blocks:
        raise KeyringError("no '%s' block found" % ARMOR_BEGIN)
    return b"".join(blocks)


def _decode_armor_body(lines):
    payload, checksum = [], None
    # Armor headers ("Version: ...", "Comment: ...") run up to the first blank line; a block may have none.
    for line in lines:
        if not line.strip():
            break
        if ":" not in line:
            payload.append(line.strip())
            break
    else:
        raise KeyringError("armored key block ends before its payload")
    for line in lines:
        line = line.strip()
        if line == ARMOR_END:
            break
        if line.startswith("=") and len(line) == 5:
            checksum = line[1:]
        elif line:
            payload.append(line)
    else:
        raise KeyringError("armored key block has no '%s' line" % ARMOR_END)
    try:
        data = base64.b64decode("".join(payload).encode("ascii"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError("armored key block is not valid base64: %s" % exc) from None
    if checksum is not None:
        try:
            expected = int(binascii.hexlify(base64.b64decode(checksum)), 16)
        except (binascii.Error, ValueError):
            raise KeyringError("armored key block has an unreadable checksum line") from None
        if expected != crc24(data):
            raise KeyringError("armored key block fails its CRC24 checksum (truncated or altered in transit)")
    return data


def is_armored(data):
    head = data[:4096] if isinstance(data, bytes) else data[:4096].encode("utf-8", "replace")
    return ARMOR_BEGIN.encode("ascii") in head


def to_binary(data):
    """Armored text or binary packets in, binary packets out (validated by parsing them)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if is_armored(data):
        binary = dearmor(data)
    elif _looks_like_packets(data):
        binary = data
    else:
        kind = describe_content(data)
        raise NotAnOpenPGPKeyError(
            "not an OpenPGP key (neither armored nor binary): it is %s%s"
            % (kind, "" if kind == "empty" else " (starts with %r)" % _preview(data.strip()))
        )
    iter_packets(binary)
    return binary


def _looks_like_packets(data):
    # Every OpenPGP packet header has its top bit set; a GnuPG keybox is named by iter_packets.
    return bool(data[:1]) and (data[0] & 0x80 or data[8:12] == b"KBXf")


def iter_packets(data):
    """[(tag, header+body bytes, body bytes)] for every packet; raises KeyringError on anything malformed."""
    data = bytes(data)
    if len(data) >= 12 and data[8:12] == b"KBXf":
        raise KeyringError("this is a GnuPG keybox file, not an OpenPGP keyring apt can read")
    packets = []
    offset = 0
    while offset < len(data):
        start = offset
        ctb = data[offset]
        if not ctb & 0x80:
            preview = data[:40].decode("utf-8", "replace").strip().replace("\n", " ")
            raise KeyringError("not OpenPGP data at byte %d (starts with %r)" % (offset, preview))
        offset += 1
        if ctb & 0x40:
            tag = ctb & 0x3F
            length, offset = _new_format_length(data, offset)
        else:
            tag = (ctb >> 2) & 0x0F
            length_type = ctb & 0x03
            if length_type == 3:
                length = len(data) - offset
            else:
                size = (1, 2, 4)[length_type]
                _need(data, offset, size)
                length = int(binascii.hexlify(data[offset : offset + size]), 16)
                offset += size
        _need(data, offset, length)
        packets.append((tag, data[start : offset + length], data[offset : offset + length]))
        offset += length
    if not packets:
        raise KeyringError("empty keyring")
    return packets


def _new_format_length(data, offset):
    _need(data, offset, 1)
    first = data[offset]
    if first < 192:
        return first, offset + 1
    if first < 224:
        _need(data, offset, 2)
        return ((first - 192) << 8) + data[offset + 1] + 192, offset + 2
    if first == 255:
        _need(data, offset, 5)
        return int(binascii.hexlify(data[offset + 1 : offset + 5]), 16), offset + 5
    raise KeyringError("partial-length packet at byte %d: not allowed in a key" % offset)


def _need(data, offset, size):
    if offset + size > len(data):
        raise KeyringError("keyring is truncated (packet runs past the end of the data)")


def key_fingerprint(body):
    """Fingerprint of a public key (or subkey) packet body, by key version."""
    version = body[0] if body else None
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
    if version == 5:
        return hashlib.sha256(b"\x9a" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    if version == 6:
        return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    raise KeyringError("OpenPGP key version %r is not supported (v3 keys are obsolete)" % (version,))


def split_keys(data):
    """[(primary fingerprint, bytes of the whole transferable key)] in keyring order."""
    keys = []
    for tag, raw, body in iter_packets(data):
        if tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
            raise KeyringError("the data holds a SECRET key; apt needs only the public key")
        if tag == TAG_PUBLIC_KEY:
            keys.append([key_fingerprint(body), [raw]])
        elif not keys:
            raise KeyringError("keyring does not start with a public key packet (tag %d first)" % tag)
        else:
            keys[-1][1].append(raw)
    return [(fingerprint, b"".join(parts)) for fingerprint, parts in keys]


def primary_fingerprints(data):
    return [fingerprint for fingerprint, _raw in split_keys(data)]


def check_pinned(data, pinned):
    """Binary keyring holding exactly the pinned primary key, or KeyringError saying what was found instead."""
    binary = to_binary(data)
    wanted = normalize_fingerprint(pinned)
    found = primary_fingerprints(binary)
    if found != [wanted]:
        raise PinMismatchError(
            "the key's primary fingerprint%s %s, but the pin is %s"
            % ("s are" if len(found) != 1 else " is", ", ".join(found) or "(none)", wanted)
        )
    return binary


def without_keys(data, fingerprints):
    """(keyring bytes minus the given primary keys, removed fingerprints); other keys are kept byte for byte."""
    unwanted = set(normalize_fingerprint(fingerprint) for fingerprint in fingerprints)
    kept, removed = [], []
    for fingerprint, raw in split_keys(data):
        if fingerprint in unwanted:
            removed.append(fingerprint)
        else:
            kept.append(raw)
    return b"".join(kept), removed
