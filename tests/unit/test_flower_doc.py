"""docs/flower.md cannot rot: every task of the catalog is there with each of its
parameters, every example is valid input for its task, and every Flower endpoint it
names exists in the installed Flower."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flower.urls import handlers

from maintenance import catalog
from maintenance.errors import ParamError

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "flower.md").read_text()


def sections(text: str) -> dict[str, str]:
    """{task name: its section's text} for every '### `name`' heading."""
    parts = re.split(r"^### `([^`]+)`\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


SECTIONS = sections(DOC)
NAMES = [spec.name for spec in catalog.SPECS]


def test_the_doc_lists_exactly_the_catalogs_tasks() -> None:
    assert sorted(SECTIONS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_task_has_every_parameter_in_its_table(name: str) -> None:
    section = SECTIONS.get(name, "")
    rows = {m.group(1) for m in re.finditer(r"^\| `([a-z_]+)` \|", section, re.M)}
    assert rows == set(catalog.get(name).params.model_fields), name


@pytest.mark.parametrize("name", NAMES)
def test_each_tasks_examples_are_valid_input(name: str) -> None:
    spec = catalog.get(name)
    section = SECTIONS.get(name, "")
    bodies = re.findall(r"-d '(\{.*\})'", section)
    assert bodies, f"{name}: no curl example"
    assert f"/api/task/async-apply/{name}\n" in section
    for body in bodies:
        spec.parse(json.loads(body)["kwargs"])
    # a task without parameters: `maint run NAME --enqueue ...`
    cli = re.findall(rf"^maint run {re.escape(name)}((?: .*?)?) --enqueue", section, re.M)
    assert cli, f"{name}: no maint equivalent"
    for args in cli:
        pairs = re.findall(r"-p (\w+)=(\S+)", args)
        spec.parse(dict(pairs))


def test_the_example_check_can_fail() -> None:
    with pytest.raises(ParamError):
        catalog.get("backup.retention").parse({"dry_rum": False})
    broken = DOC.replace("### `diag.hold`", "### `diag.holdz`")
    assert sorted(sections(broken)) != sorted(NAMES)


def _flower_route(path: str) -> bool:
    """Whether Flower serves ``path`` (its catch-all 404 handler does not count)."""
    routes = [re.compile(h[0] + "$") for h in handlers if isinstance(h, tuple) and h[0] != r".*"]
    return any(r.match(path) for r in routes)


def test_every_flower_endpoint_named_exists_in_flower() -> None:
    named = set(re.findall(r"(/api/[a-z/-]+)([A-Z_]*)", DOC))
    assert ("/api/task/async-apply/", "NAME") in named
    for path, placeholder in named:
        probe = path + "x" if placeholder or path.endswith("/") else path
        assert _flower_route(probe), path + placeholder
    assert not _flower_route("/api/task/trigger/x")  # the check can fail
