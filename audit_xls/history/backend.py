"""Where the history lives: a SQLite file or a PostgreSQL database, behind one small layer.

store.py (recording, reading) and the history commands write their SQL once, portable:
`?` placeholders, `INSERT ... ON CONFLICT DO NOTHING`, `ORDER BY rowid`, TEXT/INTEGER columns.
A `Connection` runs it on either database:

- SQLite (stdlib sqlite3): a path. The schema version is `PRAGMA user_version`. Writers take
  the file's write lock at once (`BEGIN IMMEDIATE`); readers open it read-only (`mode=ro`).
- PostgreSQL (psycopg 3): a `postgresql://user@host:port/db` URL; the password comes from
  libpq (PGPASSWORD, ~/.pgpass) or the URL, and is never shown. The schema version is the one
  row of table `audit_xls_schema`. Each table created by a migration gets a last `rowid`
  column (an identity; the key itself where the table has `KEY INTEGER PRIMARY KEY`, which
  becomes an identity) so that `ORDER BY rowid` keeps insertion order as in SQLite. Writers run READ
  COMMITTED and first take a transaction advisory lock (WRITE_LOCK): one batch records at a
  time, every statement after the lock sees every batch committed before it, exactly as a
  serial run. Readers run one REPEATABLE
  READ READ ONLY transaction: all their queries see one snapshot of whole batches.

Why no SQLAlchemy: the schema is five tables and a list of SQL scripts; the two dialects
differ in four small things handled here (placeholders, identity/rowid, the version, locks),
and the one migration that differs (SQLite's table rebuild of version 2) needs its own text
for PostgreSQL under any toolkit. docs/history.md says more.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_xls.model.period import Period

URL_PREFIXES = ("postgresql://", "postgres://")
# pg_advisory_xact_lock key of the writers: "audit-xls" as a number.
WRITE_LOCK = 0x617564_69742D78
VERSION_TABLE = "audit_xls_schema"
# How long to wait for a server (seconds) unless the URL says connect_timeout=.
CONNECT_TIMEOUT = 10


class HistoryError(Exception):
    """Raised when the history cannot be opened, is not ours, is damaged, locked, read-only
    or newer than this tool. `code` (an i18n key, history.*) names the case when it has one;
    str() is the Chinese message, text(lang) the message in either language."""

    def __init__(self, text: str, code: str = "", **params: object) -> None:
        super().__init__(text)
        self.code = code
        self.params = params

    @classmethod
    def of(cls, code: str, **params: object) -> HistoryError:
        from audit_xls.i18n import t

        return cls(t(code, "zh", **params), code, **params)

    def text(self, lang: str = "zh") -> str:
        from audit_xls.i18n import t

        return t(self.code, lang, **self.params) if self.code else str(self)


# How long a SQLite writer (or reader) waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 10.0
# How long a PostgreSQL writer waits for the writers' lock (another grader's batch) before
# giving up with a located message; long enough for any real batch to be recorded.
PG_LOCK_TIMEOUT_S = 300.0
# Either default, in seconds, overridden for both databases.
LOCK_TIMEOUT_ENV = "AUDIT_XLS_LOCK_TIMEOUT"


def lock_timeout(dialect: Dialect) -> float:
    """Seconds a writer waits for the writers' lock: $AUDIT_XLS_LOCK_TIMEOUT, else
    BUSY_TIMEOUT_S (SQLite) or PG_LOCK_TIMEOUT_S (PostgreSQL)."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return BUSY_TIMEOUT_S if dialect is SQLITE else PG_LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:  # NaN and infinity fail too
        raise HistoryError.of("history.lock_timeout_invalid", env=LOCK_TIMEOUT_ENV, value=text)
    return value


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.strip().lower().startswith(URL_PREFIXES)


def location_of(location: str | Path) -> str | Path:
    """A URL stays a string; anything else is a SQLite path."""
    return location.strip() if is_url(location) else Path(location)


def shown(location: str | Path) -> str:
    """The location as messages show it: a URL without its password."""
    if not is_url(location):
        return str(location)
    return re.sub(r"^(\w+://[^:/@]*):[^@]*@", r"\1:***@", str(location).strip())


