"""`audit-xls history migrate | merge | check`: move, combine and check histories.

- migrate copies a whole SQLite history into a new (or partly migrated) database, keeping every
  row and id as it is: table by table in rowid order, in chunks of CHUNK rows, each chunk one
  transaction under the writers' lock. Run again, it continues after the last copied row of
  each table (idempotent: a finished migration copies nothing). The source is never changed
  (an older one is upgraded in a temporary copy).
- merge replays the offices' histories into one, with the recording rules of store.py: a file
  recorded once, a graded result superseding the current one for its site, month and standard,
  an older copy never current, the issued registers united, the rectification ledgers
  (problems, events, notices, replies) carried without duplicates. All of it is one
  transaction.
- check runs integrity checks on either database and counts rows per month and standard.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from audit_xls.history import store
from audit_xls.history.backend import (
    SQLITE,
    Connection,
    HistoryError,
    is_url,
    location_of,
    open_read,
    shown,
)
from audit_xls.model.codes import EventKind, EventSource, ProblemStatus, Result, Status
from audit_xls.model.period import PeriodError, stored_period

CHUNK = 20000  # rows per migrate transaction


# --- the schema's tables, in an order that respects their references ------------------------


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: str | None  # its INTEGER PRIMARY KEY column (SQLite's rowid alias), if any
    self_references: tuple[str, ...]  # columns referencing this same table (filled last)


def schema_tables() -> list[Table]:
    """The current schema's tables, each after the tables it references."""
    conn = sqlite3.connect(":memory:")
    try:
        for number in range(store.SCHEMA_VERSION):
            conn.executescript(store.migration_script(number, SQLITE))
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        info = {}
        for name in names:
            columns = list(conn.execute(f"PRAGMA table_info({name})"))
            keys = [c for c in columns if c[5]]
            key = keys[0][1] if len(keys) == 1 and keys[0][2].upper() == "INTEGER" else None
            references = list(conn.execute(f"PRAGMA foreign_key_list({name})"))
            info[name] = (
                Table(
                    name,
                    tuple(c[1] for c in columns),
                    key,
                    tuple(r[3] for r in references if r[2] == name),
                ),
                {r[2] for r in references if r[2] != name},
            )
    finally:
        conn.close()
    ordered: list[Table] = []
    placed: set[str] = set()
    while len(ordered) < len(info):
        for name, (table, needs) in info.items():
            if name not in placed and needs <= placed:
                ordered.append(table)
                placed.add(name)
    return ordered


# --- migrate -------------------------------------------------------------------------------


@dataclass
class MigrateSummary:
    source: str
    target: str
    copied: dict[str, int] = field(default_factory=dict)  # table -> rows copied by this run
    total: dict[str, int] = field(default_factory=dict)  # table -> rows in the source

    def message(self, lang: str | None = None) -> str:
        from audit_xls.i18n import default_lang, join, t

        lang = lang or default_lang()
        tables = join([f"{t} {n}" for t, n in self.total.items()], lang)
        return t(
            "history.migrate.done",
            lang,
            source=self.source,
            target=self.target,
            copied=sum(self.copied.values()),
            tables=tables,
        )


@contextmanager
def _current_source(source: Path) -> Iterator[Path]:
    """`source`, or an upgraded temporary copy of it when its schema is older: never changed."""
    with open_read(source, missing=_missing(source)) as conn:
        try:
            version = conn.schema_version()
            if version > store.SCHEMA_VERSION:
                raise store._newer(conn, version)
            if version == 0 or version == store.SCHEMA_VERSION:
                store._check_readable(conn)  # not a history, or a damaged one: said here
        except sqlite3.DatabaseError as exc:
            raise HistoryError.of("history.not_history", path=source, why=exc) from exc
    if version == store.SCHEMA_VERSION:
        yield source
        return
    folder = Path(tempfile.mkdtemp(prefix="audit-xls-migrate-"))
    try:
        copy = folder / "history.sqlite"
        with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as src:
            with sqlite3.connect(copy) as dst:
                src.backup(dst)
            dst.close()
        src.close()
        with store._connect(copy):
            pass  # migrates the copy
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _readable(source: str | Path) -> Iterator[str | Path]:
    """A source to read: a URL as it is; a SQLite file at the current schema (an older one
    upgraded in a temporary copy)."""
    location = location_of(source)
    if isinstance(location, str):
        yield location
        return
    with _current_source(location) as current:
        yield current


def _missing(path: Path | str) -> HistoryError:
    return HistoryError.of("history.missing", path=path)


