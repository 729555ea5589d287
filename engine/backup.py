"""Backup and restore of the whole database (R4.3.5: the library is backed up against loss).

`backup` writes a consistent snapshot while the app keeps running: on SQLite through sqlite3's
online backup API (pages copied under the database's own locking), elsewhere as a logical JSON
export of every table read in one REPEATABLE READ transaction. `restore` copies a snapshot's rows
into an empty, migrated database, table by table in foreign-key order, so it works across
SQLite and PostgreSQL alike (times are restored as UTC whichever side stored them naive).

A snapshot is written into a hidden folder beside DEST and renamed to DEST only when complete: a
backup that fails or is killed half-way leaves nothing that `restore` would take for a snapshot.
"""

import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Date, DateTime, Integer, Numeric, create_engine, func, insert, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from .errors import EngineError
from .models import Base

# The departments the app creates itself (`ensure_groups`): a database otherwise empty may hold
# them, and the snapshot's take their place.
_REFERENCE = frozenset({"groups"})
FILES = "files"  # uploaded documents, content-addressed: copied as they are
SQLITE_FILE = "database.sqlite3"
JSON_FILE = "database.json"


class BackupError(EngineError):
    """The destination is not usable, the snapshot is missing, or the target is not empty."""


@dataclass
class BackupInfo:
    path: Path
    format: str  # sqlite | json
    rows: dict  # table -> rows in the snapshot


def _tables():
    return list(Base.metadata.sorted_tables)


def _count(connection) -> dict:
    return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in _tables()}


def backup_database(bind, dest, files_dir=None) -> BackupInfo:
    """Write a snapshot of the database behind `bind` (an SQLAlchemy Engine) into folder `dest`,
    which must be empty or new, and copy the uploaded files in `files_dir`. Returns BackupInfo.
    Raises BackupError.

    The database first, then the files: an upload's file is written before its row commits and
    never changes, so every file a snapshot's rows name is already there when it is copied.
    """
    dest = Path(dest)
    try:
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise BackupError(f"{dest} is not an empty folder")
    except OSError as error:  # a folder on the way that may not be entered
        raise BackupError(f"cannot write to {dest}: {error.strerror}") from None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    except OSError as error:
        raise BackupError(f"cannot write to {dest.parent}: {error}") from error
    try:
        info = _backup_rows(bind, partial)
        if files_dir is not None and Path(files_dir).is_dir():
            # Files still being written are named tmp* (engine.uploads writes, then renames).
            shutil.copytree(files_dir, partial / FILES, ignore=shutil.ignore_patterns("tmp*"))
        if dest.exists():
            dest.rmdir()  # empty, checked above; os.replace will not move onto a folder
        os.replace(partial, dest)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, OSError):
            raise BackupError(f"backup to {dest} failed: {error}") from error
        raise
    info.path = dest
    return info


def _backup_rows(bind, dest) -> BackupInfo:
    if bind.dialect.name == "sqlite":
        raw = bind.raw_connection()
        try:
            target = sqlite3.connect(dest / SQLITE_FILE)
            try:
                # All pages in one step (pages=-1): one read transaction, so one moment, and a
                # writer in another process never restarts it.
                raw.driver_connection.backup(target)
                # The copy carries the source's WAL mode; a rollback journal makes it one
                # self-contained file that can be read where it cannot be written to.
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            raw.close()
        snapshot = create_engine(f"sqlite:///{dest / SQLITE_FILE}")
        with snapshot.connect() as connection:
            rows = _count(connection)
        snapshot.dispose()
        return BackupInfo(dest, "sqlite", rows)
    # Every table read in one REPEATABLE READ transaction: one snapshot of the database, however
    # many steps commit meanwhile (table by table in autocommit, a step committing between two
    # reads would leave its events without its instance row, or the reverse).
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with bind.connect().execution_options(**options) as connection:
        export = {t.name: [dict(r._mapping) for r in connection.execute(select(t))] for t in _tables()}
    (dest / JSON_FILE).write_text(json.dumps(export, default=_encode, ensure_ascii=False), encoding="utf-8")
    return BackupInfo(dest, "json", {name: len(rows) for name, rows in export.items()})


def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def _utc(column, value):
    """Times with a zone as aware UTC: SQLite hands them back naive (they were stored as UTC),
    and a naive value written to PostgreSQL would be read in the server's time zone."""
    if value is None or not (isinstance(column.type, DateTime) and column.type.timezone):
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decode(table, row: dict) -> dict:
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, DateTime):
            out[column.name] = _utc(column, datetime.fromisoformat(value))
        elif isinstance(column.type, Date):
            out[column.name] = date.fromisoformat(value)
        elif isinstance(column.type, Numeric):
            out[column.name] = Decimal(value)
    return out


