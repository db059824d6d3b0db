"""Streaming, authenticated AES-256-GCM for off-site copies (docs/offsite.md).

A file is a fixed header followed by chunks; each chunk is sealed with AES-256-GCM
under a key derived for this file alone, with a STREAM nonce (a random per-file prefix,
the chunk's counter, a final-chunk flag) and the whole header as associated data. So a
flipped byte anywhere, a chunk moved, dropped or repeated, a file cut at or between
chunk boundaries, bytes appended, or a wrong key all fail authentication, and memory
stays at about two chunks whatever the size of the file.

Layout (all integers big-endian)::

    offset  size  field
         0     8  magic            b"MAINTENC"
         8     1  version          1
         9     4  chunk_size       plaintext bytes per chunk (1 MiB)
        13    16  salt             random; HKDF-SHA256 salt for the file key
        29     7  nonce_prefix     random
        36    16  key_check        HKDF output beside the file key: says "wrong key"
        52     -  chunks           each: ciphertext (chunk_size bytes, the last 0..chunk_size)
                                   followed by its 16-byte GCM tag

    file_key, key_check = HKDF-SHA256(master key, salt, info=b"maint-offsite v1", 48 bytes)
    nonce(i)            = nonce_prefix || uint32(i) || (0x01 if last chunk else 0x00)
    chunk(i)            = AES-256-GCM(file_key, nonce(i), plaintext_i, aad=header[0:52])

An empty plaintext is one final chunk holding only its tag; a plaintext that is a
multiple of the chunk size ends with a full final chunk.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import secrets
import stat
import struct
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from maintenance import redact
from maintenance.errors import BadInput, ConfigError, PermanentError
from maintenance.fs import atomic
from maintenance.fs.digest import Digest

MAGIC = b"MAINTENC"
VERSION = 1
KEY_BYTES = 32
SALT_BYTES = 16
PREFIX_BYTES = 7
CHECK_BYTES = 16
TAG_BYTES = 16
CHUNK_SIZE = 1 << 20
#: Smallest and largest chunk sizes a reader accepts (bounds memory on hostile input).
MIN_CHUNK, MAX_CHUNK = 16, 16 << 20
_HEADER = struct.Struct(f">8sBI{SALT_BYTES}s{PREFIX_BYTES}s{CHECK_BYTES}s")
HEADER_BYTES = _HEADER.size  # 52
_INFO = b"maint-offsite v1"
#: Name of the format, recorded beside each copy.
FORMAT = "maint-aes256gcm-stream-v1"

_MAX_KEY_FILE = 4096


class DecryptError(PermanentError):
    """The encrypted data is not authentic: damaged, cut, extended, reordered, or made
    with another key. Nothing of it may be trusted (and callers discard any output)."""


class WrongKeyError(DecryptError):
    """The header's key check does not match this key (or the header was damaged)."""


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


# --- keys ---------------------------------------------------------------------------------