def migrate(
    source: str | Path,
    target: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> MigrateSummary:
    """Copy the SQLite history `source` into `target` (a URL, or another SQLite path)."""
    if is_url(source):
        raise HistoryError.of("history.migrate.from_url", source=shown(str(source)))
    source = Path(source)
    summary = MigrateSummary(str(source), shown(target))
    with _current_source(source) as current:
        src = sqlite3.connect(f"{current.resolve().as_uri()}?mode=ro", uri=True)
        try:
            with store._connect(location_of(target)) as dst:
                _check_prefix(src, dst, source)
                for table in schema_tables():
                    total = src.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
                    summary.total[table.name] = total
                    summary.copied[table.name] = _copy_table(src, dst, table, total, progress)
                for table in schema_tables():
                    _fill_self_references(src, dst, table)
                if dst.dialect is not SQLITE:
                    _advance_identities(dst)
        finally:
            src.close()
    return summary


def _check_prefix(src: sqlite3.Connection, dst: Connection, source: Path) -> None:
    """The target holds nothing, or only rows of this source (a migration that stopped)."""
    theirs = dst.query("SELECT id, file_hash, workbook_id, status FROM workbooks ORDER BY id")[1]
    if not theirs:
        return
    ours = {
        r[0]: tuple(r)
        for r in src.execute("SELECT id, file_hash, workbook_id, status FROM workbooks")
    }
    if any(ours.get(r[0]) != tuple(r) for r in theirs):
        raise HistoryError.of("history.migrate.foreign_target", target=dst.shown, source=source)


def _copy_table(
    src: sqlite3.Connection,
    dst: Connection,
    table: Table,
    total: int,
    progress: Callable[[str, int, int], None] | None,
) -> int:
    # Rows are copied with their rowid (the key where there is one): a rerun goes on after
    # the highest rowid already in the target.
    # The key (or rowid) first, then the other columns; a self reference is filled last.
    columns = [table.key or "rowid", *(c for c in table.columns if c != table.key)]
    order = columns[0]
    done = dst.execute(f"SELECT max({order}) FROM {table.name}").fetchone()[0] or 0
    selected = ", ".join("NULL" if c in table.self_references else c for c in columns)
    copied = 0
    while True:
        rows = src.execute(
            f"SELECT {selected} FROM {table.name} WHERE {order} > ? ORDER BY {order} LIMIT ?",
            (done, CHUNK),
        ).fetchall()
        if not rows:
            return copied
        with store.writing(dst):
            dst.insert_many(table.name, columns, rows)
        copied += len(rows)
        done = rows[-1][0]
        if progress:
            progress(table.name, copied, total)


def _fill_self_references(src: sqlite3.Connection, dst: Connection, table: Table) -> None:
    if not table.self_references or not table.key:
        return
    for column in table.self_references:
        rows = src.execute(
            f"SELECT {column}, {table.key} FROM {table.name} WHERE {column} IS NOT NULL"
        ).fetchall()
        with store.writing(dst):
            dst.executemany(
                f"UPDATE {table.name} SET {column} = ? WHERE {table.key} = ? AND {column} IS NULL",
                rows,
            )


def _advance_identities(dst: Connection) -> None:
    """Rows came with their ids: the next id the server gives must follow them."""
    for table in schema_tables():
        column = table.key or "rowid"
        dst.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"coalesce((SELECT max({column}) FROM {table.name}), 0) + 1, false)"
        )


# --- merge ---------------------------------------------------------------------------------


@dataclass
class MergeSummary:
    into: str
    recorded_graded: int = 0
    recorded_sent_back: int = 0
    already_recorded: int = 0
    superseded: int = 0
    issued_added: int = 0
    problems_added: int = 0
    events_added: int = 0
    notices_added: int = 0
    replies_added: int = 0

    def message(self, lang: str | None = None) -> str:
        from audit_xls.i18n import default_lang, t

        return t(
            "history.merge.done",
            lang or default_lang(),
            target=self.into,
            recorded=self.recorded_graded + self.recorded_sent_back,
            graded=self.recorded_graded,
            sent_back=self.recorded_sent_back,
            already=self.already_recorded,
            superseded=self.superseded,
            issued=self.issued_added,
            problems=self.problems_added,
            events=self.events_added,
            notices=self.notices_added,
            replies=self.replies_added,
        )


CHILDREN = ("criteria", "sections", "diagnostics", "photos")  # rows of a workbooks row


