"""The one exception tree: every error the suite raises on purpose is a MaintenanceError
(so ``errors.is_transient`` and the CLI's mapping cover it), the tree drawn in errors.py's
docstring and docs/architecture.md is the tree in the code, and no class in errors.py is
dead."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import maintenance
import tasks
from maintenance import errors

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> Iterator[ModuleType]:
    for package in (maintenance, tasks):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            # migrations run under Alembic only; __main__ would start the CLI
            if ".migrations" in info.name or info.name.endswith(".__main__"):
                continue
            yield importlib.import_module(info.name)


def _exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in maintenance/ and tasks/, by qualified name."""
    out: dict[str, type[BaseException]] = {}
    for module in _modules():
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ):
                out[f"{module.__name__}.{name}"] = obj
    return out


def _public(classes: dict[str, type[BaseException]]) -> dict[str, type[BaseException]]:
    # ``_Aborted`` and the like are private signals, raised and caught inside one module
    return {k: v for k, v in classes.items() if not v.__name__.startswith("_")}


def test_every_exception_the_suite_defines_is_a_maintenance_error() -> None:
    found = _public(_exceptions())
    assert "maintenance.errors.ConfigError" in found  # the scan sees what it should
    outside = sorted(k for k, v in found.items() if not issubclass(v, errors.MaintenanceError))
    assert outside == [], "exceptions outside the one tree (errors.MaintenanceError)"


def _drawn_tree(text: str) -> dict[str, str | None]:
    """name -> parent name, from a box-drawing tree whose root is MaintenanceError."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "MaintenanceError")
    indent = len(lines[start]) - len(lines[start].lstrip())
    parents: dict[str, str | None] = {"MaintenanceError": None}
    stack: list[tuple[int, str]] = [(-1, "MaintenanceError")]
    for line in lines[start + 1 :]:
        match = re.match(r"^([ │├└─]*── )([A-Z]\w*)", line[indent:])
        if not match:
            break
        depth = len(match.group(1))
        while stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1]
        stack.append((depth, match.group(2)))
    return parents


def _actual_tree() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for cls in _public(_exceptions()).values():
        if issubclass(cls, errors.MaintenanceError):
            base = cls.__bases__[0]
            out[cls.__name__] = None if cls is errors.MaintenanceError else base.__name__
    return out


@pytest.mark.parametrize(
    "where",
    ["maintenance/errors.py", "docs/architecture.md"],
)
def test_the_drawn_tree_is_the_tree_in_the_code(where: str) -> None:
    text = (errors.__doc__ or "") if where.endswith(".py") else (ROOT / where).read_text()
    drawn = _drawn_tree(text)
    actual = _actual_tree()
    assert len(actual) > 10  # the scan found the area modules' exceptions too
    assert drawn == actual, f"the tree in {where} differs from the classes"


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    return names


def test_every_class_in_errors_is_used_by_the_suite() -> None:
    """A class nothing raises or catches is a promise the code does not keep (CheckFailed
    was one: the recorder wrote its name as a string and nothing ever raised it)."""
    used: set[str] = set()
    for folder in ("maintenance", "tasks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path != ROOT / "maintenance" / "errors.py" and "migrations" not in path.parts:
                used |= _names_used(path)
    leaves = [
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == errors.__name__
        and not obj.__subclasses__()  # a branch (TransientError) is used by its leaves
    ]
    assert "ParamError" in leaves
    assert sorted(set(leaves) - used) == []


def test_a_failed_checklist_is_labelled_by_the_one_constant() -> None:
    """``CheckFailed`` is a label of the history, not an exception: nothing may raise or
    catch a class of that name, and the recorder writes the constant."""
    assert not hasattr(errors, "CheckFailed")
    assert errors.CHECK_FAILED == "CheckFailed"  # history rows and the runbook use this value
    recorder = (ROOT / "maintenance" / "history" / "recorder.py").read_text()
    assert '"CheckFailed"' not in recorder and "CHECK_FAILED" in recorder


def test_retention_busy_is_transient_and_in_the_tree(tmp_path: Path) -> None:
    """A deletion that meets a held manifest lock raises Busy: a transient MaintenanceError
    (the next run retries), and nothing is deleted."""
    from datetime import UTC, datetime

    from maintenance.backup import layout, manifest
    from maintenance.backup.layout import Tier
    from maintenance.fs import atomic, delete

    root = tmp_path / "backups"
    atomic.private_dir(root)
    atomic.private_dir(layout.tier_dir(root, Tier.DAILY))
    backup_id = layout.make_id(Tier.DAILY, datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    dump, man = layout.dump_path(root, backup_id), layout.manifest_path(root, backup_id)
    dump.write_bytes(b"dump")
    man.write_text("{}")
    with manifest.locked(man), pytest.raises(errors.MaintenanceError) as info:
        delete.delete(dump, root=root, reason="past its age", dry_run=False, lock_wait_s=0.2)
    assert isinstance(info.value, errors.Busy)
    assert errors.is_transient(info.value)
    assert "stayed held" in str(info.value)
    assert dump.read_bytes() == b"dump" and man.exists()


def test_retention_refusals_are_bad_input_of_the_tree(tmp_path: Path) -> None:
    from maintenance.backup import layout
    from maintenance.backup.layout import Tier
    from maintenance.fs import atomic, delete

    root = tmp_path / "backups"
    atomic.private_dir(root)
    folder = atomic.private_dir(layout.tier_dir(root, Tier.DAILY))
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    (folder / "a-link").symlink_to(target)
    with pytest.raises(errors.Refused, match="never followed, never deleted") as info:
        delete.delete(folder / "a-link", root=root, reason="stray", dry_run=False)
    assert isinstance(info.value, errors.BadInput) and not errors.is_transient(info.value)
    assert (folder / "a-link").is_symlink() and target.read_bytes() == b"keep"