@dataclass(frozen=True)
class Dialect:
    name: str  # "sqlite" or "postgresql"

    def sql(self, text: str) -> str:
        """Portable DML (? placeholders) as this database's driver takes it."""
        if self.name == "sqlite":
            return text
        return text.replace("%", "%%").replace("?", "%s")

    def ddl(self, script: str) -> str:
        """A portable migration script for this database (types, identity, rowid)."""
        if self.name == "sqlite":
            return script
        statements = []
        for statement in script.split(";"):
            # SQLite's INTEGER PRIMARY KEY is the rowid, numbered on insert: an identity here.
            key = re.search(r"\b(\w+) INTEGER PRIMARY KEY\b", statement)
            statement = re.sub(
                r"\b(\w+) INTEGER PRIMARY KEY\b",
                r"\1 BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                statement,
            )
            if re.search(r"\bCREATE TABLE\b", statement):
                # Last, so that an INSERT ... VALUES naming every other column still fits.
                rowid = (
                    f"rowid BIGINT GENERATED ALWAYS AS ({key.group(1)}) STORED"
                    if key
                    else "rowid BIGINT GENERATED BY DEFAULT AS IDENTITY"
                )
                end = statement.rindex(")")
                statement = f"{statement[:end].rstrip()},\n        {rowid}\n    {statement[end:]}"
            statements.append(statement)
        script = ";".join(statements)
        return re.sub(r"\bINTEGER\b", "BIGINT", script)


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


# A Period is written as its 'YYYY-MM' text, the history's format of every month column: the
# one place the model's months become stored text (reading back: model/period.stored_period).
# The model's codes (model/codes.py) are str already and go in as their text.
sqlite3.register_adapter(Period, str)


