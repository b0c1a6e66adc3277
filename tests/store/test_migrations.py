"""The migrations runner: fresh database, re-run, edited file, gaps, duplicates, atomicity."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.database import migrations_dir
from funnel.clock import ManualClock
from funnel.store.migrations import MigrationError, discover
from funnel.store.sqlite import SqliteStore


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    return folder


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def history(path: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT * FROM schema_migrations ORDER BY version").fetchall()


async def migrate(db: Path, folder: Path, clock: ManualClock) -> list[str]:
    store = await SqliteStore.open(f"sqlite:///{db}", clock)
    try:
        return [m.name for m in await store.migrate(discover(folder))]
    finally:
        await store.close()


async def test_a_fresh_database_gets_every_migration(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "fresh.sqlite3"

    applied = await migrate(db, folder, clock)

    assert applied == sorted(p.name for p in folder.glob("*.sql"))
    assert {"customers", "customer_keys", "events", "schema_migrations"} <= tables(db)


async def test_a_second_run_changes_nothing(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "again.sqlite3"
    await migrate(db, folder, clock)
    before = history(db)
    clock.advance(timedelta(days=1))

    assert await migrate(db, folder, clock) == []
    assert history(db) == before
    assert len(before) == len(list(folder.glob("*.sql")))


async def test_an_edited_applied_file_is_refused(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "edited.sqlite3"
    await migrate(db, folder, clock)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- a harmless-looking edit\n")

    with pytest.raises(MigrationError, match=f"{first.name} was edited after it was applied"):
        await migrate(db, folder, clock)


def next_number(folder: Path) -> int:
    return len(list(folder.glob("*.sql"))) + 1


async def test_a_gap_in_the_numbering_is_refused(folder: Path) -> None:
    missing = next_number(folder)
    (folder / f"{missing + 1:04d}_later.sql").write_text("CREATE TABLE later (id INTEGER);\n")

    with pytest.raises(MigrationError, match=f"migration {missing:04d} is missing"):
        discover(folder)


async def test_a_duplicated_number_is_refused(folder: Path) -> None:
    (folder / "0001_again.sql").write_text("CREATE TABLE again (id INTEGER);\n")

    with pytest.raises(MigrationError, match="0001 is used twice"):
        discover(folder)


async def test_a_badly_named_file_is_refused(folder: Path) -> None:
    (folder / "2_new_table.sql").write_text("CREATE TABLE t (id INTEGER);\n")

    with pytest.raises(MigrationError, match=r"is not named NNNN_slug\.sql"):
        discover(folder)


async def test_an_applied_migration_whose_file_is_gone_is_refused(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "gone.sqlite3"
    extra = folder / f"{next_number(folder):04d}_extra.sql"
    extra.write_text("CREATE TABLE extra (id INTEGER);\n")
    await migrate(db, folder, clock)
    extra.unlink()

    with pytest.raises(MigrationError, match=f"{extra.name[:4]} applied, but no such file exists"):
        await migrate(db, folder, clock)


async def test_a_failing_migration_leaves_nothing_behind(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "atomic.sqlite3"
    await migrate(db, folder, clock)
    applied = next_number(folder) - 1
    broken = folder / f"{applied + 1:04d}_half_done.sql"
    broken.write_text(
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )

    with pytest.raises(MigrationError, match=rf"{broken.stem}\.sql failed"):
        await migrate(db, folder, clock)

    assert "half_done" not in tables(db)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT max(version) FROM schema_migrations").fetchone() == (
            applied,
        )


async def test_every_prefix_of_the_history_applies_on_a_fresh_database(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    """The stairway: migrations 1..k, for every k, apply cleanly and then accept the rest."""
    files = sorted(folder.glob("*.sql"))
    for k in range(1, len(files) + 1):
        partial = tmp_path / f"stair-{k}"
        partial.mkdir()
        for path in files[:k]:
            shutil.copy(path, partial)
        db = tmp_path / f"stair-{k}.sqlite3"
        assert len(await migrate(db, partial, clock)) == k
        assert len(await migrate(db, folder, clock)) == len(files) - k


async def test_triggers_spanning_lines_are_applied_whole(
    tmp_path: Path, folder: Path, clock: ManualClock
) -> None:
    db = tmp_path / "trigger.sqlite3"
    await migrate(db, folder, clock)
    with sqlite3.connect(db) as connection:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
    assert {"events_are_not_updated", "events_are_not_deleted"} <= {t[0] for t in triggers}
