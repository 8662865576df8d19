"""Checkpoints as C2SP signed notes (`tlog-checkpoint` over `signed-note`), the form other systems keep.

A checkpoint note's body is the log's origin line, the tree size in decimal and the base64 RFC 6962 root, each
ending in a newline; a blank line; then one line per signature, `— <key name> <base64(key id || signature)>`.
An Ed25519 key's id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), and its verifier
key is written `<name>+<hex key id>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # the signature type byte of an Ed25519 key
EM_DASH = "\u2014"
MAX_NOTE_BYTES = 1_000_000


class NoteRefused(ValueError):
    """Text that is not a well-formed checkpoint note, or a verifier key that is not one."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _valid_name(name: str) -> bool:
    return bool(name) and name.isprintable() and not any(c.isspace() or c == "+" for c in name)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte id a signature line names its key by."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + _raw(public_key)).digest()[:4]


def vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key in its standard text form: `<name>+<hex key id>+<base64(0x01 || public key)>`."""
    if not _valid_name(name):
        raise NoteRefused(f"{name!r} cannot name a key: no spaces, no '+'")
    encoded = base64.b64encode(bytes([ED25519]) + _raw(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    """A verifier key read from its text form."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # the base64 key may hold "+" too
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise NoteRefused("a verifier key is <name>+<8 hex digits>+<base64 key>")
        try:
            given_id = bytes.fromhex(parts[1])
            raw = base64.b64decode(parts[2], validate=True)
        except (ValueError, binascii.Error):
            raise NoteRefused("the verifier key's id or key is not hex and base64") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteRefused("the verifier key is not an Ed25519 key")
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_id(parts[0], public_key) != given_id:
            raise NoteRefused("the verifier key's id does not match its name and key")
        return cls(parts[0], given_id, public_key)


def checkpoint_body(origin: str, tree_size: int, root: bytes) -> str:
    """The note body a checkpoint signs: origin, tree size, base64 root, each on its own line."""
    if not origin or not origin.isprintable() or origin != origin.strip():
        raise NoteRefused(f"{origin!r} is not an origin line")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root).decode()}\n"


def sign(key: Ed25519PrivateKey, name: str, body: str) -> bytes:
    """The signature of a note body by a key of this name: key id || Ed25519 signature."""
    return key_id(name, key.public_key()) + key.sign(body.encode())


def render(body: str, name: str, signature: bytes) -> str:
    """The signed note as text: the body, a blank line, the signature line."""
    return f"{body}\n{EM_DASH} {name} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class CheckpointNote:
    """A checkpoint note as read: its body's fields and its signature lines (name, key id, signature)."""

    origin: str
    tree_size: int
    root: bytes
    body: str
    signatures: tuple[tuple[str, bytes, bytes], ...]

    def signed_by(self, verifier: Verifier) -> bool:
        """Whether a signature line by this key verifies over the body."""
        for name, kid, signature in self.signatures:
            if name == verifier.name and kid == verifier.key_id:
                try:
                    verifier.public_key.verify(signature, self.body.encode())
                except InvalidSignature:
                    return False
                return True
        return False


def parse(text: str) -> CheckpointNote:
    """Read a checkpoint note (refusing anything malformed: the text may come from anywhere)."""
    if len(text) > MAX_NOTE_BYTES or any(c < " " and c != "\n" for c in text):
        raise NoteRefused("not a note: too long, or control characters other than newlines")
    body, blank, signed = text.rpartition("\n\n")
    if not blank or not signed.endswith("\n"):
        raise NoteRefused("a note is its body, a blank line and signature lines, each ending in a newline")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteRefused("a checkpoint's body has an origin, a tree size and a root hash")
    origin, size, root = lines[:3]
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")) or len(size) > 19:
        raise NoteRefused(f"the tree size {size!r} is not a decimal number")
    try:
        root_bytes = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteRefused("the root hash is not base64") from None
    if len(root_bytes) != 32 or not origin:
        raise NoteRefused("the root hash is not 32 bytes, or the origin is empty")
    signatures = []
    for line in signed[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteRefused("a signature line's signature is not base64") from None
        if dash != EM_DASH or not _valid_name(name) or len(raw) < 5:
            raise NoteRefused("a signature line is '\u2014 <key name> <base64 signature>'")
        signatures.append((name, raw[:4], raw[4:]))
    return CheckpointNote(origin, int(size), root_bytes, body, tuple(signatures))