def merge(sources: list[str | Path], into: str | Path) -> MergeSummary:
    """Replay the histories `sources` into `into` with the recording rules, in the order the
    batches were graded (graded_at, then each source's own order); one transaction."""
    target = location_of(into)
    summary = MergeSummary(shown(target))
    tables = {t.name: t for t in schema_tables()}
    loaded = []
    for number, source in enumerate(sources):
        with _readable(source) as current, store._connect_read(current) as conn:
            rows = conn.query(
                f"SELECT {', '.join(tables['workbooks'].columns)} FROM workbooks ORDER BY id"
            )
            present = set(conn.table_names())
            children = {
                name: conn.query(
                    f"SELECT {', '.join(tables[name].columns)} FROM {name} ORDER BY workbook, rowid"
                )
                if name in present
                else (list(tables[name].columns), [])  # a history older than the table
                for name in CHILDREN
            }
            issued = conn.query(f"SELECT {', '.join(store.ISSUED_COLUMNS)} FROM issued")[1]
            ledger = _load_ledger(conn, tables)
        loaded.append((number, rows, children, issued, ledger))
    with store._connect(target) as conn, store.writing(conn):
        queue = []
        for number, (columns, rows), children, _issued, _ledger in loaded:
            by_workbook: dict[str, dict[int, list[tuple]]] = {}
            for name, (child_columns, child_rows) in children.items():
                position = child_columns.index("workbook")
                grouped = by_workbook.setdefault(name, {})
                for child in child_rows:
                    grouped.setdefault(child[position], []).append(child)
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                queue.append(((record["graded_at"], number, record["id"]), record, by_workbook))
        queue.sort(key=lambda item: item[0])
        records = [record for _, record, _ in queue]
        candidates = [
            store.Candidate(
                r["file_hash"],
                r["workbook_id"],
                r["status"] == Status.GRADED,
                r["site_code"],
                r["period"],
                r["standard_id"],
                # an older copy of a workbook returned twice: never current in its history
                older_copy=r["status"] == Status.GRADED
                and bool(r["superseded"])
                and r["superseded_by"] is None,
                modified=store.read_modified(r.get("modified")),
            )
            for r in records
        ]
        plan = store.plan_records(conn, candidates)
        columns = [
            c for c in tables["workbooks"].columns if c not in ("superseded", "superseded_by")
        ]
        conn.insert_many(
            "workbooks",
            columns,
            [
                (row_id, *(r[c] for c in columns[1:]))
                for r, row_id in zip(records, plan.ids, strict=True)
                if row_id is not None
            ],
        )
        for name in CHILDREN:
            child_columns = tables[name].columns
            position = child_columns.index("workbook")
            conn.insert_many(
                name,
                child_columns,
                [
                    (*child[:position], row_id, *child[position + 1 :])
                    for (_, r, by_workbook), row_id in zip(queue, plan.ids, strict=True)
                    if row_id is not None
                    for child in by_workbook[name].get(r["id"], [])
                ],
            )
        store.apply_marks(conn, plan)
        deadlines = _merge_ledger(conn, [ledger for *_, ledger in loaded], summary)
        _sync_ledger(
            conn,
            [c for c, i in zip(candidates, plan.ids, strict=True) if i and c.graded],
            deadlines,
        )
        summary.recorded_graded, summary.recorded_sent_back = plan.graded, plan.sent_back
        summary.already_recorded, summary.superseded = plan.already, plan.superseded
        summary.issued_added = store.add_issued(
            conn, [tuple(entry) for *_, issued, _ in loaded for entry in issued]
        )
    return summary


# The rectification ledger's tables, carried by merge (rectify/ledger.py).
LEDGER_TABLES = (
    "problems",
    "problem_events",
    "notices",
    "notice_items",
    "replies",
    "reply_photos",  # schema 7: the after-photos of each reply (by the reply's id)
)


@dataclass
class _Ledger:
    """One source's ledger rows, each table as (columns, rows)."""

    tables: dict[str, tuple[list[str], list[tuple]]]
    # the source's workbooks row id -> (file_hash, workbook_id, status), for event.workbook
    rows: dict[int, tuple[str, str, str]]


def _load_ledger(conn: Connection, tables: dict[str, Table]) -> _Ledger:
    found = {}
    present = set(conn.table_names())  # a history older than the ledger has none
    for name in LEDGER_TABLES:
        table = tables[name]
        columns = list(table.columns)
        order = table.key or "rowid"
        found[name] = (
            columns,
            conn.query(f"SELECT {', '.join(columns)} FROM {name} ORDER BY {order}")[1]
            if name in present
            else [],
        )
    rows = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.query("SELECT id, file_hash, workbook_id, status FROM workbooks")[1]
    }
    return _Ledger(found, rows)


