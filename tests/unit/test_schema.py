"""maintenance/schema.py is the one place that says what the scheduler's schema is: a
leaf module, in step with the demo's DDL, and the source of every default that names
its tables, counts or rules (no database needed)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from maintenance import dbcheck, demo, schema
from maintenance.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
DDL = (ROOT / "maintenance" / "demo" / "schema.sql").read_text("utf-8")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean MAINT_* environment for each test."""
    import os

    for key in [k for k in os.environ if k.startswith("MAINT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/home/tester")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    return monkeypatch


def _tables_in(query: str) -> set[str]:
    return set(re.findall(r"\bFROM\s+([a-z_]+)", query))


def _imports(relpath: str) -> list[str]:
    tree = ast.parse((ROOT / relpath).read_text("utf-8"))
    imported = [
        alias.name if isinstance(node, ast.Import) else (node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert imported, f"the parse found no imports at all in {relpath}"
    return imported


def test_schema_is_a_leaf_that_imports_nothing_from_maintenance() -> None:
    imported = _imports("maintenance/schema.py")
    assert [m for m in imported if m.split(".")[0] == "maintenance"] == []


@pytest.mark.parametrize("module", ["words", "generate", "assignments"])
def test_demo_row_generators_touch_no_database(module: str) -> None:
    imported = _imports(f"maintenance/demo/{module}.py")
    allowed = {"maintenance.demo.words", "maintenance.demo.generate"}
    assert [m for m in imported if m.startswith("maintenance") and m not in allowed] == []
    assert [m for m in imported if m.split(".")[0] in {"psycopg", "sqlalchemy"}] == []


def test_tables_are_the_demo_ddl_tables_in_parent_first_order() -> None:
    created = re.findall(r"^CREATE TABLE (\w+)", DDL, flags=re.MULTILINE)
    assert tuple(created) == schema.TABLES
    keys = re.findall(
        r"ALTER TABLE (\w+)\s+ADD CONSTRAINT \w+\s+FOREIGN KEY \(\w+\) REFERENCES (\w+)", DDL
    )
    assert len(keys) == DDL.count("FOREIGN KEY") >= 8  # the pattern saw every foreign key
    for child, parent in keys:  # each points at a table listed before its own
        assert schema.TABLES.index(parent) < schema.TABLES.index(child), (child, parent)


def test_every_name_the_defaults_use_is_a_schema_table() -> None:
    assert set(schema.EXPECTED_TABLES) <= set(schema.TABLES)
    for name, query in {**schema.STATS_COUNTS, **schema.INTEGRITY_CHECKS}.items():
        used = _tables_in(query)
        assert used, name
        assert used <= set(schema.TABLES), (name, used)


def test_the_mappings_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        schema.STATS_COUNTS["persons"] = "SELECT 0"  # type: ignore[index]
    with pytest.raises(TypeError):
        schema.INTEGRITY_CHECKS["x"] = "SELECT 0"  # type: ignore[index]


def test_settings_defaults_come_from_the_schema(env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.stats_counts == dict(schema.STATS_COUNTS)
    assert s.backup_expected_tables == list(schema.EXPECTED_TABLES)
    assert s.integrity_checks is None
    # each Settings gets its own copy: changing one changes neither the schema nor the next
    s.stats_counts["persons"] = "SELECT 0"
    s.backup_expected_tables.append("elsewhere")
    again = load_settings()
    assert again.stats_counts == dict(schema.STATS_COUNTS)
    assert again.backup_expected_tables == list(schema.EXPECTED_TABLES)


def test_default_integrity_rules_are_the_schema_rules(env: pytest.MonkeyPatch) -> None:
    rules = dbcheck.integrity_queries(load_settings())
    assert rules == dict(schema.INTEGRITY_CHECKS)
    rules.clear()  # a copy: the next caller still gets every rule
    assert dbcheck.integrity_queries(load_settings()) == dict(schema.INTEGRITY_CHECKS)


def test_configured_integrity_rules_replace_the_schema_rules(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_INTEGRITY_CHECKS", '{"no_orphans": "SELECT 0"}')
    assert dbcheck.integrity_queries(load_settings()) == {"no_orphans": "SELECT 0"}


def test_demo_public_names_are_the_schema() -> None:
    assert demo.SCHEMA_TABLES == schema.TABLES
    assert demo.integrity_queries() == dict(schema.INTEGRITY_CHECKS)
    assert demo.COUNT_KEYS == (
        "persons", "residents", "faculty", "rotations", "blocks", "schedules", "assignments",
        "swaps",
    )  # fmt: skip


@pytest.mark.parametrize(
    "fragment",
    [
        "FROM persons WHERE role = 'RESIDENT'",  # a db.stats count
        "GROUP BY person_id, block_id HAVING",  # an integrity rule
        "p WHERE p.id = c.",  # the orphan rule
        '"persons", "assignments", "blocks", "schedules", "rotations"',  # EXPECTED_TABLES
    ],
)
def test_no_other_module_spells_the_schema_out(fragment: str) -> None:
    holders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "maintenance").rglob("*.py")
        if fragment in path.read_text("utf-8")
    )
    assert holders == ["maintenance/schema.py"]
