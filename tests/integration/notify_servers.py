"""Small local servers standing in for what is outside the stack: a webhook receiver (an
HTTP server in a thread) and an SMTP server (aiosmtpd) with STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# --- webhook receiver ----------------------------------------------------------------------


@dataclass
class Receiver:
    """Answers by the first part of the path: ``/ok/...`` 200; ``/flaky/...`` 500 to the
    first request of each path, then 200; ``/hang/...`` sleeps past any timeout;
    ``/gone/...`` 404; ``/moved/...`` 307 to ``/ok/...``; ``/redirect/...`` 307 to
    another host. Every request's body is kept."""

    base: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    seen_paths: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, behaviour: str, secret: str) -> str:
        return f"{self.base}/{behaviour}/{secret}"

    def bodies(self, behaviour: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                b for p, b in self.received if behaviour is None or p.split("/")[1] == behaviour
            ]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            behaviour = self.path.split("/")[1]
            with receiver.lock:
                receiver.received.append((self.path, json.loads(raw or b"{}")))
                first = self.path not in receiver.seen_paths
                receiver.seen_paths.add(self.path)
            if behaviour == "hang":
                receiver.release.wait(10)
                code = 200
            elif behaviour == "flaky" and first:
                code = 500
            elif behaviour == "gone":
                code = 404
            elif behaviour == "moved":  # 307 to /ok/... on this server
                self.send_response(307)
                self.send_header("Location", self.path.replace("/moved/", "/ok/", 1))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            elif behaviour == "redirect":
                self.send_response(307)
                self.send_header("Location", "http://127.0.0.2:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                code = 200
            body = b"ok" if code == 200 else b"upstream trouble"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def webhook_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


# --- SMTP ------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made now (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(raw, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(
    cert: Path | None,
    key: Path | None,
    *,
    user: str | None,
    password: str | None,
    implicit_tls: bool = False,
) -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1: with a certificate it offers (and requires) STARTTLS, or
    speaks TLS from the first byte (``implicit_tls``); with a user it requires AUTH (only
    after TLS)."""
    mailbox = Mailbox("127.0.0.1", free_port())

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        mailbox.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)

    kwargs: dict[str, Any] = {}
    if cert is not None and key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        if implicit_tls:
            kwargs.update(ssl_context=context)
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if user is not None:
        kwargs.update(
            authenticator=authenticator,
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS connection is TLS anyway
            auth_require_tls=cert is not None and not implicit_tls,
        )
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **kwargs)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def wait_until(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


# --- fixtures and settings for tests that use both ---------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver for one test."""
    yield from webhook_receiver()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server for one test: no TLS, no AUTH (the channel tests cover those)."""
    yield from smtp_server(None, None, user=None, password=None)


def channel_settings(receiver: Receiver, mailbox: Mailbox, hook: str = "ok", **more: Any) -> Any:
    """Settings with both channels pointing at ``receiver`` (its ``hook`` behaviour, a
    secret path of its own) and ``mailbox`` in plain text, backoff short."""
    import secrets

    from maintenance.config import load_settings

    return load_settings(
        **{
            "notify_webhook_url": receiver.url(hook, secrets.token_hex(8)),
            "notify_backoff_s": 0.01,
            "notify_smtp_host": mailbox.host,
            "notify_smtp_port": mailbox.port,
            "notify_smtp_tls": "off",
            "notify_smtp_from": "maint@hospital.example",
            "notify_smtp_to": ["oncall@hospital.example"],
        }
        | more
    )