def _period_dumper() -> type:
    """psycopg's dumper for Period: its YYYY-MM text, as a text parameter (COPY included)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class PeriodDumper(Dumper):
        format = Format.TEXT
        oid = 25  # text

        def dump(self, obj: Period) -> bytes:
            return str(obj).encode()

    return PeriodDumper


class Connection:
    """One open history database; SQL is written portable (see the module docstring)."""

    def __init__(self, raw: Any, dialect: Dialect, location: str | Path) -> None:
        self.raw = raw
        self.dialect = dialect
        self.location = location

    @property
    def shown(self) -> str:
        return shown(self.location)

    # -- statements --
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.dialect is SQLITE:
            return self.raw.execute(sql, params)
        cursor = self.raw.cursor()
        cursor.execute(self.dialect.sql(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self.dialect is SQLITE:
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self.dialect.sql(sql), rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Append rows to `table` (no conflict handling): PostgreSQL COPY, SQLite executemany."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect is SQLITE:
            marks = ", ".join("?" for _ in columns)
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def insert(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        """An INSERT of one row into a table whose `key` is INTEGER PRIMARY KEY; returns the
        new row's key (SQLite: lastrowid; PostgreSQL: RETURNING)."""
        if self.dialect is SQLITE:
            cursor = self.raw.execute(sql, params)
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)
        cursor = self.execute(f"{sql} RETURNING {key}", params)
        return int(cursor.fetchone()[0])

    def new_ids(self, table: str, count: int, key: str = "id") -> list[int]:
        """`count` new keys for rows of `table` to be inserted in this write transaction."""
        if count <= 0:
            return []
        if self.dialect is SQLITE:  # under BEGIN IMMEDIATE: SQLite itself would use max + 1
            top = int(
                self.raw.execute(f"SELECT coalesce(max({key}), 0) FROM {table}").fetchone()[0]
            )
            return list(range(top + 1, top + 1 + count))
        cursor = self.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', '{key}')) "
            "FROM generate_series(1, ?)",
            (count,),
        )
        return sorted(int(r[0]) for r in cursor.fetchall())

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        cursor = self.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return columns, [tuple(r) for r in cursor.fetchall()]

    # -- transactions --
    def begin_write(self) -> None:
        """Start the one transaction of a batch, holding the writers' lock. SQLite waits for
        it up to the connection's timeout (lock_timeout); PostgreSQL up to lock_timeout(),
        then raises HistoryError `history.pg.locked` (who holds it, for how long, how long
        this program waited), with nothing begun."""
        if self.dialect is SQLITE:
            self.raw.execute("BEGIN IMMEDIATE")
            return
        limit = lock_timeout(POSTGRESQL)
        self.raw.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        started = time.monotonic()
        try:
            # The limit is for the writers' lock only: the batch's own statements then run
            # with the server's setting, as before.
            self.raw.execute(f"SET LOCAL lock_timeout = {max(1, round(limit * 1000))}")
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            self.raw.execute("SET LOCAL lock_timeout TO DEFAULT")
        except BaseException as exc:
            waited = time.monotonic() - started
            self.rollback()
            if getattr(exc, "sqlstate", None) == "55P03":  # lock_not_available
                raise self.locked(waited, limit) from exc
            raise

    def lock_holder(self) -> tuple[int, str, str, float | None] | None:
        """PostgreSQL: the session holding the writers' lock (pid, application, client
        address, seconds since its transaction began; None where the server hides them from
        this user), or None when no one holds it."""
        row = self.raw.execute(
            """SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''),
                      extract(epoch FROM clock_timestamp() - a.xact_start)
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                 AND l.classid::bigint = %s AND l.objid::bigint = %s
                 AND l.pid != pg_backend_pid()""",
            (WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return None
        pid, application, client, held = row
        return int(pid), application, client, None if held is None else float(held)

    def locked(self, waited: float, limit: float) -> HistoryError:
        """The located message of a PostgreSQL writer that waited `waited` seconds for the
        writers' lock (at most `limit`)."""
        info = _conninfo(str(self.location))
        where = "{}:{}/{}".format(
            info.get("host") or os.environ.get("PGHOST") or "localhost",
            info.get("port") or os.environ.get("PGPORT") or "5432",
            info.get("dbname") or os.environ.get("PGDATABASE") or "",
        )
        values = {"where": where, "waited": f"{waited:.1f}", "limit": f"{limit:g}"}
        try:
            holder = self.lock_holder()
        except Exception:  # the connection itself failed: say what is known
            holder = None
        if holder is None or holder[3] is None:
            return HistoryError.of("history.pg.locked_unknown", **values)
        pid, application, client, held = holder
        who = ", ".join(x for x in (f"pid {pid}", application, client) if x)
        return HistoryError.of("history.pg.locked", holder=who, held=f"{held:.0f}", **values)

    def begin_read(self) -> None:
        """Start a read transaction: every query in it sees the same whole batches."""
        if self.dialect is SQLITE:
            self.raw.execute("BEGIN")
        else:
            self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        # No transaction, or the connection is gone (the server then rolls back on its own).
        with suppress(Exception):
            self.raw.execute("ROLLBACK")

    # -- the schema --
    def schema_version(self) -> int:
        if self.dialect is SQLITE:
            return int(self.raw.execute("PRAGMA user_version").fetchone()[0])
        if VERSION_TABLE not in self.table_names():
            return 0
        row = self.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
        return int(row[0] or 0)

    def set_schema_version(self, version: int) -> None:
        if self.dialect is SQLITE:
            self.raw.execute(f"PRAGMA user_version = {int(version)}")
            return
        self.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
        self.execute(f"DELETE FROM {VERSION_TABLE}")
        self.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?)", (int(version),))

    def table_names(self) -> list[str]:
        if self.dialect is SQLITE:
            return [
                r[0]
                for r in self.raw.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
        cursor = self.raw.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name"
        )
        return [r[0] for r in cursor.fetchall()]

    def columns(self) -> dict[str, set[str]]:
        """Table -> its columns (without the version table)."""
        if self.dialect is SQLITE:
            return {
                t: {r[1] for r in self.raw.execute(f"PRAGMA table_info({t})")}
                for t in self.table_names()
            }
        found: dict[str, set[str]] = {}
        for table, column in self.raw.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        ).fetchall():
            found.setdefault(table, set()).add(column)
        found.pop(VERSION_TABLE, None)
        return found

    def run_script(self, script: str) -> None:
        """A migration script (statements separated by ';'), inside the caller's transaction."""
        for statement in self.dialect.ddl(script).split(";"):
            if statement.strip():
                self.raw.execute(statement)

    def close(self) -> None:
        self.raw.close()


