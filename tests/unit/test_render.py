"""Layout rules of the CLI's text output, rendered at 80 columns."""

from __future__ import annotations

import enum
from typing import Literal

from rich.console import Console

from maintenance.cli.fit import Column, FirstFit, Grid, KeyValues, width_for
from maintenance.taskspec import _type_name

SHA = "edb351b8255393717f8bf2248d91c948ec4fcb806c095da8a246b4798b3b5fb2"


def _render(renderable: object, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get().rstrip("\n").splitlines()


def _grid(summary: str, task: str = "backup.create") -> Grid:
    columns = [Column("id", right=True), Column("task"), Column("status")]
    columns.append(Column("summary", flex=True))
    return Grid(columns, [["123456", task, "succeeded", summary], ["7", "db.stats", "lost", "-"]])


def test_the_flexible_column_gives_way_and_the_key_columns_stay_whole() -> None:
    lines = _render(_grid("x" * 300))
    assert max(len(line) for line in lines) == 80
    row = lines[2].split()
    assert row[:3] == ["123456", "backup.create", "succeeded"]
    assert row[3].endswith("…") and len(lines[2]) == 80
    assert lines[3].split() == ["7", "db.stats", "lost", "-"]


def test_a_short_summary_is_not_padded_to_the_width() -> None:
    lines = _render(_grid("all 8 checks passed"))
    assert lines[2].endswith("all 8 checks passed") and len(lines[2]) < 80


def test_first_fit_prefers_the_layout_that_leaves_the_summary_room() -> None:
    wide = _grid("y" * 200, task="t" * 40)
    narrow = _grid("y" * 200)
    picked = FirstFit([wide, narrow]).pick(80)
    assert picked is narrow
    # nothing leaves 30 columns: the first layout whose key columns fit at all
    assert FirstFit([wide, narrow], flex_want=70).pick(80) is wide
    assert FirstFit([_grid("z", task="t" * 90)], fallback=[narrow]).pick(80) is narrow


def test_figures_are_aligned_key_value_lines_with_nested_blocks_indented() -> None:
    data = {
        "rows": 3336,
        "counts": {"assignments": 2545, "blocks": 730},
        "decisions": [{"id": "daily-1", "keep": True}, {"id": "daily-2", "keep": False}],
        "tables": ["public.a", "public.b"],
        "ratio": 5.224,
        "none": None,
    }
    lines = _render(KeyValues(data, title="figures"))
    assert lines == [
        "figures:",
        "  rows:   3336",
        "  counts:",
        "    assignments: 2545",
        "    blocks:      730",
        "  decisions:",
        "    - id:   daily-1",
        "      keep: true",
        "    - id:   daily-2",
        "      keep: false",
        "  tables: public.a, public.b",
        "  ratio:  5.224",
        "  none:   -",
    ]


def test_a_sha256_stays_on_one_line_at_80_columns() -> None:
    data = {"server_version_full": "PostgreSQL 15.20", "sha256": SHA, "very_" * 20: SHA}
    lines = _render(KeyValues(data, title="figures"))
    assert all(len(line) <= 80 for line in lines)
    assert f"  sha256: {SHA}" in lines  # after its key, not aligned past the edge
    assert sum(SHA in line for line in lines) == 2  # and under a key too long for it


def test_long_prose_wraps_beside_its_key() -> None:
    text = "word " * 40
    lines = _render(KeyValues({"summary": text.strip()}))
    assert all(len(line) <= 80 for line in lines) and len(lines) > 1
    assert all(line.startswith("         ") for line in lines[1:])  # under "summary: "


def test_columns_sets_the_width_of_piped_output(monkeypatch) -> None:
    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.setenv("COLUMNS", "93")
    assert width_for(Pipe()) == 93  # type: ignore[arg-type]
    monkeypatch.delenv("COLUMNS")
    assert width_for(Pipe()) == 120  # type: ignore[arg-type]
    monkeypatch.setenv("COLUMNS", "wide")
    assert width_for(Pipe()) == 120  # type: ignore[arg-type]


class _Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def test_parameter_types_read_as_an_operator_types_them() -> None:
    assert _type_name(_Colour) == "red|blue"
    assert _type_name(_Colour | None) == "red|blue"
    assert _type_name(Literal["no", "dry-run", "apply"] | None) == "no|dry-run|apply"
    assert _type_name(str | None) == "str"
    assert _type_name(list[str]) == "list[str]"
    assert _type_name(float) == "float"
