"""Redis glob patterns, read the way Redis reads them (``stringmatchlen`` in util.c).

Pure functions only: nothing here talks to Redis. The deletion itself passes the pattern
to ``SCAN MATCH`` untouched, so what is deleted is exactly what Redis matches; this
module only decides whether a pattern is acceptable and turns a literal prefix into a
pattern.

Redis's rules, which the tokenizer follows:

* ``*`` matches any run of characters (also none), ``?`` exactly one;
* ``[...]`` one character of a class: ``[abc]``, ranges ``[a-z]``, ``[^...]`` negated;
  ``\\`` escapes inside it; ``]`` closes it (``[]`` matches nothing); a class that is
  never closed takes the rest of the pattern;
* ``\\x`` is the character ``x`` itself, so ``schedule:\\*`` is the one key literally
  named ``schedule:*``; a lone ``\\`` at the very end is a literal backslash;
* every other character is itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Characters that mean something in a Redis glob.
SPECIAL = frozenset("*?[]\\")
#: Longer patterns are refused: nobody types them, and a crafted one costs Redis CPU.
MAX_LENGTH = 1024


@dataclass(frozen=True)
class Token:
    kind: Literal["literal", "any", "star", "class"]
    text: str


def tokens(pattern: str) -> list[Token]:
    """The pattern as Redis reads it, one token per matching step."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(Token("star", c))
            i += 1
        elif c == "?":
            out.append(Token("any", c))
            i += 1
        elif c == "\\":
            if i + 1 < n:
                out.append(Token("literal", pattern[i + 1]))
                i += 2
            else:  # a trailing backslash matches itself
                out.append(Token("literal", c))
                i += 1
        elif c == "[":
            j = i + 1
            while j < n:
                if pattern[j] == "\\" and j + 1 < n:
                    j += 2
                elif pattern[j] == "]":
                    j += 1
                    break
                else:
                    j += 1
            out.append(Token("class", pattern[i:j]))
            i = j
        else:
            out.append(Token("literal", c))
            i += 1
    return out


def literal_text(pattern: str) -> str:
    """The characters the pattern requires by name (its literal tokens, in order)."""
    return "".join(t.text for t in tokens(pattern) if t.kind == "literal")


def too_broad(pattern: str) -> str | None:
    """Why ``pattern`` may not be given to ``cache.clear_pattern``, or None if it may.

    A pattern with no literal character selects keys by their shape, not their name:
    ``*``, ``**``, ``?*``, ``*?*``, ``???``, ``[a-z]*`` match every key, or nearly. Those
    are the flush's business (``cache.flush``: a maintenance window or a reason, and a
    confirmation), never a pattern's.
    """
    if not pattern:
        return "an empty pattern matches only the key named '' (give a pattern)"
    if len(pattern) > MAX_LENGTH:
        return f"the pattern is {len(pattern)} characters long (at most {MAX_LENGTH})"
    if any(ord(c) < 32 for c in pattern):
        return "the pattern contains a control character (a typo in the shell?)"
    toks = tokens(pattern)
    if not any(t.kind == "literal" for t in toks):
        if all(t.kind == "star" for t in toks):
            what = "matches every key"
        else:
            what = (
                "has no literal character: it selects keys by their length or shape, not their name"
            )
        return (
            f"{pattern!r} {what}; cache.clear_pattern never clears the whole cache "
            "(cache.flush does, in a maintenance window or with force_reason, and confirm=true)"
        )
    return None


def escape(text: str) -> str:
    """``text`` as a pattern that matches exactly it: every special character escaped."""
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def prefix_pattern(prefix: str) -> str:
    """The pattern of every key that starts with ``prefix`` (taken literally)."""
    return escape(prefix) + "*"