def _merge_ledger(
    conn: Connection, ledgers: list[_Ledger], summary: MergeSummary
) -> dict[tuple[int, str], tuple[str | None, int]]:
    """The sources' ledgers united into the target's, in the order they were recorded
    (recorded_at, then each source's own order), as if every office had recorded into it:
    a problem, notice (with its rows) or reply the target has is not added again; an event
    is added unless the target already has that fact as often as the source has it (so a
    merge run again adds nothing). Returns (target row, criterion) -> (deadline, assumed) of
    the found/revised events carried, for the deadlines of the resubmissions merge records."""
    from audit_xls.rectify.ledger import EVENT_COLUMNS, EVENT_FACT

    if not ledgers:
        return {}
    known_problems = {r[0] for r in conn.query("SELECT id FROM problems")[1]}
    known_notices = {r[0] for r in conn.query("SELECT notice_id FROM notices")[1]}
    known_replies = {(r[0], r[1]) for r in conn.query("SELECT file_hash, notice FROM replies")[1]}
    facts: dict[tuple, int] = {}
    for row in conn.query(f"SELECT {', '.join(EVENT_FACT)} FROM problem_events")[1]:
        facts[tuple(row)] = facts.get(tuple(row), 0) + 1
    target_rows = {
        (r[1], r[2], r[3]): r[0]
        for r in conn.query("SELECT id, file_hash, workbook_id, status FROM workbooks")[1]
    }
    problems: list[tuple] = []
    columns = ledgers[0].tables["problems"][0]
    for ledger in ledgers:
        _, rows = ledger.tables["problems"]
        for row in rows:
            if row[0] not in known_problems:
                known_problems.add(row[0])
                problems.append(row)
    conn.insert_many("problems", columns, problems)
    summary.problems_added = len(problems)

    def ordered(name: str) -> list[tuple[int, dict]]:
        queue = []
        for number, ledger in enumerate(ledgers):
            columns, rows = ledger.tables[name]
            for position, row in enumerate(rows):
                record = dict(zip(columns, row, strict=True))
                queue.append(((str(record["recorded_at"]), number, position), number, record))
        queue.sort(key=lambda item: item[0])
        return [(number, record) for _, number, record in queue]

    items: dict[tuple[int, str], list[dict]] = {}
    for number, ledger in enumerate(ledgers):
        columns, rows = ledger.tables["notice_items"]
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            items.setdefault((number, record["notice"]), []).append(record)
    notice_columns = [c for c in ledgers[0].tables["notices"][0] if c != "id"]
    item_columns = ledgers[0].tables["notice_items"][0]
    for number, record in ordered("notices"):
        if record["notice_id"] in known_notices:
            continue
        known_notices.add(record["notice_id"])
        conn.execute(
            f"INSERT INTO notices ({', '.join(notice_columns)}) "
            f"VALUES ({', '.join('?' for _ in notice_columns)})",
            [record[c] for c in notice_columns],
        )
        conn.insert_many(
            "notice_items",
            item_columns,
            [[i[c] for c in item_columns] for i in items.get((number, record["notice_id"]), [])],
        )
        summary.notices_added += 1
    reply_columns = [c for c in ledgers[0].tables["replies"][0] if c != "id"]
    photo_columns = ledgers[0].tables["reply_photos"][0]
    reply_photos: dict[tuple[int, int], list[tuple]] = {}
    for number, ledger in enumerate(ledgers):
        for row in ledger.tables["reply_photos"][1]:
            reply_photos.setdefault((number, row[0]), []).append(row)
    for number, record in ordered("replies"):
        key = (record["file_hash"], record["notice"])
        if key in known_replies:
            continue
        known_replies.add(key)
        new_id = conn.insert(
            f"INSERT INTO replies ({', '.join(reply_columns)}) "
            f"VALUES ({', '.join('?' for _ in reply_columns)})",
            [record[c] for c in reply_columns],
        )
        # its after-photos, under the reply's id in the target
        conn.insert_many(
            "reply_photos",
            photo_columns,
            [(new_id, *row[1:]) for row in reply_photos.get((number, record["id"]), [])],
        )
        summary.replies_added += 1
    seen: list[dict[tuple, int]] = [{} for _ in ledgers]
    events: list[list] = []
    deadlines: dict[tuple[int, str], tuple[str | None, int]] = {}
    for number, record in ordered("problem_events"):
        fact = tuple(record[c] for c in EVENT_FACT)
        count = seen[number][fact] = seen[number].get(fact, 0) + 1
        workbook = record["workbook"]
        row = target_rows.get(ledgers[number].rows.get(workbook)) if workbook is not None else None
        if row is not None and record["kind"] in (EventKind.FOUND, EventKind.REVISED):
            deadlines[(row, str(record["problem"]).rsplit(":", 1)[-1])] = (
                record["deadline"],
                record["assumed"],
            )
        if count <= facts.get(fact, 0):
            continue  # the target has this fact already (as often as this source has it)
        facts[fact] = facts.get(fact, 0) + 1
        events.append([row if c == "workbook" else record[c] for c in EVENT_COLUMNS])
    conn.insert_many("problem_events", EVENT_COLUMNS, events)
    summary.events_added = len(events)
    return deadlines


