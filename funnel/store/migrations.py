"""Numbered, append-only SQL migrations: which files exist, which ones a database still needs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_FILE_NAME = re.compile(r"(?P<version>\d{4})_(?P<slug>[a-z0-9_]+)\.sql")


class MigrationError(Exception):
    """The migration files or the applied history are inconsistent; start-up must stop."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path) -> list[Migration]:
    """Every migration file in order; a malformed name, a duplicate or a gap is an error."""
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} does not exist")
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name} is not named NNNN_slug.sql")
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                f"migration number {version:04d} is used twice: "
                f"{found[version].name} and {path.name}"
            )
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    migrations = [found[v] for v in sorted(found)]
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {expected:04d} is missing: {migration.name} follows "
                f"{migrations[expected - 2].name if expected > 1 else 'nothing'}"
            )
    return migrations


def pending(available: list[Migration], applied: Mapping[int, str]) -> list[Migration]:
    """The migrations still to apply, after checking that the applied ones are untouched."""
    by_version = {m.version: m for m in available}
    for version, checksum in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d} applied, but no such file exists"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.name} was edited after it was applied; "
                "add a new migration instead"
            )
    return [m for m in available if m.version not in applied]
