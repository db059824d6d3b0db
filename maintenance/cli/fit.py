"""Text that fits the terminal: column grids whose key columns never shrink, and
``key: value`` blocks for nested data.

A :class:`Grid` is laid out when it is printed, for the width it is printed at: every
column but the flexible one is as wide as its widest cell (ids, names and statuses are
never cut); the flexible one (a summary) gets the room that is left and its text ends
in an ellipsis. :class:`FirstFit` picks the first of several layouts of the same rows
(full times, then compact ones, then fewer columns) whose key columns fit.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

#: Width of output that goes to a pipe or a file when COLUMNS is not set.
DEFAULT_WIDTH = 120
#: Columns between two grid columns.
GAP = 2
#: A flexible column narrower than this is left out rather than shown as a stub.
FLEX_MIN = 4
#: Prose is wrapped beside its key when at least this much room is left there.
PROSE_MIN = 24


def width_for(stream: TextIO) -> int | None:
    """COLUMNS when it is set; the terminal's own width (None: rich measures it) at a
    terminal; :data:`DEFAULT_WIDTH` for a pipe or a file."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        tty = False
    return None if tty else DEFAULT_WIDTH


def ellipsis(console: Console) -> str:
    return "…" if console.encoding.lower().startswith("utf") else "..."


def one_line(text: str | None) -> str:
    """``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join((text or "").split())


def cut(text: str, width: int, mark: str = "…") -> str:
    """``text`` shortened to ``width`` cells, ending in ``mark`` when it was cut."""
    if cell_len(text) <= width:
        return text
    if width <= cell_len(mark):
        return set_cell_size(text, width)
    return set_cell_size(text, width - cell_len(mark)) + mark


# --- grids -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    #: Takes the room the other columns leave; its text is cut with an ellipsis.
    flex: bool = False
    right: bool = False


Cell = str | Text


@dataclass(frozen=True)
class Note:
    """A line of dim text under a row, starting at column ``under``, wrapped."""

    text: str
    under: int = 0


@dataclass
class Grid:
    """Rows under a header and a rule; see the module docstring."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell] | Note]
    title: str | None = None

    def key_width(self) -> int:
        """The width of every column but the flexible one, with the gaps."""
        widths = self._natural()
        fixed = [w for c, w in zip(self.columns, widths, strict=True) if not c.flex]
        total = sum(fixed) + GAP * max(len(fixed) - 1, 0)
        return total + GAP if any(c.flex for c in self.columns) else total

    def fits(self, width: int, flex_want: int = FLEX_MIN) -> bool:
        """Whether the key columns fit, leaving the flexible one ``flex_want`` columns (or
        all it needs, if less)."""
        flex = [w for c, w in zip(self.columns, self._natural(), strict=True) if c.flex]
        want = min(flex_want, max(flex)) if flex else 0
        return self.key_width() + want <= width

    def _natural(self) -> list[int]:
        widths = [cell_len(c.header) for c in self.columns]
        for row in self.rows:
            if not isinstance(row, Note):
                for i, cell in enumerate(row):
                    widths[i] = max(widths[i], _len(cell))
        return widths

    def lines(self, width: int, mark: str = "…", rule: str = "─") -> list[Text]:
        widths = self._natural()
        for i, col in enumerate(self.columns):
            if col.flex:
                widths[i] = min(widths[i], width - self.key_width())
        keep = [i for i, c in enumerate(self.columns) if not (c.flex and widths[i] < FLEX_MIN)]
        cols = [self.columns[i] for i in keep]
        kept = [widths[i] for i in keep]
        out: list[Text] = []
        if self.title:
            out.append(Text(self.title, style="bold"))
        out.append(self._line([Text(c.header, style="bold") for c in cols], kept, cols, mark))
        out.append(Text((" " * GAP).join(rule * w for w in kept), style="dim"))
        for row in self.rows:
            if isinstance(row, Note):
                offset = sum(widths[i] + GAP for i in keep if i < row.under)
                for piece in wrap(row.text, max(width - offset, 8)):
                    out.append(Text(" " * offset + piece, style="dim", no_wrap=True))
            else:
                out.append(self._line([_text(row[i]) for i in keep], kept, cols, mark))
        return out

    @staticmethod
    def _line(cells: list[Text], widths: list[int], columns: list[Column], mark: str) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        last = len(cells) - 1
        for i, (cell, width, col) in enumerate(zip(cells, widths, columns, strict=True)):
            if cell.cell_len > width:  # only the flexible column is ever narrower
                cell = Text(cut(cell.plain, width, mark), style=cell.style)
            pad = " " * (width - cell.cell_len)
            if col.right:
                line.append(pad)
                line.append_text(cell)
            else:
                line.append_text(cell)
                if i < last:
                    line.append(pad)
            if i < last:
                line.append(" " * GAP)
        line.rstrip()
        return line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rule = "-" if options.ascii_only else "─"
        yield from self.lines(options.max_width, ellipsis(console), rule)


