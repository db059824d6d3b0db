"""Counting the rows of pg_restore's COPY blocks, however the stream is cut."""

from __future__ import annotations

import pytest

from maintenance.pgarchive.copytext import unquote_qualified
from maintenance.pgarchive.decode import CopyCounter, DecodeFailed

TEXT = (
    b"-- header\nSET x;\n"
    b"COPY public.a (id, v) FROM stdin;\n1\tx\n2\tline\\n\\\\.\\nline\n\\.\n\n"
    b'COPY public."Odd""T" (id) FROM stdin;\n\\.\n'
    b'COPY extra."Odd\nName" ("Id", note) FROM stdin;\n1\tone\n2\ttwo\n3\t\\\\.\n\\.\n'
    b"COPY public.b (id) FROM stdin;\n"
    + b"".join(b"%d\n" % i for i in range(1000))
    + b"\\.\n-- end\n"
)
EXPECTED = {"public.a": 2, 'public.Odd"T': 0, "extra.Odd\nName": 3, "public.b": 1000}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 1000, 1 << 20])
def test_rows_are_counted_whatever_the_chunking(size: int) -> None:
    counter = CopyCounter()
    for i in range(0, len(TEXT), size):
        counter.feed(TEXT[i : i + size])
    counter.close()
    assert counter.counts == EXPECTED


def test_a_stream_that_ends_inside_a_block_is_an_error() -> None:
    counter = CopyCounter()
    counter.feed(b"COPY public.a (id) FROM stdin;\n1\n2\n")
    with pytest.raises(DecodeFailed, match=r"inside the data of public\.a"):
        counter.close()


def test_unquote_qualified() -> None:
    assert unquote_qualified('public."Odd ""Name"""') == 'public.Odd "Name"'
    assert unquote_qualified('"a.b".c') == "a.b.c"
