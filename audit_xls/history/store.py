"""The grading history: every `grade` run recorded in a SQLite file, read back for `monthly`.

Schema and rules: docs/history.md. In short:
- one row per returned workbook (graded or sent back), its criteria, section scores and
  diagnostics, plus the issued register (for 回收情况);
- decimals are stored as TEXT holding the scorer's exact Decimal ("87.50", "0.9"), never REAL;
- a file already recorded (same file_hash + workbook_id) is not recorded again, except that a
  file recorded only as sent back and now graded is recorded graded (the sent-back row is then
  superseded by it);
- a newer graded result for the same site_code + period + standard_id supersedes the earlier
  one (kept, with superseded = 1); sent-back files never supersede;
- one batch is one transaction: an interrupted run leaves the history as it was;
- readers (load_history, monthly) open the file read-only and never create or migrate it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit_xls.atomic import link_new, new_file_beside
from audit_xls.gcpause import cycles_not_collected
from audit_xls.history import DEFAULT_HISTORY_NAME, HISTORY_ENV, backend
from audit_xls.history.backend import (
    SQLITE,
    Connection,
    Dialect,
    HistoryError,
    database_errors,
    is_url,
    location_of,
    open_read,
    open_write,
    shown,
)
from audit_xls.i18n import Ref, t
from audit_xls.model.codes import Result, Severity
from audit_xls.model.diagnostics import Diagnostic, params_from_json, params_to_json
from audit_xls.model.period import Period
from audit_xls.model.results import GRADED, SENT_BACK, BatchResult, WorkbookResult
from audit_xls.model.standard import Standard
from audit_xls.rectify import ledger

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["HistoryError", "is_url", "load_history", "record_batch"]


def default_history_path() -> Path | str:
    """$AUDIT_XLS_HISTORY when set (a SQLite path or a postgresql:// URL), else
    ./audit-xls-history.sqlite in the current folder."""
    return location_of(os.environ.get(HISTORY_ENV) or DEFAULT_HISTORY_NAME)


# --- schema -----------------------------------------------------------------------------

# Each entry moves the schema from version i to i + 1; never edit a shipped entry, append.
# An entry is one portable script (backend.Dialect.ddl adapts it to PostgreSQL: identity, a
# rowid column) or, where the databases need different statements, {"sqlite": ..,
# "postgresql": ..}. Write DML naming its columns (PostgreSQL tables have rowid too).
MIGRATIONS: tuple[str | dict[str, str], ...] = (
    """
    CREATE TABLE workbooks (
        id INTEGER PRIMARY KEY,
        workbook_id TEXT NOT NULL,
        file TEXT NOT NULL,
        file_hash TEXT NOT NULL,
        site_code TEXT NOT NULL,
        site_name TEXT NOT NULL,
        region TEXT NOT NULL,
        period TEXT NOT NULL,
        standard_id TEXT NOT NULL,
        standard_version TEXT NOT NULL,
        standard_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('graded', 'sent_back')),
        score TEXT,
        max_score TEXT,
        percent TEXT,
        grade TEXT,
        inspector TEXT NOT NULL,
        inspection_date TEXT,
        graded_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        superseded INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1)),
        superseded_by INTEGER REFERENCES workbooks(id),
        UNIQUE (file_hash, workbook_id)
    );
    CREATE INDEX workbooks_current ON workbooks (site_code, period, standard_id, status);
    CREATE TABLE criteria (
        workbook INTEGER NOT NULL REFERENCES workbooks(id),
        code TEXT NOT NULL,
        section_code TEXT NOT NULL,
        text TEXT NOT NULL,
        result TEXT,
        problem_points INTEGER NOT NULL,
        deduction TEXT NOT NULL,
        note TEXT NOT NULL,
        PRIMARY KEY (workbook, code)
    );
    CREATE TABLE sections (
        workbook INTEGER NOT NULL REFERENCES workbooks(id),
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        points TEXT NOT NULL,
        deducted TEXT NOT NULL,
        score TEXT NOT NULL,
        applicable INTEGER NOT NULL,
        vetoed INTEGER NOT NULL,
        PRIMARY KEY (workbook, code)
    );
    CREATE TABLE diagnostics (
        workbook INTEGER NOT NULL REFERENCES workbooks(id),
        severity TEXT NOT NULL,
        code TEXT NOT NULL,
        sheet TEXT NOT NULL,
        cell TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX diagnostics_workbook ON diagnostics (workbook);
    CREATE TABLE issued (
        workbook_id TEXT PRIMARY KEY,
        site_code TEXT NOT NULL,
        site_name TEXT NOT NULL,
        region TEXT NOT NULL,
        period TEXT NOT NULL,
        standard_id TEXT NOT NULL,
        standard_version TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    """,
    # 2: a file may have one sent-back and one graded row (sent back against a wrong register,
    # graded unchanged later). SQLite cannot drop a constraint: rebuild the table;
    # PostgreSQL swaps the constraint.
    {
        "sqlite": """
        CREATE TABLE workbooks_v2 (
            id INTEGER PRIMARY KEY,
            workbook_id TEXT NOT NULL,
            file TEXT NOT NULL,
            file_hash TEXT NOT NULL,
            site_code TEXT NOT NULL,
            site_name TEXT NOT NULL,
            region TEXT NOT NULL,
            period TEXT NOT NULL,
            standard_id TEXT NOT NULL,
            standard_version TEXT NOT NULL,
            standard_hash TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('graded', 'sent_back')),
            score TEXT,
            max_score TEXT,
            percent TEXT,
            grade TEXT,
            inspector TEXT NOT NULL,
            inspection_date TEXT,
            graded_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            superseded INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1)),
            superseded_by INTEGER REFERENCES workbooks(id),
            UNIQUE (file_hash, workbook_id, status)
        );
        INSERT INTO workbooks_v2 SELECT * FROM workbooks;
        DROP TABLE workbooks;
        ALTER TABLE workbooks_v2 RENAME TO workbooks;
        CREATE INDEX workbooks_current ON workbooks (site_code, period, standard_id, status);
        """,
        "postgresql": """
        ALTER TABLE workbooks DROP CONSTRAINT workbooks_file_hash_workbook_id_key;
        ALTER TABLE workbooks ADD CONSTRAINT workbooks_file_hash_workbook_id_status_key
            UNIQUE (file_hash, workbook_id, status);
        """,
    },
    # 3: the rectification ledger (problems, their events, notices, replies): rectify/ledger.py
    ledger.MIGRATION,
    # 4: a diagnostic's parameters (JSON), so a stored problem is worded in either language;
    # rows recorded before keep only their message (NULL params)
    "ALTER TABLE diagnostics ADD COLUMN params TEXT",
    # 5: the file's modified time (ISO, local, no zone), so that of two copies of a site's
    # month the newer counts whichever is recorded first; rows recorded before: NULL (unknown,
    # older than any known time)
    "ALTER TABLE workbooks ADD COLUMN modified TEXT",
    # 6: photo evidence: each kept picture of a graded return, by hash and path (never bytes)
    """
    CREATE TABLE photos (
        workbook INTEGER NOT NULL REFERENCES workbooks(id),
        seq INTEGER NOT NULL,
        criterion TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        ext TEXT NOT NULL,
        cell TEXT NOT NULL,
        how TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (workbook, seq)
    );
    """,
    # 7: the sites' after-photos, kept by `rectify collect` from a reply's 整改照片 column:
    # hashes and paths (never bytes), tied to the reply and the problem
    """
    CREATE TABLE reply_photos (
        reply INTEGER NOT NULL REFERENCES replies(id),
        seq INTEGER NOT NULL,
        problem TEXT NOT NULL REFERENCES problems(id),
        sha256 TEXT NOT NULL,
        ext TEXT NOT NULL,
        cell TEXT NOT NULL,
        how TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (reply, seq)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
# Python steps run right after a script, in the same transaction: version -> step.
BACKFILLS = {3: ledger.backfill}


# --- SQLite failures: located and true --------------------------------------------------


def _failure(location: str | Path, exc: BaseException, waited: float | None = None) -> Exception:
    """The true, located HistoryError for a SQLite failure on the history at `location`;
    anything else (a PostgreSQL driver error) is returned as it is."""
    if not isinstance(exc, sqlite3.Error) or is_url(location):
        return exc  # type: ignore[return-value]
    path = Path(location)
    name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+; the text below for 3.10
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        seconds = backend.lock_timeout(backend.SQLITE) if waited is None else waited
        return HistoryError.of("history.locked", path=path, waited=f"{seconds:.1f}")
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return HistoryError.of("history.damaged", path=path, detail=exc)
    if name.startswith("SQLITE_NOTADB") or "not a database" in text:
        return HistoryError.of("history.not_history", path=path, why=exc)
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return _read_only(path) or HistoryError.of("history.read_only", path=path)
    if name.startswith("SQLITE_FULL") or "full" in text:
        return HistoryError.of("history.disk_full", path=path)
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return _read_only(path) or HistoryError.of("history.cannot_open", path=path, error=exc)
    return HistoryError.of("history.cannot_open", path=path, error=exc)


def _read_only(location: str | Path) -> HistoryError | None:
    """The SQLite file or its folder cannot be written (SQLite writes a journal beside the
    file), as far as the operating system says (os.access: the read-only attribute on Windows,
    permissions on POSIX, the immutable flag for root; otherwise SQLite's own error is the
    word). None for a PostgreSQL URL."""
    if is_url(location):
        return None
    path = Path(location)
    if path.is_dir():
        return HistoryError.of("history.is_folder", path=path)
    if path.exists() and not os.access(path, os.W_OK):
        return HistoryError.of("history.read_only", path=path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        return HistoryError.of("history.folder_read_only", path=path, folder=folder)
    return None


def _quick_check(conn: Connection) -> None:
    """Refuse to go on with a damaged SQLite file: PRAGMA quick_check (b-trees, pages, records;
    linear in the file's size) before anything is written."""
    if conn.dialect is not SQLITE:
        return
    try:
        rows = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.Error as exc:
        raise _failure(conn.location, exc) from exc
    if rows != ["ok"]:
        lines = [line for row in rows for line in str(row).splitlines() if "***" not in line]
        raise HistoryError.of("history.damaged", path=conn.location, detail="; ".join(lines)[:200])


def _begin_write(conn: Connection) -> None:
    """The writers' lock, taken at once (SQLite: BEGIN IMMEDIATE, waiting up to
    backend.lock_timeout() for another writer); a lock held longer is a located message saying
    how long it waited."""
    started = time.monotonic()
    try:
        conn.begin_write()
    except sqlite3.Error as exc:
        raise _failure(conn.location, exc, time.monotonic() - started) from exc


def migration_script(number: int, dialect: Dialect) -> str:
    """The text of MIGRATIONS[number] for `dialect`."""
    entry = MIGRATIONS[number]
    return entry if isinstance(entry, str) else entry[dialect.name]


def _newer(conn: Connection, version: int) -> HistoryError:
    return HistoryError.of(
        "history.newer", path=conn.shown, version=version, supported=SCHEMA_VERSION
    )


def _migrate(conn: Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, each step in the writers' lock, so that two
    programs opening a new or old history at once migrate it once."""
    version = conn.schema_version()
    if version > SCHEMA_VERSION:
        raise _newer(conn, version)
    if version == SCHEMA_VERSION:
        return
    _begin_write(conn)
    try:
        version = conn.schema_version()  # another program may have migrated it meanwhile
        if version > SCHEMA_VERSION:
            raise _newer(conn, version)
        if version == 0 and conn.columns():
            # An existing database of something else: never add our tables to it.
            raise HistoryError.of(
                "history.not_history", path=conn.shown, why=Ref.to("history.other_tables")
            )
        if 0 < version < SCHEMA_VERSION:
            _quick_check(conn)  # never migrate a damaged file
        if version < SCHEMA_VERSION:
            for number in range(version, SCHEMA_VERSION):
                conn.run_script(migration_script(number, conn.dialect))
                if number + 1 in BACKFILLS:
                    BACKFILLS[number + 1](conn, datetime.now().isoformat(timespec="seconds"))
            conn.set_schema_version(SCHEMA_VERSION)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def check_writable(location: str | Path) -> None:
    """HistoryError now, before a long grade, when `location` cannot take this run's record: a
    database of something else, one newer than this program, a file that is no database, or a
    PostgreSQL server that cannot be reached or refuses us; for SQLite also a folder, a
    read-only file or folder, a damaged file (quick_check) or one locked by another process
    for longer than backend.lock_timeout(); a bad $AUDIT_XLS_LOCK_TIMEOUT."""
    location = location_of(location)
    backend.lock_timeout(backend.SQLITE if isinstance(location, Path) else backend.POSTGRESQL)
    problem = _read_only(location)
    if problem is not None:
        raise problem
    if isinstance(location, Path) and not location.exists():
        return  # created on first use, folder included
    try:
        with open_read(location, missing="") as conn:
            version = conn.schema_version()
            tables = conn.columns()
            if version > SCHEMA_VERSION:
                raise HistoryError.of(
                    "history.newer", path=shown(location), version=version, supported=SCHEMA_VERSION
                )
            if version == 0 and tables:
                raise HistoryError.of(
                    "history.not_history", path=shown(location), why=Ref.to("history.other_tables")
                )
            _quick_check(conn)
    except sqlite3.Error as exc:
        raise _failure(location, exc) from exc
    except database_errors() as exc:
        raise HistoryError.of("history.not_history", path=shown(location), why=exc) from exc


def _create_sqlite(path: Path) -> None:
    """A new SQLite history is made whole beside `path`, then put there in one step (unless
    another program's is there by then): a grade killed while making it leaves no file that
    is not yet a history at `path` (tests/test_kill.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = new_file_beside(path)  # an empty file: SQLite makes a database of it
    try:
        with open_write(temp) as conn:
            _migrate(conn)
        link_new(temp, path)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def _connect(location: str | Path) -> Iterator[Connection]:
    """The writer's connection: creates the SQLite file on first use; migrates the schema."""
    problem = _read_only(location)
    if problem is not None:
        raise problem
    with ExitStack() as stack:
        try:
            if not is_url(location) and not Path(location).exists():
                _create_sqlite(Path(location))
            conn = stack.enter_context(open_write(location))
        except OSError as exc:  # the folder could not be made
            raise HistoryError.of("history.cannot_open", path=location, error=exc) from exc
        except sqlite3.Error as exc:
            raise _failure(location, exc) from exc
        try:
            # Before foreign_keys = ON: a table rebuild must not check references midway.
            _migrate(conn)
            if conn.dialect is SQLITE:
                conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise _failure(location, exc) from exc
        except database_errors() as exc:
            raise HistoryError.of("history.unreadable", path=conn.shown, error=exc) from exc
        yield conn


# The rectification ledger came with version 3: an older history is read without it (empty).
LEDGER_VERSION = 3


@cache
def expected_columns(version: int = SCHEMA_VERSION) -> dict[str, tuple[str, ...]]:
    """Tables and columns of the current schema (in order), as the readers expect them (of
    the base schema only for a history older than the ledger, and of its own version for an
    older one: a history without the photos table is read as having no photos)."""
    conn = sqlite3.connect(":memory:")
    try:
        upto = min(SCHEMA_VERSION, max(version, LEDGER_VERSION - 1))
        for number in range(upto):
            conn.executescript(migration_script(number, SQLITE))
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        conn.close()


def _check_readable(conn: Connection) -> None:
    version = conn.schema_version()
    if version > SCHEMA_VERSION:
        raise _newer(conn, version)
    found = conn.columns()
    lacking = [
        t
        for t, columns in expected_columns(version).items()
        if not set(columns) <= found.get(t, set())
    ]
    if version == 0 or (lacking and version == SCHEMA_VERSION):
        why = (
            Ref.to("history.no_version")
            if version == 0
            else Ref.to("history.lacking", tables=lacking)
        )
        raise HistoryError.of("history.not_history", path=conn.shown, why=why)
    if lacking:
        raise HistoryError.of(
            "history.older", path=conn.shown, version=version, supported=SCHEMA_VERSION
        )


@contextmanager
def _connect_read(location: str | Path) -> Iterator[Connection]:
    """The readers' connection: read-only, never creates, migrates or writes; its queries
    run in one read transaction (one snapshot of whole batches)."""
    location = location_of(location)
    missing = HistoryError.of("history.not_yet", path=location)
    with open_read(location, missing) as conn:
        try:
            _check_readable(conn)
        except sqlite3.Error as exc:
            raise _failure(location, exc) from exc
        except database_errors() as exc:
            raise HistoryError.of("history.not_history", path=conn.shown, why=exc) from exc
        conn.begin_read()
        try:
            yield conn
        finally:
            conn.rollback()


@contextmanager
def transaction(path: str | Path) -> Iterator[Connection]:
    """One writer transaction on the history (created and migrated on first use), committed
    when the block ends and rolled back on any exception: for the rectification commands
    (rectify/notices.py, rectify/collect.py), which write like record_batch does."""
    with _connect(location_of(path)) as conn:
        _begin_write(conn)  # a located message when another writer holds the lock too long
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


@contextmanager
def read_connection(path: str | Path) -> Iterator[Connection]:
    """The readers' connection (read-only, never created or migrated), for the ledger's
    readers; `has_ledger` says whether the history is old enough to lack the ledger."""
    with _connect_read(path) as conn:
        yield conn


def has_ledger(conn: Connection) -> bool:
    return conn.schema_version() >= LEDGER_VERSION


# --- recording --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordSummary:
    """What one record_batch call changed in the history."""

    path: Path | str  # a SQLite path or a PostgreSQL URL
    recorded_graded: int  # new graded rows
    recorded_sent_back: int  # new sent-back rows
    already_recorded: int  # files skipped because the same file_hash + workbook_id is there
    superseded: int  # earlier graded rows marked superseded by this batch
    issued_added: int  # issued-register rows new to the history
    regraded: int = 0  # of recorded_graded: files recorded sent back before, now graded

    @property
    def recorded(self) -> int:
        return self.recorded_graded + self.recorded_sent_back

    def message(self, lang: str = "zh") -> str:
        return t(
            "history.recorded_regraded" if self.regraded else "history.recorded",
            lang,
            path=shown(self.path),
            recorded=self.recorded,
            graded=self.recorded_graded,
            sent_back=self.recorded_sent_back,
            already=self.already_recorded,
            superseded=self.superseded,
            regraded=self.regraded,
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _section_codes(standard: Standard) -> dict[str, tuple[str, str]]:
    return {c.code: (s.code, c.text) for s in standard.sections for c in s.criteria}


def _batch_order(batch: BatchResult) -> list[WorkbookResult]:
    """Older first, so that the newer of two results for a site and month supersedes."""
    floor = datetime.min

    def key(w: WorkbookResult) -> tuple[int, datetime]:
        modified = w.modified.replace(tzinfo=None) if w.modified else floor
        return (0 if w.duplicate_of else 1, modified)

    return sorted(batch.workbooks, key=key)


WORKBOOK_COLUMNS = (
    "id",
    "workbook_id",
    "file",
    "file_hash",
    "site_code",
    "site_name",
    "region",
    "period",
    "standard_id",
    "standard_version",
    "standard_hash",
    "status",
    "score",
    "max_score",
    "percent",
    "grade",
    "inspector",
    "inspection_date",
    "graded_at",
    "recorded_at",
    "modified",
)
MODIFIED_SCHEMA = 5  # the schema version that added workbooks.modified
CRITERIA_COLUMNS = (
    "workbook",
    "code",
    "section_code",
    "text",
    "result",
    "problem_points",
    "deduction",
    "note",
)
SECTION_COLUMNS = (
    "workbook",
    "code",
    "name",
    "points",
    "deducted",
    "score",
    "applicable",
    "vetoed",
)
DIAGNOSTIC_COLUMNS = ("workbook", "severity", "code", "sheet", "cell", "message", "params")
PARAMS_SCHEMA = 4  # the schema version that added diagnostics.params


def _diagnostic_columns() -> tuple[str, ...]:
    """The diagnostics columns of the schema this program writes (params from version 4)."""
    return DIAGNOSTIC_COLUMNS if SCHEMA_VERSION >= PARAMS_SCHEMA else DIAGNOSTIC_COLUMNS[:-1]


def _workbook_columns() -> tuple[str, ...]:
    """The workbooks columns of the schema this program writes (modified from version 5)."""
    return WORKBOOK_COLUMNS if SCHEMA_VERSION >= MODIFIED_SCHEMA else WORKBOOK_COLUMNS[:-1]


def stored_modified(value: datetime | None) -> str | None:
    """A file's modified time as the history stores it (zone dropped, as grade compares)."""
    return None if value is None else value.replace(tzinfo=None).isoformat()


def read_modified(value: object) -> datetime | None:
    """A stored modified time back (NULL, or anything unreadable: unknown)."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return None


PHOTO_COLUMNS = ("workbook", "seq", "criterion", "sha256", "ext", "cell", "how", "width", "height",
                 "path")  # fmt: skip


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def _workbook_row(
    row_id: int, w: WorkbookResult, graded_at: str, recorded_at: str
) -> tuple[object, ...]:
    standard = w.standard
    card = w.card if w.status == GRADED else None
    return (
        row_id,
        w.workbook_id,
        w.file,
        w.file_hash,
        w.site_code,
        w.site_name,
        w.region,
        w.period_text,  # as found: the history keeps what the return said
        standard.id if standard else "",
        standard.version if standard else "",
        standard.content_hash if standard else "",
        w.status,
        _text(card.total) if card else None,
        _text(card.max_score) if card else None,
        _text(card.percent) if card else None,
        card.grade if card else None,
        w.inspector,
        _iso(w.inspection_date),
        graded_at,
        recorded_at,
        stored_modified(w.modified),
    )[: len(_workbook_columns())]


def _score_rows(
    row_id: int, w: WorkbookResult, where: dict[str, tuple[str, str]] | None = None
) -> tuple[list[tuple], list[tuple]]:
    """The criteria and sections rows of a graded workbook (`where`: _section_codes of its
    standard, when the caller has it)."""
    assert w.card is not None and w.standard is not None
    where = _section_codes(w.standard) if where is None else where
    answers = w.answers
    criteria = []
    for c in w.card.criteria:
        code = c.code
        section, text = where.get(code, ("", ""))
        answer = answers.get(code)
        note = answer.note if answer is not None else ""
        criteria.append(
            (row_id, code, section, text, c.result, c.problem_points, str(c.deduction), note)
        )
    sections = [
        (
            row_id,
            s.code,
            s.name,
            str(s.points),
            str(s.deducted),
            str(s.score),
            int(s.applicable),
            int(s.vetoed),
        )
        for s in w.card.sections
    ]
    return criteria, sections


def _diagnostic_rows(row_id: int, w: WorkbookResult) -> list[tuple]:
    width = len(_diagnostic_columns())
    return [
        (row_id, d.severity, d.code, d.sheet, d.cell, d.message, params_to_json(d))[:width]
        for d in w.diagnostics
    ]


def stored_diagnostic(row: Mapping[str, Any]) -> Diagnostic:
    """A diagnostics row as the Diagnostic it was: worded from its code and parameters in any
    language, or (recorded before schema 4, or without parameters) by its stored message."""
    params = params_from_json(row.get("params"))
    text = "" if params is not None else str(row.get("message") or "")
    return Diagnostic(
        Severity.stored(row["severity"]),
        str(row["code"]),
        text,
        sheet=str(row.get("sheet") or ""),
        cell=str(row.get("cell") or ""),
        params=params or (),
    )


def _photo_rows(row_id: int, w: WorkbookResult) -> list[tuple]:
    """The photos written to a photo folder (outputs/photos.py), in checklist order."""
    written = [p for p in w.photos if p.location]
    return [
        (row_id, seq, p.criterion, p.sha256, p.ext, p.cell, p.how, p.width, p.height, p.location)
        for seq, p in enumerate(written, 1)
    ]


def load_photos(
    location: str | Path, site_code: str, period: Period | str, criterion: str | None = None
) -> list[tuple[str, str, str]]:
    """(criterion, sha256, path) of the photos of a site's month, from its current graded
    result (not superseded), in checklist order."""
    sql = f"""SELECT p.criterion, p.sha256, p.path FROM photos p
             JOIN workbooks w ON w.id = p.workbook
             WHERE w.site_code = ? AND w.period = ? AND w.status = '{GRADED}'
               AND w.superseded = 0"""
    params: list[Period | str] = [site_code, period]
    if criterion is not None:
        sql += " AND p.criterion = ?"
        params.append(criterion)
    with _connect_read(location) as conn:
        if "photos" not in conn.table_names():  # a history older than photo evidence
            return []
        _, rows = conn.query(sql + " ORDER BY w.id, p.seq", params)
    return [(str(c), str(h), str(p)) for c, h, p in rows]


# --- the recording rules, one place for record_batch and `history merge` ------------------


@contextmanager
def writing(conn: Connection) -> Iterator[Connection]:
    """One write transaction holding the writers' lock: committed whole, or rolled back
    (any exception, Ctrl+C included) leaving the history as it was. A SQLite file is checked
    (quick_check) first and never written into when damaged; a SQLite failure is a located
    HistoryError."""
    _begin_write(conn)  # waits up to backend.lock_timeout(), then says how long it waited
    try:
        _quick_check(conn)  # under the write lock: what is checked is what is written into
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        conn.rollback()
        raise _failure(conn.location, exc) from exc
    except BaseException:
        conn.rollback()
        raise


def is_new(statuses: set[str], graded: bool) -> bool:
    """A file is recorded once; only a first graded row for a file recorded sent back so far
    is new."""
    return not statuses or (graded and GRADED not in statuses)


@dataclass(frozen=True)
class Candidate:
    """A file offered for recording (a batch's workbook, or a merged history's row)."""

    file_hash: str
    workbook_id: str
    graded: bool
    site_code: str
    period: str
    standard_id: str
    older_copy: bool = False  # an older copy of a workbook returned twice: never current
    modified: datetime | None = None  # the file's modified time; None: unknown (oldest)


def _age(modified: datetime | None) -> tuple[int, datetime]:
    """Sort key of a modified time: unknown before any known time."""
    return (0, datetime.min) if modified is None else (1, modified)


@dataclass
class Plan:
    """What recording the candidates does, worked out under the writers' lock."""

    ids: list[int | None]  # per candidate: its new row id, None when already recorded
    marks: list[tuple[int | None, int]]  # (superseded_by, id): rows to mark superseded
    already: int = 0
    graded: int = 0
    sent_back: int = 0
    superseded: int = 0
    regraded: int = 0
    stale: set[int] = field(default_factory=set)  # candidates recorded superseded on arrival


def _chunks(items: list, size: int = 400) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def plan_records(conn: Connection, candidates: list[Candidate]) -> Plan:
    """Apply the recording rules to `candidates` (in recording order) against the history as
    it is: which are new (and their ids), which rows become superseded and by which.

    Rules (docs/history.md): a file (file_hash + workbook_id) is recorded once, except that a
    file recorded only as sent back is recorded again when graded (its sent-back row is then
    superseded by the graded one: `regraded`); a new graded row supersedes every current graded
    row of its site, period and standard when its file is not older than theirs (modified;
    unknown is older than any known time; a tie: the later recorded wins); an older file is
    recorded superseded by the newest current row. An older copy of a batch supersedes nothing
    and is itself not current at the end. Must run inside writing(conn): the state read here
    is the state the plan is written to.
    """
    statuses: dict[tuple[str, str], set[str]] = {}
    sent_back_rows: dict[tuple[str, str], list[int]] = {}
    current: dict[tuple[str, str, str], list[int]] = {}
    ages: dict[int, tuple[int, datetime]] = {}  # current row id -> _age of its file
    modified_column = "modified" if SCHEMA_VERSION >= MODIFIED_SCHEMA else "NULL"
    files = sorted({(c.file_hash, c.workbook_id) for c in candidates})
    for chunk in _chunks(sorted({h for h, _ in files})):
        for row_id, file_hash, workbook_id, status, superseded in conn.execute(
            "SELECT id, file_hash, workbook_id, status, superseded FROM workbooks "
            f"WHERE file_hash IN ({', '.join('?' for _ in chunk)})",
            chunk,
        ).fetchall():
            statuses.setdefault((file_hash, workbook_id), set()).add(status)
            if status == SENT_BACK and not superseded:
                sent_back_rows.setdefault((file_hash, workbook_id), []).append(row_id)
    # the current rows of the graded candidates' sites and months (a batch names one month or
    # a few), not of every month the history holds
    graded = [c for c in candidates if c.graded]
    periods = sorted({c.period for c in graded})
    for chunk in _chunks(sorted({c.site_code for c in graded})):
        for row_id, site, period, standard_id, modified in conn.execute(
            f"SELECT id, site_code, period, standard_id, {modified_column} FROM workbooks "
            f"WHERE status = '{GRADED}' AND superseded = 0 "
            f"AND site_code IN ({', '.join('?' for _ in chunk)}) "
            f"AND period IN ({', '.join('?' for _ in periods)}) ORDER BY id",
            [*chunk, *periods],
        ).fetchall():
            current.setdefault((site, period, standard_id), []).append(row_id)
            ages[row_id] = _age(read_modified(modified))
    news = []
    for i, c in enumerate(candidates):
        recorded = statuses.setdefault((c.file_hash, c.workbook_id), set())
        if is_new(recorded, c.graded):
            news.append(i)
            recorded.add(GRADED if c.graded else SENT_BACK)
    ids = conn.new_ids("workbooks", len(news))
    plan = Plan([None] * len(candidates), [])
    plan.already = len(candidates) - len(news)
    older_copies: list[tuple[tuple[str, str, str], int]] = []
    for i, row_id in zip(news, ids, strict=True):
        c = candidates[i]
        plan.ids[i] = row_id
        file = (c.file_hash, c.workbook_id)
        if not c.graded:
            plan.sent_back += 1
            sent_back_rows.setdefault(file, []).append(row_id)
            continue
        plan.graded += 1
        key = (c.site_code, c.period, c.standard_id)
        age = _age(c.modified)
        ages[row_id] = age
        newest = max(current.get(key, []), key=lambda r: (ages[r], r), default=None)
        if c.older_copy:
            current.setdefault(key, []).append(row_id)
            older_copies.append((key, row_id))
        elif newest is not None and ages[newest] > age:
            # an older file than the current result (another office recorded the newer first)
            plan.marks.append((newest, row_id))
            plan.superseded += 1
            plan.stale.add(i)
        else:
            for old in current.get(key, []):
                plan.marks.append((row_id, old))
                plan.superseded += 1
            current[key] = [row_id]
        for old in sent_back_rows.pop(file, []):
            plan.marks.append((row_id, old))
            plan.regraded += 1
    # An older copy that the newer file did not supersede (it was sent back) is not current
    # either: the newer file counts, as in the summary.
    # When the newer file is recorded already (another office's batch), it supersedes it.
    copies = {row_id for _, row_id in older_copies}
    for key, row_id in older_copies:
        if row_id in current.get(key, []):
            current[key].remove(row_id)
            others = [r for r in current[key] if r not in copies]
            by = max(others, key=lambda r: (ages[r], r)) if others else None
            plan.marks.append((by, row_id))
            plan.superseded += 1
    return plan


def apply_marks(conn: Connection, plan: Plan) -> None:
    """Mark the plan's superseded rows (after its new rows are inserted)."""
    conn.executemany(
        "UPDATE workbooks SET superseded = 1, superseded_by = ? WHERE id = ?", plan.marks
    )


ISSUED_COLUMNS = (
    "workbook_id",
    "site_code",
    "site_name",
    "region",
    "period",
    "standard_id",
    "standard_version",
    "recorded_at",
)


def add_issued(conn: Connection, rows: list[tuple[str, ...]]) -> int:
    """Issued-register entries (ISSUED_COLUMNS), each unless its workbook_id is there; returns
    how many were added."""
    before = conn.execute("SELECT count(*) FROM issued").fetchone()[0]
    conn.executemany(insert_sql("issued", ISSUED_COLUMNS) + " ON CONFLICT DO NOTHING", rows)
    return int(conn.execute("SELECT count(*) FROM issued").fetchone()[0]) - int(before)


# A sent-back file with one of these: its manifest values (site, period ...) cannot be trusted.
UNTRUSTED_MANIFEST = frozenset(
    {
        "manifest.missing",
        "manifest.foreign",
        "manifest.unknown_template",
        "manifest.tampered",
        "manifest.period",
    }
)


def _issued_rows(batch: BatchResult) -> list[tuple[str, str, str, str, str, str, str]]:
    """The issued register the batch was graded against, as it was written by build.

    Returns that claim a workbook the register does not list add nothing: `issued` holds what
    registers list, not what returns say.
    """
    return [
        (
            e.workbook_id,
            e.site_code,
            e.site_name,
            e.region,
            str(e.period),
            e.standard_id,
            e.standard_version,
        )
        for e in batch.issued or []
    ]


def record_batch(path: str | Path, batch: BatchResult) -> RecordSummary:
    """Record one grading run in the history at `path`, a SQLite file (created on first use)
    or a postgresql:// URL (its tables created on first use).

    Contract for `grade --history PATH` (default: default_history_path()): call this once per
    run, after every file is graded, with the BatchResult that the summary is made from.
    - Every WorkbookResult is recorded: graded ones with criteria and section scores, sent-back
      ones with their diagnostics (warnings of graded ones are kept too).
    - A file whose (file_hash, workbook_id) is already in the history is counted in
      `already_recorded` and left alone, so grading the same returns twice records them once.
      One exception: a file recorded only as sent back (say, graded first against a wrong
      register or standards folder) that is now graded is recorded graded, and its sent-back
      row is marked superseded by the new row (counted in `regraded` too).
    - A graded result supersedes the current graded result for the same site_code + period +
      standard id (the earlier row stays, superseded = 1, superseded_by = the new row id).
      Within one batch the older file (duplicate_of set, or the older mtime) is recorded first,
      and an older copy (duplicate_of set) is recorded superseded even when the newer file was
      sent back: as in the summary, the newer file is the one that counts.
    - When the batch was graded against an issued register (issued_count is not None), the
      issued workbooks (returned or missing) are added to the register table for 回收情况.
    - All of it is one transaction: if anything fails, nothing of the batch is written and the
      exception propagates (HistoryError with its located message for any SQLite failure:
      locked and how long it waited, damaged by quick_check before writing, read-only, not a
      history, disk full; the driver's error or HistoryError for PostgreSQL).
      Writers take one lock for the batch (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
      transaction lock), so concurrent runs record as if one after the other.
    """
    with recording(path, batch) as summary:
        pass
    return summary


@contextmanager
def recording(path: str | Path, batch: BatchResult) -> Iterator[RecordSummary]:
    """record_batch in two steps: everything is written inside the transaction on entering,
    which is committed when the block ends (rolled back, nothing recorded, on an exception).
    So grade can stage the history while its summary is written and commit only after the
    summary and CSV are (exit code 3 keeps its meaning). Raises as record_batch does, on
    entering or (the commit) on leaving."""
    location = location_of(path)
    graded_at = batch.graded_at.isoformat(timespec="seconds")
    recorded_at = datetime.now().isoformat(timespec="seconds")
    ordered = _batch_order(batch)
    for w in ordered:
        if w.status == GRADED and (w.card is None or w.standard is None):
            raise ValueError(f"{w.file}: graded without a score card or standard")
    candidates = [
        Candidate(
            w.file_hash,
            w.workbook_id,
            w.status == GRADED,
            w.site_code,
            w.period_text,  # the stored text the history's rows are matched on
            w.standard.id if w.standard else "",
            older_copy=w.superseded,  # the model says which copy is the older one
            modified=read_modified(stored_modified(w.modified)),
        )
        for w in ordered
    ]
    with _connect(location) as conn, writing(conn):
        # the collector paused while the batch's rows are made and written (they hold no
        # cycles; a full pass would walk them all), not over the caller's block
        with cycles_not_collected():
            summary = _write_batch(
                conn, location, batch, ordered, candidates, graded_at, recorded_at
            )
        yield summary


def _write_batch(
    conn: Connection,
    location: str | Path,
    batch: BatchResult,
    ordered: list[WorkbookResult],
    candidates: list[Candidate],
    graded_at: str,
    recorded_at: str,
) -> RecordSummary:
    """recording's work inside the transaction: the plan, the rows, the ledger."""
    plan = plan_records(conn, candidates)
    workbooks, criteria, sections, diagnostics = [], [], [], []
    photos: list[tuple] = []
    places: dict[int, dict[str, tuple[str, str]]] = {}  # standard -> _section_codes
    for w, row_id in zip(ordered, plan.ids, strict=True):
        if row_id is None:
            continue
        workbooks.append(_workbook_row(row_id, w, graded_at, recorded_at))
        diagnostics += _diagnostic_rows(row_id, w)
        if w.status == GRADED:
            assert w.standard is not None
            where = places.get(id(w.standard))
            if where is None:
                where = places[id(w.standard)] = _section_codes(w.standard)
            scores = _score_rows(row_id, w, where)
            criteria += scores[0]
            sections += scores[1]
            photos += _photo_rows(row_id, w)
    conn.insert_many("workbooks", _workbook_columns(), workbooks)
    conn.insert_many("criteria", CRITERIA_COLUMNS, criteria)
    conn.insert_many("sections", SECTION_COLUMNS, sections)
    conn.insert_many("diagnostics", _diagnostic_columns(), diagnostics)
    conn.insert_many("photos", PHOTO_COLUMNS, photos)
    apply_marks(conn, plan)
    # the rectification ledger follows the current graded results (rectify/ledger.py):
    # graded rows new to the history, not older copies nor older files
    recorded = [
        w
        for i, (w, c, row_id) in enumerate(zip(ordered, candidates, plan.ids, strict=True))
        if row_id is not None and c.graded and not c.older_copy and i not in plan.stale
    ]
    ledger.record_graded(conn, recorded, recorded_at, ledger.failures(criteria))
    issued = add_issued(conn, [(*row, recorded_at) for row in _issued_rows(batch)])
    return RecordSummary(
        location,
        recorded_graded=plan.graded,
        recorded_sent_back=plan.sent_back,
        already_recorded=plan.already,
        superseded=plan.superseded,
        issued_added=issued,
        regraded=plan.regraded,
    )


# --- reading ----------------------------------------------------------------------------


@dataclass
class HistoryFrames:
    """The history as pandas DataFrames (decimals still TEXT: convert with Decimal(text))."""

    workbooks: pd.DataFrame  # every recorded workbook row (graded, sent back, superseded)
    criteria: pd.DataFrame  # criteria of the graded rows in `workbooks`, column workbook = id
    sections: pd.DataFrame  # section scores of the graded rows in `workbooks`
    diagnostics: pd.DataFrame
    issued: pd.DataFrame

    @property
    def current(self) -> pd.DataFrame:
        """Graded results that no resubmission replaced: what every summary counts."""
        w = self.workbooks
        return w[(w["status"] == GRADED) & (w["superseded"] == 0)]

    @property
    def sent_back(self) -> pd.DataFrame:
        return self.workbooks[self.workbooks["status"] == SENT_BACK]


def conditions(*pairs: tuple[str, Any]) -> tuple[str, list[Any]]:
    """The SQL conditions (joined with AND) of the (condition, parameter) pairs whose
    parameter is given, and their parameters: the filters of load_history and of the
    ledger's part of `monthly` (rectify/summary.py)."""
    given = [(clause, value) for clause, value in pairs if value is not None]
    return " AND ".join(clause for clause, _ in given), [value for _, value in given]


def _filters(
    from_: Period | str | None, to: Period | str | None, standard: str | None, region: str | None
) -> tuple[str, list[Any]]:
    where, params = conditions(
        # trim: a period written with stray spaces still falls in its month (monthly.py).
        ("trim(period) >= ?", from_),
        ("trim(period) <= ?", to),
        ("standard_id = ?", standard),
        ("region = ?", region),
    )
    return (f" WHERE {where}" if where else ""), params


def load_history(
    path: str | Path,
    from_: Period | str | None = None,
    to: Period | str | None = None,
    standard: str | None = None,
    region: str | None = None,
    *,
    criteria_result: Result | None = None,
) -> HistoryFrames:
    """Read the history, keeping rows whose period is within from_..to (inclusive; a Period,
    or its YYYY-MM text), of the given standard id and region. Raises HistoryError when the
    file does not exist.

    The frames hold the history's columns as stored: months, statuses, results and
    severities are text there (what pandas groups and compares fast); code compares them
    with the enums (`frame["status"] == GRADED`: a code equals its text) and turns a month
    into a Period with model/period.stored_period.

    criteria_result keeps only the criteria rows with that result (monthly needs FAIL only:
    a tenth of the rows, the largest table by far)."""
    import pandas as pd

    where, params = _filters(from_, to, standard, region)
    tables = expected_columns()

    def read(table: str, sql: str, extra: Sequence[str] = ()) -> pd.DataFrame:
        # The schema's columns, by name: a PostgreSQL table also has its rowid. A history of
        # an older schema (read, never migrated) lacks the newer columns (diagnostics.params).
        names = [c for c in tables[table] if c in present.get(table, tables[table])]
        sql = sql.format(columns=", ".join(names))
        columns, records = conn.query(sql, [*params, *extra])
        return pd.DataFrame.from_records(records, columns=columns, coerce_float=True)

    with _connect_read(path) as conn:
        present = conn.columns()
        workbooks = read("workbooks", f"SELECT {{columns}} FROM workbooks{where} ORDER BY id")
        inner = f"SELECT id FROM workbooks{where}"
        result = (" AND result = ?", [criteria_result]) if criteria_result is not None else ("", [])
        criteria = read(
            "criteria",
            f"SELECT {{columns}} FROM criteria WHERE workbook IN ({inner}){result[0]} "
            "ORDER BY workbook, rowid",
            result[1],
        )
        sections, diagnostics = (
            read(
                table,
                f"SELECT {{columns}} FROM {table} WHERE workbook IN ({inner}) "
                "ORDER BY workbook, rowid",
            )
            for table in ("sections", "diagnostics")
        )
        issued = read(
            "issued", f"SELECT {{columns}} FROM issued{where} ORDER BY period, workbook_id"
        )
    return HistoryFrames(workbooks, criteria, sections, diagnostics, issued)
