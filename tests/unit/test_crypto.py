"""The off-site encryption: real AES-256-GCM on real files. Every way of damaging a file
(a flipped byte, a cut, an addition, a swap, another key) is detected and leaves no
output; keys are read strictly."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import secrets
from pathlib import Path

import pytest

from maintenance.backup import crypto
from maintenance.errors import BadInput, ConfigError

CHUNK = crypto.CHUNK_SIZE
KEY = secrets.token_bytes(32)
SMALL = 64  # a small chunk size for cheap multi-chunk files


def _encrypt(data: bytes, key: bytes = KEY, chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    _, size = crypto.encrypt_stream(io.BytesIO(data), out, key, chunk_size=chunk_size)
    assert size == len(data)
    return out.getvalue()


def _decrypt(blob: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    crypto.decrypt_stream(io.BytesIO(blob), out, key)
    return out.getvalue()


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12345], ids=lambda n: f"{n}B"
)
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    src, dst = io.BytesIO(data), io.BytesIO()
    sha, n = crypto.encrypt_stream(src, dst, KEY)
    blob = dst.getvalue()
    chunks = max(1, -(-size // CHUNK))  # a multiple of the chunk size ends on a full chunk
    assert len(blob) == crypto.HEADER_BYTES + size + crypto.TAG_BYTES * chunks
    assert size < 16 or data[:16] not in blob
    out = io.BytesIO()
    sha2, n2 = crypto.decrypt_stream(io.BytesIO(blob), out, KEY)
    assert out.getvalue() == data
    assert (sha2, n2) == (sha, n) == (hashlib.sha256(data).hexdigest(), size)


def test_two_encryptions_of_the_same_data_differ() -> None:
    data = b"x" * 1000
    assert _encrypt(data) != _encrypt(data)


class _Trickle(io.RawIOBase):
    """A pipe-like source that returns at most 1000 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self.buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self.buf.read(min(n, 1000) if n >= 0 else 1000)


def test_short_reads_from_a_pipe_do_not_change_the_format() -> None:
    data = os.urandom(CHUNK + 5000)
    blob = io.BytesIO()
    crypto.encrypt_stream(_Trickle(data), blob, KEY)
    out = io.BytesIO()
    crypto.decrypt_stream(_Trickle(blob.getvalue()), out, KEY)
    assert out.getvalue() == data


# --- tampering ----------------------------------------------------------------------------