def _sync_ledger(
    conn: Connection,
    graded: list[store.Candidate],
    deadlines: dict[tuple[int, str], tuple[str | None, int]],
) -> None:
    """After the sources' ledgers are carried: each site, month and standard that got a new
    graded result is synced as grade syncs it (rectify/ledger.py): nothing changes where the
    ledger's source is already the current result (a site one office graded); where another
    office's newer copy is now current, its problems are revised, found or withdrawn, with the
    deadline that office recorded (else the default 7 days, marked assumed: the standard
    files are not at hand)."""
    from audit_xls.rectify import ledger
    from audit_xls.rectify.policy import DEFAULT_POLICY

    class Carried:
        """The deadline policy of one current row: the one its office recorded."""

        def __init__(self, row: int | None) -> None:
            self.row = row
            self.assumed = bool(assumed.get(row, 1)) if row is not None else True

        def deadline(self, code: str, section: str, inspection: date) -> date:
            got = deadlines.get((self.row, code)) if self.row is not None else None
            if got is not None and got[0]:
                return date.fromisoformat(got[0])
            return DEFAULT_POLICY.deadline(code, section, inspection)

    @dataclass(frozen=True)
    class Known:
        id: str
        rectification: object

    assumed = {row: flag for (row, _), (_, flag) in deadlines.items()}

    now = datetime.now().isoformat(timespec="seconds")
    for site, period, standard_id in sorted(
        {(c.site_code, c.period, c.standard_id) for c in graded}
    ):
        current = ledger._current_row(conn, site, period, standard_id)
        policy = Carried(current[0] if current else None)
        ledger.sync_found(
            conn, site, period, Known(standard_id, policy), now, source=EventSource.MERGE
        )


# --- check ---------------------------------------------------------------------------------


