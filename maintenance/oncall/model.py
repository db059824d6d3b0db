"""The facts of the on-call screen and the metrics page, as values: what
:mod:`.facts` reads from the history and :mod:`.judge` (pure) and the views take.
Nothing is read here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from maintenance.history.models import JobRun, WindowRun
from maintenance.results import RunStatus

PROBLEMS = (RunStatus.FAILED.value, RunStatus.LOST.value, RunStatus.MISSED.value)


@dataclass(frozen=True)
class VerifiedBackup:
    """The newest backup of a tier that a run proved decodable or restorable, and not
    failed by a later verification."""

    id: str
    tier: str
    created_at: datetime
    level: str
    verified_at: datetime
    run_id: int
    size_bytes: int | None = None


@dataclass(frozen=True)
class Drill:
    """The last ``restore.drill`` run and its figures (none when it failed before
    measuring)."""

    run_id: int
    status: str
    at: datetime
    backup: str | None
    rto_s: float | None
    rpo_s: float | None
    rto_objective_s: float | None
    rpo_objective_s: float | None
    summary: str | None
    error: str | None


@dataclass(frozen=True)
class Disk:
    label: str  # backups | logs
    root: str
    free_bytes: int | None
    used_ratio: float | None
    status: str  # the health check's verdict: pass | warn | fail


@dataclass(frozen=True)
class Health:
    """The newest stored health sample."""

    sample_id: int
    taken_at: datetime
    status: str
    components: dict[str, str]
    #: component -> the first output of its checks that did not pass
    outputs: dict[str, str]
    cache_hit_ratio: float | None
    disks: list[Disk]


@dataclass(frozen=True)
class Alert:
    key: str
    status: str
    opened_at: datetime | None
    notified_at: datetime
    held_since: datetime | None
    output: str


@dataclass(frozen=True)
class TaskFigures:
    """Per task, over its top-level runs that are not refused input."""

    task: str
    runs: dict[str, int]  # status -> count in the history
    last_success_at: datetime | None
    last_success_duration_s: float | None
    last_duration_s: float | None
    #: failed, lost or missed runs since its last success (or skipped run)
    failures_in_a_row: int


@dataclass(frozen=True)
class PlannedRun:
    at: datetime
    name: str
    task: str
    skip: str | None


@dataclass(frozen=True)
class NextWindow:
    kind: str
    start: datetime
    end: datetime
    blackouts: tuple[str, ...]
    runs: list[PlannedRun]
    publication_unknown: str | None = None


@dataclass
class Snapshot:
    """Everything ``maint status`` shows and ``maint metrics`` exports."""

    now: datetime
    latest: list[JobRun] = field(default_factory=list)
    rejected: list[JobRun] = field(default_factory=list)
    running: list[JobRun] = field(default_factory=list)
    #: top-level runs that failed, were lost or missed in the last 24 h (not refused input)
    recent_problems: list[JobRun] = field(default_factory=list)
    tasks: dict[str, TaskFigures] = field(default_factory=dict)
    backups: dict[str, VerifiedBackup] = field(default_factory=dict)
    #: tiers of which a backup.create run is in the history (judged only then)
    backup_tiers_run: set[str] = field(default_factory=set)
    drill: Drill | None = None
    alerts: list[Alert] = field(default_factory=list)
    health: Health | None = None
    next_window: NextWindow | None = None
    #: maintenance windows running now (window.run)
    windows_running: list[WindowRun] = field(default_factory=list)
    #: why the next window could not be computed
    calendar_problem: str | None = None
    #: when the oldest run in the history started (None: no run yet): how long the suite
    #: has been running, so that "never" can be told from "not yet"
    history_since: datetime | None = None
