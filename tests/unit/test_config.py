"""Settings: defaults, strict parsing that names the bad variable, *_FILE secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maintenance import redact
from maintenance.config import SECRET_FIELDS, SECTIONS, Settings, load_settings
from maintenance.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean MAINT_* environment for each test."""
    import os

    for key in [k for k in os.environ if k.startswith("MAINT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/home/tester")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    return monkeypatch


def test_defaults_work_on_a_developer_machine(env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.target_dsn.get_secret_value().endswith("/residency_scheduler")
    assert s.history_dsn.get_secret_value().endswith("/maintenance")
    assert s.broker_url.get_secret_value() != s.cache_url.get_secret_value()
    assert s.backup_root == Path("/home/tester/.local/state/maint/backups")
    assert s.timezone == "UTC"
    assert s.result_backend_url == s.broker_url.get_secret_value()
    assert set(s.stats_counts) >= {"persons", "residents", "faculty", "assignments", "blocks"}


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("MAINT_TIMEZONE", "Mars/Olympus_Mons", "MAINT_TIMEZONE"),
        ("MAINT_TARGET_DSN", "mysql://x@y/z", "MAINT_TARGET_DSN"),
        ("MAINT_TARGET_DSN", "postgresql://x@y:5432/", "MAINT_TARGET_DSN"),
        ("MAINT_HISTORY_DSN", "not a url", "MAINT_HISTORY_DSN"),
        ("MAINT_BROKER_URL", "amqp://guest@localhost//", "MAINT_BROKER_URL"),
        ("MAINT_BACKUP_ROOT", "relative/backups", "MAINT_BACKUP_ROOT"),
        ("MAINT_API_URL", "ftp://scheduler", "MAINT_API_URL"),
        ("MAINT_HEARTBEAT_INTERVAL_S", "-3", "MAINT_HEARTBEAT_INTERVAL_S"),
        ("MAINT_HEARTBEAT_INTERVAL_S", "soon", "MAINT_HEARTBEAT_INTERVAL_S"),
        ("MAINT_LOG_FORMAT", "xml", "MAINT_LOG_FORMAT"),
        ("MAINT_STATS_COUNTS", "{not json", "MAINT_STATS_COUNTS"),
        ("MAINT_STATS_COUNTS", '{"x": "DELETE FROM persons"}', "MAINT_STATS_COUNTS"),
        ("MAINT_FLOWER_BASIC_AUTH", "no-colon", "MAINT_FLOWER_BASIC_AUTH"),
        ("MAINT_QUEUE", "bad queue!", "MAINT_QUEUE"),
    ],
)
def test_a_bad_value_fails_and_names_the_setting(
    env: pytest.MonkeyPatch, var: str, value: str, named: str
) -> None:
    env.setenv(var, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_incoherent_settings_are_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_HEARTBEAT_INTERVAL_S", "60")
    env.setenv("MAINT_LOST_AFTER_S", "90")
    with pytest.raises(ConfigError, match="MAINT_LOST_AFTER_S"):
        load_settings()


def test_history_must_not_live_in_the_target_database(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_TARGET_DSN", "postgresql://a@db:5432/residency_scheduler")
    env.setenv("MAINT_HISTORY_DSN", "postgresql://b@db/residency_scheduler")
    with pytest.raises(ConfigError, match="MAINT_HISTORY_DSN"):
        load_settings()


def test_cache_must_not_be_the_broker(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_BROKER_URL", "redis://r:6379/0")
    env.setenv("MAINT_CACHE_URL", "redis://r:6379/0")
    with pytest.raises(ConfigError, match="MAINT_CACHE_URL"):
        load_settings()


def test_secrets_can_come_from_files(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "dsn"
    secret.write_text("postgresql://app:FromFile-Pw1@db:5432/residency_scheduler\n")
    env.setenv("MAINT_TARGET_DSN_FILE", str(secret))
    s = load_settings()
    assert (
        s.target_dsn.get_secret_value()
        == "postgresql://app:FromFile-Pw1@db:5432/residency_scheduler"
    )
    # the password is now known to the scrubber and never shown
    assert "FromFile-Pw1" not in redact.scrub("connecting with FromFile-Pw1")
    assert "FromFile-Pw1" not in repr(s)


def test_value_and_file_together_is_an_error(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("redis://x:6379/3")
    env.setenv("MAINT_CACHE_URL", "redis://x:6379/2")
    env.setenv("MAINT_CACHE_URL_FILE", str(tmp_path / "f"))
    with pytest.raises(ConfigError, match="MAINT_CACHE_URL_FILE"):
        load_settings()


def test_missing_secret_file_names_the_variable(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("MAINT_HISTORY_DSN_FILE", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="MAINT_HISTORY_DSN_FILE"):
        load_settings()


def test_a_bad_dsn_error_does_not_echo_its_password(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_TARGET_DSN", "mysql://app:Leaky-Pw-77@db/x")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "Leaky-Pw-77" not in str(info.value)


def test_configuration_doc_lists_every_setting_with_its_default() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`(MAINT_[A-Z0-9_]+)`", doc))
    expected = {f"MAINT_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from docs/configuration.md"
    unknown = (
        {v if v in expected else v.removesuffix("_FILE") for v in documented}
        - expected
        - {"MAINT_TEST_PG", "MAINT_TEST_REDIS"}
    )
    assert unknown == set(), "docs/configuration.md names settings that do not exist"
    for name in SECRET_FIELDS:
        assert f"MAINT_{name.upper()}_FILE" in doc


@pytest.mark.parametrize(
    ("var", "query_or_port", "says"),
    [
        ("MAINT_TARGET_DSN", ":5432/db?sslmode=bogus", r"sslmode 'bogus'.*verify-full"),
        ("MAINT_HISTORY_DSN", ":5432/db?sslmode=", r"sslmode ''"),
        ("MAINT_TARGET_DSN", ":5432/db?target_session_attrs=leader", "target_session_attrs"),
        ("MAINT_TARGET_DSN", ":5432/db?gssencmode=maybe", "gssencmode"),
        (
            "MAINT_TARGET_DSN",
            ":5432/db?connect_timeout=soon",
            r"connect_timeout 'soon'.*whole number",
        ),
        ("MAINT_TARGET_DSN", ":5432/db?keepalives_idle=-3", "keepalives_idle"),
        ("MAINT_TARGET_DSN", ":5432/db?bogusparam=1", r"unknown connection parameter 'bogusparam'"),
        ("MAINT_TARGET_DSN", ":abc/db", r"port 'abc' is not a port number"),
        ("MAINT_HISTORY_DSN", ":99999/db", r"port '99999' is not a port number"),
        ("MAINT_TARGET_DSN", ":0/db", r"port '0' is not a port number"),
    ],
)
def test_a_bad_dsn_part_is_a_configuration_error_naming_the_setting(
    env: pytest.MonkeyPatch, var: str, query_or_port: str, says: str
) -> None:
    """What libpq would only reject at connect time (and the suite then took for a
    database that did not answer, to be retried) fails at start, naming the variable."""
    value = f"postgresql://app:Dsn-Pw-31@db{query_or_port}"
    if var == "MAINT_HISTORY_DSN":
        value = value.replace("/db", "/maintenance")
    env.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert f"{var}: " in message
    assert re.search(says, message), message
    assert "Dsn-Pw-31" not in message
    assert "could not be cast" not in message.lower()


def test_a_good_dsn_with_options_is_accepted(env: pytest.MonkeyPatch) -> None:
    dsn = (
        "postgresql://app:pw@db:6432/residency_scheduler?sslmode=verify-full&connect_timeout=5"
        "&application_name=maint&target_session_attrs=read-write&keepalives=1"
    )
    env.setenv("MAINT_TARGET_DSN", dsn)
    assert load_settings().target_dsn.get_secret_value() == dsn


def test_a_dsn_libpq_cannot_parse_is_refused_without_echoing_it(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_TARGET_DSN", "postgresql://app:Pw%zz-Leak@db:5432/residency_scheduler")
    with pytest.raises(ConfigError, match=r"MAINT_TARGET_DSN: .*percent-encoding") as info:
        load_settings()
    assert "Leak" not in str(info.value)


def test_every_setting_says_what_it_does() -> None:
    """A setting without a description is one nobody can check against the code."""
    undescribed = sorted(n for n, f in Settings.model_fields.items() if not f.description)
    assert undescribed == []


#: Dotted names that look like a task's (``area.verb``) in a description or the doc.
_TASKISH = re.compile(r"\b((?:backup|restore|db|diag|history|logs|cache|health|window)\.[a-z_]+)\b")


def test_descriptions_name_only_tasks_that_exist() -> None:
    """A description that names a task which does not exist promises something stale (the
    reaper was once to be a beat task, ``history.reap``; the worker's own thread does it)."""
    from maintenance import catalog

    tasks = {s.name for s in catalog.SPECS}
    texts = {n: f.description or "" for n, f in Settings.model_fields.items()}
    texts["docs/configuration.md"] = (ROOT / "docs" / "configuration.md").read_text()
    named = {
        (where, m)
        for where, text in texts.items()
        for m in _TASKISH.findall(text)
        if m.rsplit(".", 1)[1] not in {"md", "py", "yml"}
    }
    assert {m for _, m in named} & tasks, "the pattern finds the task names used"
    assert sorted((w, m) for w, m in named if m not in tasks) == []


def _function(method: object) -> object:
    return getattr(method, "__func__", method)  # a classmethod is bound to its class


def test_the_composed_settings_keep_every_sections_validators() -> None:
    """Sections are mixins: a validator named like one of another section's would silently
    replace it in Settings (two ``_absolute`` once left MAINT_BACKUP_ROOT unchecked)."""
    composed = Settings.__pydantic_decorators__
    for section in SECTIONS:
        own = section.__pydantic_decorators__
        for name, dec in own.field_validators.items():
            assert _function(composed.field_validators[name].func) is _function(dec.func), (
                f"{section.__name__}.{name} is replaced in Settings"
            )
            assert composed.field_validators[name].info.fields == dec.info.fields
        for name, mdec in own.model_validators.items():
            assert _function(composed.model_validators[name].func) is _function(mdec.func), (
                f"{section.__name__}.{name} is replaced in Settings"
            )


def test_every_setting_belongs_to_one_section_in_the_order_of_the_doc() -> None:
    seen: list[str] = []
    for section in SECTIONS:
        assert section.TITLE, f"{section.__name__} has no TITLE"
        assert issubclass(Settings, section)
        seen += list(section.model_fields)
    assert seen == list(Settings.model_fields)  # each once, and nothing outside a section


def _doc_tables() -> dict[str, list[str]]:
    """Heading -> the MAINT_ names of its table's rows, in docs/configuration.md."""
    out: dict[str, list[str]] = {}
    heading = None
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        match = re.match(r"^\| `(MAINT_[A-Z0-9_]+)` \|", line)
        if match and heading is not None:
            out.setdefault(heading, []).append(match.group(1))
    return out


def test_the_doc_has_a_table_per_section_in_field_order() -> None:
    tables = _doc_tables()
    for section in SECTIONS:
        expected = [f"MAINT_{name.upper()}" for name in section.model_fields]
        assert tables.get(section.TITLE) == expected, f"docs/configuration.md: {section.TITLE}"
    assert set(tables) == {s.TITLE for s in SECTIONS}, "a table under no section's heading"


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("MAINT_BACKUP_ROOT", "relative/backups", "must be an absolute path"),
        ("MAINT_LOG_ROOT", "logs", "must be an absolute path"),
        ("MAINT_PG_BIN_DIR", "bin", "must be an absolute path"),
        ("MAINT_OFFSITE_ROOT", "offsite", "must be an absolute path"),
        ("MAINT_OFFSITE_KEY_FILE", "key", "must be an absolute path"),
        ("MAINT_BACKUP_MIN_BYTES", '{"daily": 1}', "needs exactly the tiers"),
        ("MAINT_RETENTION_DAYS", '{"daily": 1}', "needs exactly the tiers"),
        ("MAINT_RESTORE_TARGETS", '["Bad-Name"]', "is not a plain database name"),
        ("MAINT_RESTORE_STOP_APP_CMD", "[]", "must be a JSON list of arguments"),
        ("MAINT_TIME_LIMITS", '{"backup.create": [5, 2]}', "need 0 < soft < hard"),
        ("MAINT_BACKUP_EXPECTED_TABLES", '["a.b.c"]', "is not a table name"),
    ],
)
def test_each_sections_checks_still_apply(
    env: pytest.MonkeyPatch, var: str, value: str, says: str
) -> None:
    env.setenv(var, value)
    with pytest.raises(ConfigError, match=f"{var}: .*{says}"):
        load_settings()


def test_offsite_root_inside_the_backup_root_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAINT_BACKUP_ROOT", "/srv/backups")
    env.setenv("MAINT_OFFSITE_ROOT", "/srv/backups/offsite")
    with pytest.raises(ConfigError, match="MAINT_OFFSITE_ROOT must be outside MAINT_BACKUP_ROOT"):
        load_settings()