DATA = os.urandom(10 * SMALL + 17)  # 11 chunks of 64 bytes, the last one short
BLOB = _encrypt(DATA, chunk_size=SMALL)
H, B = crypto.HEADER_BYTES, SMALL + crypto.TAG_BYTES


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def _swap(blob: bytes, i: int, j: int) -> bytes:
    chunks = [blob[H + k * B : H + (k + 1) * B] for k in range((len(blob) - H) // B + 1)]
    chunks[i], chunks[j] = chunks[j], chunks[i]
    return blob[:H] + b"".join(chunks)


TAMPERED = {
    "flip magic": _flip(BLOB, 0),
    "flip version": _flip(BLOB, 8),
    "flip chunk size": _flip(BLOB, 12),
    "flip salt": _flip(BLOB, 20),
    "flip nonce prefix": _flip(BLOB, 30),
    "flip key check": _flip(BLOB, 40),
    "flip first body byte": _flip(BLOB, H),
    "flip middle body byte": _flip(BLOB, H + 5 * B + 10),
    "flip a tag": _flip(BLOB, H + 2 * B - 1),
    "flip the last tag": _flip(BLOB, len(BLOB) - 1),
    "cut at a chunk boundary": BLOB[: H + 4 * B],
    "cut mid-chunk": BLOB[: H + 4 * B + 30],
    "cut to the header": BLOB[:H],
    "cut inside the header": BLOB[:20],
    "cut inside the last tag": BLOB[:-3],
    "empty file": b"",
    "append bytes": BLOB + b"\x00" * 5,
    "append a whole chunk": BLOB + BLOB[H : H + B],
    "swap two chunks": _swap(BLOB, 1, 2),
    "repeat a chunk": BLOB[: H + 2 * B] + BLOB[H + B :],
    "drop a middle chunk": BLOB[: H + B] + BLOB[H + 2 * B :],
}


@pytest.mark.parametrize("name", list(TAMPERED))
def test_tampering_is_detected_and_leaves_no_output(name: str, tmp_path: Path) -> None:
    src = tmp_path / "copy.enc"
    src.write_bytes(TAMPERED[name])
    dest = tmp_path / "out.dump.zst"
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt_file(src, dest, KEY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.enc"]


def test_the_untampered_file_decrypts(tmp_path: Path) -> None:
    src = tmp_path / "copy.enc"
    src.write_bytes(BLOB)
    assert _decrypt(BLOB) == DATA
    _, size = crypto.decrypt_file(src, tmp_path / "out", KEY)
    assert (tmp_path / "out").read_bytes() == DATA
    assert size == len(DATA)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o600


def test_a_final_full_chunk_cannot_be_dropped() -> None:
    exact = _encrypt(os.urandom(4 * SMALL), chunk_size=SMALL)
    with pytest.raises(crypto.DecryptError):
        _decrypt(exact[: H + 3 * B])


def test_a_wrong_key_is_named() -> None:
    with pytest.raises(crypto.WrongKeyError, match="wrong key"):
        _decrypt(BLOB, secrets.token_bytes(32))


def test_wrong_key_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "copy.enc"
    src.write_bytes(BLOB)
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt_file(src, tmp_path / "out", secrets.token_bytes(32))
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["copy.enc"]


def test_decrypt_file_never_overwrites(tmp_path: Path) -> None:
    src = tmp_path / "copy.enc"
    src.write_bytes(BLOB)
    dest = tmp_path / "out"
    dest.write_bytes(b"precious")
    with pytest.raises(BadInput, match="already exists"):
        crypto.decrypt_file(src, dest, KEY)
    assert dest.read_bytes() == b"precious"


def test_decrypt_file_checks_the_expected_checksum(tmp_path: Path) -> None:
    src = tmp_path / "copy.enc"
    src.write_bytes(BLOB)
    with pytest.raises(crypto.DecryptError, match="different backup"):
        crypto.decrypt_file(src, tmp_path / "out", KEY, expected_sha256="0" * 64)
    assert not (tmp_path / "out").exists()


def test_memory_stays_bounded_whatever_the_size() -> None:
    """A reader that counts how much is asked of it at once: never more than a chunk."""
    asked: list[int] = []

    class Counting(io.RawIOBase):
        def __init__(self, size: int) -> None:
            self.left = size

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            assert n >= 0, "a read of everything"
            asked.append(n)
            n = min(n, self.left)
            self.left -= n
            return b"\0" * n

    crypto.encrypt_stream(Counting(20 * CHUNK), crypto.NullSink(), KEY)
    assert max(asked) <= CHUNK


# --- keys ---------------------------------------------------------------------------------


def _key_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "offsite.key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda k: k, id="raw"),
        pytest.param(lambda k: k + b"\n", id="raw+newline"),
        pytest.param(lambda k: k.hex().encode(), id="hex"),
        pytest.param(lambda k: k.hex().upper().encode() + b"\n", id="HEX+newline"),
        pytest.param(lambda k: base64.b64encode(k), id="base64"),
        pytest.param(lambda k: base64.b64encode(k) + b"\r\n", id="base64+crlf"),
    ],
)
def test_key_file_forms(tmp_path: Path, form) -> None:
    assert crypto.load_key(_key_file(tmp_path, form(KEY))) == KEY


@pytest.mark.parametrize(
    "content",
    [b"", b"short", os.urandom(31), os.urandom(33) + b"x", b"ab" * 31, b"zz" * 32, b"\0" * 32],
    ids=["empty", "text", "31 bytes", "34 bytes", "62 hex", "not hex", "all zero"],
)
def test_bad_key_files_are_refused_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = _key_file(tmp_path, content)
    with pytest.raises(ConfigError, match="MAINT_OFFSITE_KEY_FILE") as err:
        crypto.load_key(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, KEY, mode)
    with pytest.raises(ConfigError, match=f"chmod 600 {path}"):
        crypto.load_key(path)


def test_missing_and_unset_key_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        crypto.load_key(tmp_path / "nope")
    with pytest.raises(ConfigError, match="not set"):
        crypto.load_key(None)
    (tmp_path / "dir").mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="not a regular file"):
        crypto.load_key(tmp_path / "dir")


def test_key_id_is_stable_and_reveals_nothing() -> None:
    assert crypto.key_id(KEY) == crypto.key_id(KEY)
    assert crypto.key_id(KEY) != crypto.key_id(secrets.token_bytes(32))
    assert crypto.key_id(KEY) not in KEY.hex()