def load_key(path: Path | None) -> bytes:
    """The 32-byte key in ``path``: 32 raw bytes, 64 hex digits or base64 of 32 bytes (a
    trailing newline is fine). Raise ConfigError naming the file if it is missing,
    unreadable, malformed, or readable or writable by group or others."""
    what = "MAINT_OFFSITE_KEY_FILE"
    if path is None:
        raise ConfigError(f"{what} is not set: off-site copies need a key file (docs/offsite.md)")
    where = f"{what} {path}"
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the key file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{where}: not a regular file")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"{where}: the key file is accessible to group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}`"
        )
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the key file: {exc.strerror}") from None
    if len(raw) > _MAX_KEY_FILE:
        raise ConfigError(f"{where}: too large to be a key file")
    key = _parse_key(raw)
    if key is None:
        raise ConfigError(
            f"{where}: not a 256-bit key: expected 32 raw bytes, 64 hex digits or base64 of "
            f"32 bytes, found {len(raw)} bytes (generate one with "
            "`head -c 32 /dev/urandom > key && chmod 600 key`)"
        )
    if key == bytes(KEY_BYTES):
        raise ConfigError(f"{where}: the key is all zero bytes: generate a random one")
    # the key's text forms are masked should they ever reach a log line or an error
    redact.register_secrets([key.hex(), base64.b64encode(key).decode()])
    return key


def _parse_key(raw: bytes) -> bytes | None:
    if len(raw) == KEY_BYTES:
        return raw
    text = raw.strip()
    if len(text) == 2 * KEY_BYTES:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(text.decode("ascii"))
    with contextlib.suppress(binascii.Error, ValueError):
        decoded = base64.b64decode(text, validate=True)
        if len(decoded) == KEY_BYTES:
            return decoded
    # 32 raw bytes followed by a newline (``... > key; echo >> key``): unambiguous, since
    # 33 or 34 bytes can be neither hex (64) nor base64 (44) of a 32-byte key
    if raw[KEY_BYTES:] in (b"\n", b"\r\n"):
        return raw[:KEY_BYTES]
    return None


def key_id(key: bytes) -> str:
    """A short public fingerprint of ``key`` (HMAC, reveals nothing of it): which key made
    a copy, for key rotation."""
    return hmac.new(key, b"maint-offsite key id", hashlib.sha256).hexdigest()[:16]


def _derive(key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    if len(key) != KEY_BYTES:
        raise ConfigError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(key)}")
    okm = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES + CHECK_BYTES, salt=salt, info=_INFO
    ).derive(key)
    return okm[:KEY_BYTES], okm[KEY_BYTES:]


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


# --- streams ------------------------------------------------------------------------------


def _read_exact(src: Readable, n: int) -> bytes:
    """Up to ``n`` bytes, fewer only at end of stream (pipes return short reads)."""
    data = src.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def encrypt_stream(
    src: Readable, dst: Writable, key: bytes, *, chunk_size: int = CHUNK_SIZE
) -> tuple[str, int]:
    """Encrypt ``src`` into ``dst``; return (plaintext SHA-256 hex, plaintext bytes)."""
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ValueError(f"chunk_size must be within {MIN_CHUNK}..{MAX_CHUNK}")
    salt = secrets.token_bytes(SALT_BYTES)
    prefix = secrets.token_bytes(PREFIX_BYTES)
    file_key, check = _derive(key, salt)
    header = _HEADER.pack(MAGIC, VERSION, chunk_size, salt, prefix, check)
    aead = AESGCM(file_key)
    digest = Digest()  # of the plaintext
    dst.write(header)
    counter = 0
    chunk = _read_exact(src, chunk_size)
    while True:
        # look one chunk ahead: the last chunk is sealed with the final flag
        following = _read_exact(src, chunk_size) if len(chunk) == chunk_size else b""
        last = not following
        digest.update(chunk)
        dst.write(aead.encrypt(_nonce(prefix, counter, last), chunk, header))
        if last:
            return digest.hexdigest(), digest.bytes
        counter += 1
        if counter >= 1 << 32:
            raise ValueError("file too large for this format (2^32 chunks)")
        chunk = following


def decrypt_stream(src: Readable, dst: Writable, key: bytes) -> tuple[str, int]:
    """Decrypt ``src`` into ``dst``; return (plaintext SHA-256 hex, plaintext bytes).

    Raise DecryptError (WrongKeyError for another key) when the data is not authentic.
    Each chunk is authenticated before it is written, but a cut file is only known at
    its end: on DecryptError, discard whatever reached ``dst`` (decrypt_file does).
    """
    header = _read_exact(src, HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        raise DecryptError(f"not an encrypted backup: {len(header)} bytes, shorter than a header")
    magic, version, chunk_size, salt, prefix, check = _HEADER.unpack(header)
    if magic != MAGIC:
        raise DecryptError("not an encrypted backup (no MAINTENC header)")
    if version != VERSION:
        raise DecryptError(f"encrypted with format version {version}; this reads {VERSION}")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise DecryptError(f"damaged header: chunk size {chunk_size} is out of range")
    file_key, expected_check = _derive(key, salt)
    if not hmac.compare_digest(check, expected_check):
        raise WrongKeyError(
            "wrong key: this file was encrypted with another key (or its header is damaged); "
            f"the key in use has key id {key_id(key)}"
        )
    aead = AESGCM(file_key)
    digest = Digest()  # of the plaintext
    block = chunk_size + TAG_BYTES
    counter = 0
    sealed = _read_exact(src, block)
    while True:
        following = _read_exact(src, block) if len(sealed) == block else b""
        last = not following
        if len(sealed) < TAG_BYTES:
            raise DecryptError(f"truncated: chunk {counter} is cut short (the file ends early)")
        try:
            plain = aead.decrypt(_nonce(prefix, counter, last), sealed, header)
        except InvalidTag:
            where = "the final chunk" if last else f"chunk {counter}"
            raise DecryptError(
                f"authentication failed at {where} (offset "
                f"{HEADER_BYTES + counter * block}): the file is damaged, cut, extended or "
                "reordered"
            ) from None
        digest.update(plain)
        dst.write(plain)
        if last:
            return digest.hexdigest(), digest.bytes
        counter += 1
        sealed = following


class NullSink:
    """A sink that counts and keeps nothing: read-back checks write no plaintext anywhere."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return len(data)


# --- files ----------------------------------------------------------------------------


def decrypt_file(
    src: Path, dest: Path, key: bytes, *, expected_sha256: str | None = None
) -> tuple[str, int]:
    """Decrypt the file ``src`` into a new file ``dest`` (0600, written atomically);
    return (plaintext SHA-256 hex, bytes).

    BadInput if ``dest`` exists or ``src`` cannot be read; DecryptError if ``src`` is
    not authentic or its plaintext does not have ``expected_sha256``. On any failure
    ``dest`` does not exist afterwards and no partial file is left.
    """
    if dest.exists() or dest.is_symlink():
        raise BadInput(f"{dest} already exists: refusing to overwrite it")
    if not dest.parent.is_dir():
        raise BadInput(f"{dest.parent} is not a folder")
    try:
        source = src.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot read {src}: {exc.strerror}") from None
    with source, atomic.atomic_write(dest, replace=False) as out:
        sha, size = decrypt_stream(source, out, key)
        if expected_sha256 is not None and sha != expected_sha256:
            raise DecryptError(
                f"{src} decrypts, but to data with SHA-256 {sha}, not the {expected_sha256} "
                "its manifest records: a different backup"
            )
    return sha, size