@dataclass
class CheckReport:
    location: str
    version: int
    problems: list[str]
    counts: list[dict[str, object]]  # per period and standard

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "history": self.location,
            "schema_version": self.version,
            "ok": self.ok,
            "problems": self.problems,
            "counts": self.counts,
        }

    def lines(self, lang: str | None = None) -> list[str]:
        from audit_xls.i18n import default_lang, entry, t

        lang = lang or default_lang()
        header = entry("history.check.header", lang)
        widths = [8, 12, 10, 10, 10, 8, 8, 8, 8, 8, 8, 8]
        out = [t("history.check.title", lang, path=self.location, version=self.version)]
        out.append("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
        for c in self.counts:
            values = [c[k] for k in ("period", "standard_id")] + [c[k] for k in COUNT_KEYS]
            out.append("  ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)))
        if self.ok:
            out.append(t("history.check.ok", lang))
        else:
            out.append(t("history.check.found", lang, count=len(self.problems)))
            out.extend(f"- {p}" for p in self.problems)
        return out


# Each check: a query returning offending rows, and what one row means (a message key and
# the names of the row's values).
CHECKS: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...] = (
    (
        f"""SELECT site_code || ' ' || period || ' ' || standard_id, count(*) FROM workbooks
           WHERE status = '{Status.GRADED}' AND superseded = 0
           GROUP BY site_code, period, standard_id HAVING count(*) > 1""",
        ("check.two_current", ("site_month_standard", "count")),
    ),
    (
        """SELECT file_hash, workbook_id, status, count(*) FROM workbooks
           GROUP BY file_hash, workbook_id, status HAVING count(*) > 1""",
        ("check.recorded_twice", ("file_hash", "workbook_id", "status", "count")),
    ),
    (
        """SELECT w.id, w.superseded_by FROM workbooks w
           WHERE w.superseded_by IS NOT NULL
             AND (w.superseded = 0
                  OR NOT EXISTS (SELECT 1 FROM workbooks n WHERE n.id = w.superseded_by))""",
        ("check.superseded_by", ("id", "by")),
    ),
    (
        f"""SELECT w.id, w.file FROM workbooks w WHERE w.status = '{Status.GRADED}'
           AND (NOT EXISTS (SELECT 1 FROM criteria c WHERE c.workbook = w.id)
                OR NOT EXISTS (SELECT 1 FROM sections s WHERE s.workbook = w.id))""",
        ("check.graded_without_scores", ("id", "file")),
    ),
    (
        f"""SELECT w.id, w.file FROM workbooks w WHERE w.status = '{Status.SENT_BACK}'
           AND (w.score IS NOT NULL
                OR EXISTS (SELECT 1 FROM criteria c WHERE c.workbook = w.id))""",
        ("check.sent_back_with_scores", ("id", "file")),
    ),
    (
        " UNION ALL ".join(
            f"""SELECT '{child}', n FROM (SELECT count(*) AS n FROM {child} c
                WHERE NOT EXISTS (SELECT 1 FROM workbooks w WHERE w.id = c.workbook)) AS x
                WHERE n > 0"""
            for child in ("criteria", "sections", "diagnostics")
        ),
        ("check.orphans", ("table", "count")),
    ),
)

# Photo evidence (schema 6): rows of graded workbooks only, each a SHA-256 and a path.
PHOTO_CHECKS: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...] = (
    (
        """SELECT 'photos', n FROM (SELECT count(*) AS n FROM photos p
           WHERE NOT EXISTS (SELECT 1 FROM workbooks w WHERE w.id = p.workbook)) AS x
           WHERE n > 0""",
        ("check.orphans", ("table", "count")),
    ),
    (
        f"""SELECT w.id, w.file, count(*) FROM workbooks w JOIN photos p ON p.workbook = w.id
           WHERE w.status != '{Status.GRADED}' GROUP BY w.id, w.file""",
        ("check.photos_not_graded", ("id", "file", "count")),
    ),
    (
        """SELECT p.workbook, p.seq, p.sha256 FROM photos p
           WHERE length(p.sha256) != 64 OR p.path = ''""",
        ("check.photo_row", ("id", "seq", "sha256")),
    ),
)

# The rectification ledger's checks (histories of schema 3 and later): references, events
# that fit their kind, every problem's story starting with `found`, every 不符合 of a current
# result in the ledger.
LEDGER_REFERENCES = (
    ("problem_events", "problem", "problems", "id"),
    ("notice_items", "notice", "notices", "notice_id"),
    ("notice_items", "problem", "problems", "id"),
    ("replies", "notice", "notices", "notice_id"),
    ("problems", "workbook_id", "workbooks", "workbook_id"),
)


def _reference_check(
    table: str, column: str, parent: str, key: str
) -> tuple[str, tuple[str, tuple[str, ...]]]:
    return (
        f"""SELECT '{table}', '{column}', '{parent}', n FROM (SELECT count(*) AS n
            FROM {table} c
            WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = c.{column})) AS x
            WHERE n > 0""",
        ("check.ledger_reference", ("table", "column", "parent", "count")),
    )


LEDGER_CHECKS: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...] = (
    *(_reference_check(*reference) for reference in LEDGER_REFERENCES),
    (
        """SELECT e.problem, e.id, e.workbook FROM problem_events e
           WHERE e.workbook IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM workbooks w WHERE w.id = e.workbook)""",
        ("check.event_workbook", ("problem", "id", "workbook")),
    ),
    (
        """SELECT p.id FROM problems p
           WHERE NOT EXISTS (SELECT 1 FROM problem_events e WHERE e.problem = p.id)""",
        ("check.problem_without_events", ("problem",)),
    ),
    (
        f"""SELECT e.problem, e.id, e.kind FROM problem_events e
           WHERE e.id = (SELECT min(f.id) FROM problem_events f WHERE f.problem = e.problem)
             AND e.kind != '{EventKind.FOUND}'""",
        ("check.first_event", ("problem", "id", "kind")),
    ),
    (
        f"""SELECT w.id, w.file, c.code FROM workbooks w JOIN criteria c ON c.workbook = w.id
           WHERE w.status = '{Status.GRADED}' AND w.superseded = 0 AND c.result = '{Result.FAIL}'
             AND NOT EXISTS (SELECT 1 FROM problems p
                             WHERE p.workbook_id = w.workbook_id AND p.code = c.code)""",
        ("check.problem_missing", ("id", "file", "code")),
    ),
)


