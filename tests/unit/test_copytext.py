"""The one COPY-text reader (full verification's row counts and the loader's dealer are
built on it): the same events whatever the pieces it is fed."""

from __future__ import annotations

import pytest

from maintenance.pgarchive import copytext

SCRIPT = (
    b"--\n-- dump\n--\n\n\\restrict k3y\nSET client_encoding = 'UTF8';\n"
    b"CREATE TABLE public.a (id int);\n"
    b"COPY public.a (id, v) FROM stdin;\n1\tx\n2\tline\\n\\\\.\\nline\n\\.\n\n"
    b'COPY public."Odd""T" (id) FROM stdin;\n\\.\n'
    b'COPY extra."Odd\nName" ("Id") FROM stdin;\n1\n\\\\.\n\\.\n'
    b"COPY is not a header here\n"
    b"\\unrestrict k3y\n"
)


def _events(pieces: list[bytes]) -> tuple[list[tuple[str, bytes]], bytes | None]:
    """(kind, payload) of every event, rows joined per block, and what close() says."""
    text = copytext.CopyText()
    out: list[tuple[str, bytes]] = []
    for piece in pieces:
        for e in text.feed(piece):
            if isinstance(e, copytext.Rows):
                assert bytes(e.view()).endswith(b"\n") and e.lines() == bytes(e.view()).count(b"\n")
                if out and out[-1][0] == "rows":
                    out[-1] = ("rows", out[-1][1] + bytes(e.view()))
                else:
                    out.append(("rows", bytes(e.view())))
            elif isinstance(e, copytext.Begin):
                out.append(("begin", e.table + b" | " + e.sql))
            elif isinstance(e, copytext.End):
                out.append(("end", e.table))
            else:
                out.append(("statement", e.line))
    return out, text.close()


EXPECTED = [
    ("statement", b"\\restrict k3y"),
    ("statement", b"SET client_encoding = 'UTF8';"),
    ("statement", b"CREATE TABLE public.a (id int);"),
    ("begin", b"public.a | COPY public.a (id, v) FROM stdin"),
    ("rows", b"1\tx\n2\tline\\n\\\\.\\nline\n"),
    ("end", b"public.a"),
    ("begin", b'public."Odd""T" | COPY public."Odd""T" (id) FROM stdin'),
    ("end", b'public."Odd""T"'),
    ("begin", b'extra."Odd\nName" | COPY extra."Odd\nName" ("Id") FROM stdin'),
    ("rows", b"1\n\\\\.\n"),
    ("end", b'extra."Odd\nName"'),
    ("statement", b"COPY is not a header here"),
    ("statement", b"\\unrestrict k3y"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 16, 1 << 20])
def test_the_same_events_whatever_the_pieces(size: int) -> None:
    pieces = [SCRIPT[i : i + size] for i in range(0, len(SCRIPT), size)]
    assert _events(pieces) == (EXPECTED, None)


@pytest.mark.parametrize(
    ("cut", "inside"),
    [
        (SCRIPT.index(b"2\tline"), b"public.a"),  # in the rows
        (SCRIPT.index(b'Name" ("Id")'), b'extra."Odd'),  # in a header that spans lines
        (SCRIPT.index(b"COPY public."), None),  # between blocks
    ],
)
def test_close_says_which_table_the_text_ended_in(cut: int, inside: bytes | None) -> None:
    assert _events([SCRIPT[:cut]])[1] == inside