# --- opening --------------------------------------------------------------------------------


def message(key: str, /, **values: object) -> str:
    """A message of the catalogue (history.*), in $AUDIT_XLS_LANG's language (default zh)."""
    from audit_xls.i18n import default_lang, t

    return t(f"history.{key}", default_lang(), **values)


def _conninfo(url: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    info = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    return info


def _pg_error(url: str, exc: Exception, waited: float) -> HistoryError:
    """A located, true message for a failed connection (never the password)."""
    info = _conninfo(url)
    host = info.get("host") or os.environ.get("PGHOST") or "localhost"
    port = info.get("port") or os.environ.get("PGPORT") or "5432"
    user = info.get("user") or os.environ.get("PGUSER") or _os_user()
    dbname = info.get("dbname") or os.environ.get("PGDATABASE") or user
    text = str(exc).strip()
    password = info.get("password")
    if password:
        text = text.replace(password, "***")
    sqlstate = getattr(exc, "sqlstate", None)
    lowered = text.lower()
    values = {"host": host, "port": port, "user": user, "dbname": dbname}
    if sqlstate == "28P01" or "password authentication failed" in lowered:
        return HistoryError(message("pg.password", **values))
    if "no password supplied" in lowered or "fe_sendauth" in lowered:
        return HistoryError(message("pg.no_password", **values))
    if sqlstate == "3D000" or re.search(r'database ".*" does not exist', lowered):
        return HistoryError(message("pg.no_database", **values))
    if sqlstate and sqlstate.startswith("28"):
        return HistoryError(message("pg.refused", error=_last_line(text), **values))
    return HistoryError(
        message("pg.unreachable", waited=f"{waited:.1f}", error=_last_line(text), **values)
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else text


def _os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "?"


def connect_postgres(url: str) -> Connection:
    try:
        import psycopg
    except ImportError as exc:
        raise HistoryError(message("pg.missing_driver", where=shown(url))) from exc
    info = _conninfo(url)
    timeout = info.get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT")
    kwargs: dict[str, Any] = {"autocommit": True}
    if not info.get("application_name"):
        kwargs["application_name"] = "audit-xls"  # names a writer holding the lock
    if not timeout:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT
    started = time.monotonic()
    try:
        raw = psycopg.connect(url, **kwargs)
    except psycopg.Error as exc:
        raise _pg_error(url, exc, time.monotonic() - started) from exc
    raw.adapters.register_dumper(Period, _period_dumper())
    return Connection(raw, POSTGRESQL, url)


@contextmanager
def open_write(location: str | Path) -> Iterator[Connection]:
    """A writer's connection (no transaction yet); SQLite: the file and folder are created."""
    if is_url(location):
        conn = connect_postgres(str(location))
    else:
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one batch one transaction.
        conn = Connection(
            sqlite3.connect(path, isolation_level=None, timeout=lock_timeout(SQLITE)),
            SQLITE,
            path,
        )
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def open_read(location: str | Path, missing: str | HistoryError) -> Iterator[Connection]:
    """A reader's connection: never creates anything. `missing` is the error (or its
    message) for a SQLite path that is not there."""
    if is_url(location):
        conn = connect_postgres(str(location))
    else:
        path = Path(location)
        if not path.is_file():
            raise missing if isinstance(missing, HistoryError) else HistoryError(missing)
        try:
            raw = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
            )
        except sqlite3.Error as exc:
            raise HistoryError.of("history.cannot_read", path=path, error=exc) from exc
        raw.isolation_level = None
        conn = Connection(raw, SQLITE, path)
    try:
        yield conn
    finally:
        conn.close()


def database_errors() -> tuple[type[BaseException], ...]:
    """The driver errors that mean 'this database cannot be used' (for messages)."""
    errors: list[type[BaseException]] = [sqlite3.DatabaseError]
    try:
        import psycopg

        errors.append(psycopg.DatabaseError)
    except ImportError:
        pass
    return tuple(errors)
