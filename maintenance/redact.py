"""Keep secrets out of logs, the job history, Flower and child processes' argv.

Two nets, both applied wherever text leaves the process:

* every secret value the settings loaded (a DSN's password, the Flower password ...)
  is registered here and replaced by ``***`` wherever it appears;
* any ``scheme://user:password@host`` in free text has its password masked, so a
  secret that did not come from the settings (an error message quoting a URL) is
  caught too.

Values whose *key* is a secret name are masked whole before they are stored. A key is
split into words (on ``_``, ``-``, ``.`` and camelCase) and is secret when one of its
words is a secret word (``password``, ``pass``, ``token``, ``dsn``, ``auth`` ...), a word
that ends in one (``pgpassword``), or a secret pair (``api`` ``key``, ``private``
``key``). A secret word inside a longer ordinary word never counts: ``passed``,
``bypass``, ``compass``, ``author``, ``tokens_used`` are ordinary keys (their values are
still scrubbed of every known secret).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?=@)")
_CONNINFO_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_KEY_SEPARATORS = re.compile(r"[\s_.\-]+")
# "APIKey" -> API, Key; "dbPassword" -> db, Password; "Token2" stays one word.
_KEY_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")

#: Words that name a secret. Decided: "auth" and "authorization" (a header carrying
#: credentials) are secret, "author", "authority", "authentication" (a method) are not;
#: "token" is, "tokens" (a count in most results) is not; "key" alone is not (cache keys,
#: key ids), only in the pairs below.
SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "creds",
        "auth",
        "authorization",
        "dsn",
        "apikey",
        "privatekey",
    }
)
#: A word ending in one of these is a secret compound (pgpassword, authtoken, targetdsn).
_SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey", "privatekey", "dsn")
#: Adjacent words that together name a secret.
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("encryption", "key")})

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`scrub` masks it wherever it appears."""
    if value and len(value) >= 4:  # masking "a" everywhere would ruin every message
        with _lock:
            _secrets.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def url_password(url: str) -> str | None:
    """Return the password part of a URL, or None."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def mask_url(url: str) -> str:
    """Return ``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:{MASK}@"
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = userinfo + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str) -> str:
    """Mask every registered secret and every URL or conninfo password in ``text``."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _CONNINFO_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def key_words(name: str) -> list[str]:
    """The lower-case words of a key: split on ``_``, ``-``, ``.``, spaces and camelCase."""
    return [
        word.lower() for piece in _KEY_SEPARATORS.split(name) for word in _KEY_WORD.findall(piece)
    ]


def is_secret_name(name: str) -> bool:
    """Whether a value stored under key ``name`` is a secret (see the module docstring)."""
    words = key_words(name)
    if any(w in SECRET_WORDS or w.endswith(_SECRET_ENDINGS) for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def scrub_value(value: Any) -> Any:
    """Scrub strings anywhere inside a JSON-like value (dicts, lists, scalars)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and is_secret_name(k) and v else scrub_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as they may be stored: secret-named ones masked, the rest scrubbed."""
    return dict(scrub_value(dict(params)))