def _event_statuses() -> dict[EventKind, tuple[ProblemStatus, ...]]:
    """The statuses an event of each kind may leave its problem in (a stored kind or status,
    a plain str, is looked up as its member: a code hashes and compares as its text)."""
    from audit_xls.rectify import ledger as lg

    return {
        EventKind.FOUND: (lg.OPEN,),
        EventKind.REVISED: tuple(s for s in lg.STATUSES if s != lg.WITHDRAWN),
        EventKind.WITHDRAWN: (lg.WITHDRAWN,),
        EventKind.NOTIFIED: lg.UNCLOSED,
        EventKind.REPLIED: (lg.IN_PROGRESS, lg.CLAIMED, lg.CANNOT_FIX),
        EventKind.VERIFIED: (lg.CLOSED,),
        EventKind.REOPENED: (lg.OPEN,),
    }


# The after-photos of replies (schema 7).
REPLY_PHOTO_CHECKS = (
    _reference_check("reply_photos", "reply", "replies", "id"),
    _reference_check("reply_photos", "problem", "problems", "id"),
    (
        """SELECT p.reply, p.seq, p.sha256 FROM reply_photos p
           WHERE length(p.sha256) != 64 OR p.path = ''""",
        ("check.reply_photo_row", ("reply", "seq", "sha256")),
    ),
)


# The ledger's months (read back as Periods: model/period.stored_period): (table, key, month).
LEDGER_MONTHS = (
    ("problems", "id", "period"),
    ("notices", "notice_id", "period"),
    ("notice_items", "problem", "found_period"),
)


def _said(lang: str, key: str, /, **values: object) -> str:
    """A message of the catalogue (history.*) in `lang`."""
    from audit_xls.i18n import t

    return t(f"history.{key}", lang, **values)


def _ledger_problems(conn: Connection, lang: str) -> list[str]:
    problems = []
    checks = LEDGER_CHECKS
    if "reply_photos" in conn.table_names():
        checks = (*checks, *REPLY_PHOTO_CHECKS)
    for sql, (key, names) in checks:
        for row in conn.execute(sql).fetchall():
            problems.append(_said(lang, key, **dict(zip(names, row, strict=True))))
    for table, key, column in LEDGER_MONTHS:
        for ident, month in conn.execute(
            f"SELECT {key}, {column} FROM {table} ORDER BY {key}"
        ).fetchall():
            try:
                stored_period(month)
            except PeriodError:
                problems.append(
                    _said(lang, "check.ledger_month", table=table, id=ident, month=str(month))
                )
    allowed = _event_statuses()
    for problem, event, kind, status in conn.execute(
        "SELECT problem, id, kind, status FROM problem_events ORDER BY id"
    ).fetchall():
        if kind not in allowed:
            problems.append(_said(lang, "check.event_kind", problem=problem, id=event, kind=kind))
        elif status not in allowed[kind]:
            problems.append(
                _said(
                    lang, "check.event_status", problem=problem, id=event, kind=kind, status=status
                )
            )
    return problems


# Per period and standard: problems found, still to be fixed (open, in progress, claimed,
# cannot fix), closed at a re-check; notices issued and replies recorded.
_UNCLOSED = ", ".join(
    f"'{s}'"
    for s in (
        ProblemStatus.OPEN,
        ProblemStatus.IN_PROGRESS,
        ProblemStatus.CLAIMED,
        ProblemStatus.CANNOT_FIX,
    )
)
LEDGER_COUNTS = f"""
SELECT p.period, p.standard_id, count(*),
       sum(CASE WHEN s.status IN ({_UNCLOSED})
           THEN 1 ELSE 0 END),
       sum(CASE WHEN s.status = '{ProblemStatus.CLOSED}' THEN 1 ELSE 0 END)
FROM problems p JOIN (
    SELECT e.problem, e.status FROM problem_events e
    WHERE e.id = (SELECT max(f.id) FROM problem_events f WHERE f.problem = e.problem)
) s ON s.problem = p.id
GROUP BY p.period, p.standard_id
"""
DOCUMENT_COUNTS = """
SELECT n.period, n.standard_id, count(*),
       sum((SELECT count(*) FROM replies r WHERE r.notice = n.notice_id))
FROM notices n GROUP BY n.period, n.standard_id
"""
# Photos of the current graded results.
PHOTO_COUNTS = f"""
SELECT w.period, w.standard_id, count(*) FROM photos p JOIN workbooks w ON w.id = p.workbook
WHERE w.status = '{Status.GRADED}' AND w.superseded = 0 GROUP BY w.period, w.standard_id
"""
LEDGER_KEYS = ("problems", "unclosed", "closed", "notices", "replies")
COUNT_KEYS = ("graded", "superseded", "sent_back", "issued", *LEDGER_KEYS, "photos")