@dataclass
class FirstFit:
    """Of several layouts of the same rows, the first that fits the width it is printed
    at and leaves its flexible column ``flex_want`` columns; else the first that fits at
    all; else the first of ``fallback`` (layouts with fewer columns) that fits; else the
    last one."""

    layouts: Sequence[Grid]
    fallback: Sequence[Grid] = ()
    flex_want: int = 30

    def pick(self, width: int) -> Grid:
        for layouts, want in (
            (self.layouts, self.flex_want),
            (self.layouts, FLEX_MIN),
            (self.fallback, FLEX_MIN),
        ):
            for grid in layouts:
                if grid.fits(width, want):
                    return grid
        return (self.fallback or self.layouts)[-1]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.pick(options.max_width)


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def _len(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


# --- key: value blocks -------------------------------------------------------------------


@dataclass
class KeyValues:
    """Nested data as aligned ``key: value`` lines: a nested mapping is indented under its
    key, a list of mappings as ``-`` items; a value that does not fit after its key goes
    on the next line (a SHA-256 stays whole), one longer than the width wraps."""

    data: Mapping[str, Any]
    title: str | None = None
    indent: int = 2
    #: Keys longer than this do not push every value of their block to the right.
    align_max: int = 24
    #: Columns before the outermost keys.
    base: int = 0

    def lines(self, width: int) -> list[str]:
        out: list[str] = []
        start = self.base
        if self.title:
            out.append(" " * self.base + f"{self.title}:")
            start += self.indent
        self._mapping(self.data, start, width, out)
        return out

    def _mapping(self, data: Mapping[str, Any], level: int, width: int, out: list[str]) -> None:
        keys = [str(k) for k in data]
        scalar_keys = [k for k, v in zip(keys, data.values(), strict=True) if _scalar(v)]
        align = min(max((len(k) for k in scalar_keys), default=0), self.align_max) + 1
        for key, value in zip(keys, data.values(), strict=True):
            label = " " * level + f"{key}:"
            if isinstance(value, Mapping):
                if value:
                    out.append(label)
                    self._mapping(value, level + self.indent, width, out)
                else:
                    out.append(f"{label} {{}}")
            elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
                out.append(label)
                self._items(value, level + self.indent, width, out)
            else:
                column = level + max(align, len(key) + 1) + 1
                self._scalar(label, _show(value), column, level, width, out)

    def _items(self, items: list[Any], level: int, width: int, out: list[str]) -> None:
        for item in items:
            if isinstance(item, Mapping) and item:
                sub: list[str] = []
                self._mapping(item, level + 2, width, sub)
                first = sub[0]
                out.append(" " * level + "- " + first[level + 2 :])
                out.extend(sub[1:])
            else:
                self._scalar(" " * level + "-", _show(item), level + 2, level, width, out)

    def _scalar(
        self, label: str, value: str, column: int, level: int, width: int, out: list[str]
    ) -> None:
        if not value:
            out.append(label)
            return
        lines = value.splitlines() or [""]
        if len(lines) == 1:
            # aligned with its block if it fits there, else right after its key
            for at in (column, cell_len(label) + 1):
                if at + cell_len(value) <= width:
                    out.append(label.ljust(at) + value)
                    return
        room = width - column
        if room >= PROSE_MIN and " " in value:  # prose: wrapped under its own column
            pieces = [p for line in lines for p in wrap(line, room)]
            out.append(label.ljust(column) + pieces[0])
            out.extend(" " * column + p for p in pieces[1:])
            return
        # A token too long for the room after its key (a hash, a path): on the next
        # lines, deeper, whole if it fits there.
        under = level + 2 * self.indent
        room = max(width - under, 8)
        out.append(label)
        out.extend(" " * under + p for line in lines for p in wrap(line, room))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield Text(line, no_wrap=True, overflow="fold")


def _scalar(value: Any) -> bool:
    return not isinstance(value, Mapping) and not (
        isinstance(value, list) and any(isinstance(v, Mapping) for v in value)
    )


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value) if value else "[]"
    return str(value)


def wrap(text: str, width: int) -> Iterator[str]:
    """Words to ``width``; a word longer than that (a path, a hash) is split."""
    yield from textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False) or [
        ""
    ]