def _snapshot_rows(src: Path) -> dict:
    if (src / SQLITE_FILE).exists():
        # Read-only: the snapshot is never changed by restoring from it.
        snapshot = create_engine(f"sqlite:///file:{src / SQLITE_FILE}?mode=ro&uri=true")
        try:
            with snapshot.connect() as connection:
                return {
                    t.name: [
                        {c.name: _utc(c, row[c.name]) for c in t.columns}
                        for row in connection.execute(select(t)).mappings()
                    ]
                    for t in _tables()
                }
        except DBAPIError as error:  # the snapshot's own file: not one, or of another version
            raise BackupError(
                f"{src / SQLITE_FILE} cannot be read as a snapshot of this version: {error.orig}"
            ) from None
        finally:
            snapshot.dispose()
    if (src / JSON_FILE).exists():
        return _json_rows(src / JSON_FILE)
    raise BackupError(f"no snapshot in {src}")


def _json_rows(path: Path) -> dict:
    # Read whole before anything is written: a file cut short (a copy that stopped, a full
    # disk) or one that is not an export gives one line naming it, not a traceback.
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        raise BackupError(f"{path} is not a whole JSON snapshot (cut short?): {error}") from None
    if not isinstance(export, dict) or not all(
        isinstance(rows, list) and all(isinstance(row, dict) for row in rows) for rows in export.values()
    ):
        raise BackupError(f"{path} is no snapshot: it must hold an object of tables, each a list of rows")
    _require_known(path, export)
    try:
        return {t.name: [_decode(t, row) for row in export.get(t.name, [])] for t in _tables()}
    except (TypeError, ValueError, ArithmeticError) as error:  # a time or amount that does not read
        raise BackupError(f"{path} holds a value that cannot be restored: {error}") from None


def _require_known(path, export: dict):
    """Raise BackupError naming a table or column of the snapshot this schema has not: restoring
    without it would drop its values silently (a snapshot of a newer version, an edited file)."""
    tables = {t.name: t for t in _tables()}
    unknown = sorted(set(export) - set(tables))
    if unknown:
        raise BackupError(f"{path} holds tables this database has not: {', '.join(unknown)}")
    for name, rows in export.items():
        columns = set(tables[name].columns.keys())
        extra = sorted({key for row in rows for key in row} - columns)
        if extra:
            raise BackupError(
                f"{path} holds columns this database has not in table {name}: {', '.join(extra)}"
            )


def restore_database(bind, src, files_dir=None) -> dict:
    """Copy a snapshot's rows into the database behind `bind`, which must be migrated and hold
    no rows at all, and its files into `files_dir`. Returns {table: rows restored}. Raises
    BackupError; writes nothing to the database on error."""
    rows = _snapshot_rows(Path(src))
    files = Path(src) / FILES
    if files_dir is not None and files.is_dir() and Path(files_dir).exists() and not Path(files_dir).is_dir():
        raise BackupError(f"the uploads folder {files_dir} is not a folder: nothing restored")
    with bind.begin() as connection:
        _require_empty(connection)
        _insert_rows(connection, src, rows)
        if bind.dialect.name == "postgresql":
            _move_sequences(connection)
        if files_dir is not None and files.is_dir():
            # Before the rows commit: files that cannot be copied leave no rows that name them.
            try:
                shutil.copytree(files, files_dir, dirs_exist_ok=True)
            except (OSError, shutil.Error) as error:
                raise BackupError(f"the snapshot's files cannot be copied to {files_dir}: {error}") from None
    return {name: len(value) for name, value in rows.items()}


def _require_empty(connection):
    held = [name for name, count in _count(connection).items() if count and name not in _REFERENCE]
    if held:
        # Users, deployed versions, plans: a restore would put the snapshot's in their place.
        raise BackupError(
            f"the target database is not empty (it holds {', '.join(held)}): "
            "restore needs a database just migrated (upgradeflow db upgrade)"
        )


def _insert_rows(connection, src, rows: dict):
    for table in _tables():
        if table.name in _REFERENCE:
            connection.execute(table.delete())
    try:
        for table in _tables():
            if rows[table.name]:
                connection.execute(insert(table), rows[table.name])
    except (IntegrityError, DataError) as error:  # the snapshot's rows, not the database
        problem = str(error.orig).strip().splitlines()[0]
        raise BackupError(f"{src}: the snapshot holds rows this database refuses ({problem})") from None


def _move_sequences(connection):
    for table in _tables():
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, Integer):
            key = keys[0].name  # a serial column: move its sequence past the rows restored
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "
                    f"COALESCE((SELECT MAX({key}) FROM {table.name}), 0) + 1, false)"
                )
            )