COUNTS = f"""
SELECT period, standard_id,
       sum(CASE WHEN status = '{Status.GRADED}' AND superseded = 0 THEN 1 ELSE 0 END),
       sum(CASE WHEN status = '{Status.GRADED}' AND superseded = 1 THEN 1 ELSE 0 END),
       sum(CASE WHEN status = '{Status.SENT_BACK}' THEN 1 ELSE 0 END)
FROM workbooks GROUP BY period, standard_id ORDER BY period, standard_id
"""


def _count_row(period: str, standard_id: str, **counts: int) -> dict[str, object]:
    """A month and standard's counts for `history check` (what is not given: 0). The month as
    stored: the check shows the history as it is."""
    return {"period": period, "standard_id": standard_id} | {
        key: counts.get(key, 0) for key in COUNT_KEYS
    }


def check(location: str | Path, lang: str | None = None) -> CheckReport:
    """Integrity checks and counts, the problems worded in `lang` (default $AUDIT_XLS_LANG's);
    raises HistoryError when it is no readable history."""
    from audit_xls.i18n import default_lang

    lang = lang or default_lang()
    with store._connect_read(location) as conn:
        problems: list[str] = []
        if conn.dialect is SQLITE:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems.extend(_said(lang, "check.integrity", result=r) for r in result)
            for row in conn.execute("PRAGMA foreign_key_check").fetchall():
                problems.append(
                    _said(lang, "check.foreign_key", table=row[0], row=row[1], parent=row[2])
                )
        for sql, (key, names) in CHECKS:
            for row in conn.execute(sql).fetchall():
                problems.append(_said(lang, key, **dict(zip(names, row, strict=True))))
        decimals = conn.execute(
            f"SELECT id, score, max_score, percent FROM workbooks WHERE status = '{Status.GRADED}'"
        ).fetchall()
        for row in decimals:
            for value in row[1:]:
                try:
                    Decimal(value)
                except (InvalidOperation, TypeError):
                    problems.append(_said(lang, "check.not_decimal", id=row[0], value=repr(value)))
                    break
        photo_counts: dict[tuple[str, str], int] = {}
        if "photos" in conn.table_names():
            for sql, (key, names) in PHOTO_CHECKS:
                for row in conn.execute(sql).fetchall():
                    problems.append(_said(lang, key, **dict(zip(names, row, strict=True))))
            for period, standard_id, n in conn.execute(PHOTO_COUNTS).fetchall():
                photo_counts[(period, standard_id)] = int(n)
        ledger_counts: dict[tuple[str, str], list[int]] = {}
        if store.has_ledger(conn):
            problems.extend(_ledger_problems(conn, lang))
            for period, standard_id, *values in conn.execute(LEDGER_COUNTS).fetchall():
                ledger_counts[(period, standard_id)] = [int(v or 0) for v in values] + [0, 0]
            for period, standard_id, notices, replies in conn.execute(DOCUMENT_COUNTS).fetchall():
                entry = ledger_counts.setdefault((period, standard_id), [0, 0, 0, 0, 0])
                entry[3:] = [int(notices or 0), int(replies or 0)]
        issued = dict(
            ((p, s), n)
            for p, s, n in conn.execute(
                "SELECT period, standard_id, count(*) FROM issued GROUP BY period, standard_id"
            ).fetchall()
        )
        counts = []
        for period, standard_id, graded, superseded, sent_back in conn.execute(COUNTS):
            counts.append(
                _count_row(
                    period,
                    standard_id,
                    graded=int(graded),
                    superseded=int(superseded),
                    sent_back=int(sent_back),
                    issued=int(issued.pop((period, standard_id), 0)),
                )
            )
        for (period, standard_id), n in sorted(issued.items()):
            counts.append(_count_row(period, standard_id, issued=int(n)))
        for entry in counts:
            values = ledger_counts.pop((entry["period"], entry["standard_id"]), [0] * 5)
            entry.update(zip(LEDGER_KEYS, values, strict=True))
            entry["photos"] = photo_counts.get((entry["period"], entry["standard_id"]), 0)
        for (period, standard_id), values in sorted(ledger_counts.items()):
            counts.append(
                _count_row(period, standard_id, **dict(zip(LEDGER_KEYS, values, strict=True)))
            )
        counts.sort(key=lambda c: (str(c["period"]), str(c["standard_id"])))
        return CheckReport(conn.shown, conn.schema_version(), problems, counts)
