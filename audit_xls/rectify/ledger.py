"""The rectification ledger: problems and the events of their lives, in the history.

A problem is one 不符合 of a current graded workbook; its id is `workbook_id:criterion code`.
`problems` holds what never changes (site, month, criterion); everything else is an event in
`problem_events`, appended, never updated: found, revised (a resubmission changed it),
withdrawn (a resubmission no longer fails it), notified (on a 整改通知单), replied (the site's
answer), verified (复查: fixed), reopened (复查: not fixed). `replay` folds the events into
each problem's state, so the ledger can always be rebuilt and audited.

SQL is kept portable (standard SQL, `?` parameters through the history's connection): no
INSERT OR IGNORE, no date functions; dates are ISO text computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from audit_xls.model.codes import EventKind, EventSource, ProblemStatus, Result, Status
from audit_xls.model.period import Period, stored_period
from audit_xls.rectify.policy import DEFAULT_DAYS, policy_of

# Statuses (codes stored in the history: model/codes.ProblemStatus).
OPEN = ProblemStatus.OPEN  # 待整改
IN_PROGRESS = ProblemStatus.IN_PROGRESS  # 整改中
CLAIMED = ProblemStatus.CLAIMED  # 已整改待复查
CANNOT_FIX = ProblemStatus.CANNOT_FIX  # 无法整改
CLOSED = ProblemStatus.CLOSED  # 已整改 (verified at 复查)
WITHDRAWN = ProblemStatus.WITHDRAWN  # a resubmission no longer fails it
STATUSES = tuple(ProblemStatus)
# Labels: the catalogue's rectify.status.<code> (audit_xls/i18n).
# Still to be followed: on notices, in 复查 sections, counted overdue past the deadline.
UNCLOSED = (OPEN, IN_PROGRESS, CLAIMED, CANNOT_FIX)
OVERDUE_STATUSES = (OPEN, IN_PROGRESS)

EVENT_KINDS = tuple(EventKind)
RECHECK_KINDS = (EventKind.VERIFIED, EventKind.REOPENED)

# Appended to history.store.MIGRATIONS (schema version 3). Never edit once shipped.
MIGRATION = """
CREATE TABLE problems (
    id TEXT PRIMARY KEY,
    workbook_id TEXT NOT NULL,
    code TEXT NOT NULL,
    section_code TEXT NOT NULL,
    text TEXT NOT NULL,
    site_code TEXT NOT NULL,
    site_name TEXT NOT NULL,
    region TEXT NOT NULL,
    period TEXT NOT NULL,
    standard_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX problems_site ON problems (site_code, period, standard_id);
CREATE TABLE problem_events (
    id INTEGER PRIMARY KEY,
    problem TEXT NOT NULL REFERENCES problems(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    event_date TEXT NOT NULL,
    deadline TEXT,
    assumed INTEGER NOT NULL DEFAULT 0,
    problem_points INTEGER,
    deduction TEXT,
    note TEXT NOT NULL DEFAULT '',
    measure TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    done_date TEXT,
    late INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '',
    document_id TEXT NOT NULL DEFAULT '',
    workbook INTEGER REFERENCES workbooks(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX problem_events_problem ON problem_events (problem, id);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    notice_id TEXT NOT NULL UNIQUE,
    site_code TEXT NOT NULL,
    site_name TEXT NOT NULL,
    region TEXT NOT NULL,
    period TEXT NOT NULL,
    standard_id TEXT NOT NULL,
    standard_version TEXT NOT NULL,
    standard_hash TEXT NOT NULL,
    template TEXT NOT NULL,
    file TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    inspection_date TEXT,
    inspector TEXT NOT NULL,
    score TEXT,
    grade TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE notice_items (
    notice TEXT NOT NULL REFERENCES notices(notice_id),
    row_index INTEGER NOT NULL,
    problem TEXT NOT NULL REFERENCES problems(id),
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    note TEXT NOT NULL,
    problem_points INTEGER,
    deduction TEXT,
    found_period TEXT NOT NULL,
    inspection_date TEXT,
    deadline TEXT NOT NULL,
    reopened INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (notice, row_index)
);
CREATE TABLE replies (
    id INTEGER PRIMARY KEY,
    notice TEXT NOT NULL REFERENCES notices(notice_id),
    file TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    replied_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (file_hash, notice)
)
"""

EVENT_COLUMNS = (
    "problem",
    "kind",
    "status",
    "event_date",
    "deadline",
    "assumed",
    "problem_points",
    "deduction",
    "note",
    "measure",
    "owner",
    "done_date",
    "late",
    "source",
    "file",
    "document_id",
    "workbook",
    "recorded_at",
)
# What makes two events the same fact, whichever history recorded it (history merge): every
# column but the row's links (workbook), when and by what it was recorded (recorded_at, source)
# and the file's name (an office may have named the same return otherwise).
NOT_FACT = ("workbook", "recorded_at", "source", "file")
EVENT_FACT = tuple(c for c in EVENT_COLUMNS if c not in NOT_FACT)


def problem_id(workbook_id: str, code: str) -> str:
    return f"{workbook_id}:{code}"


# A column an event does not give (or gives as None) takes the schema's default.
EVENT_DEFAULTS = {
    "assumed": 0,
    "late": 0,
    "note": "",
    "measure": "",
    "owner": "",
    "file": "",
    "document_id": "",
}
EVENT_INSERT = (
    f"INSERT INTO problem_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)


_EVENT_BLANK = {c: EVENT_DEFAULTS.get(c) for c in EVENT_COLUMNS}
_event_values = itemgetter(*EVENT_COLUMNS)


def event_row(recorded_at: str, **values: Any) -> tuple[Any, ...]:
    """An event's row in EVENT_COLUMNS order (recorded_at: the batch's time unless given)."""
    row = _EVENT_BLANK | {"recorded_at": recorded_at}
    row.update({c: v for c, v in values.items() if v is not None})
    return _event_values(row)


def add_event(conn: Any, recorded_at: str, **values: Any) -> None:
    """Append one event (the only way the ledger changes)."""
    conn.execute(EVENT_INSERT, event_row(recorded_at, **values))


# --- found: from the current graded result of a site, month and standard -------------------


class Failed(NamedTuple):
    """One failed criterion of a graded row, as the ledger takes it."""

    code: str
    section_code: str
    text: str
    problem_points: int
    deduction: str
    note: str


PROBLEM_COLUMNS = (
    "id",
    "workbook_id",
    "code",
    "section_code",
    "text",
    "site_code",
    "site_name",
    "region",
    "period",
    "standard_id",
    "recorded_at",
)
# (site_code, month, standard): a site's month graded against a standard. The month is a
# Period (written as its YYYY-MM text), or for the migration's backfill the month's text
# exactly as an older history stored it, so it finds its rows; the standard: anything with
# `id` and the `rectification` policy_of reads.
SiteMonth = tuple[str, Any, Any]


def _chunks(items: Sequence[Any], size: int = 400) -> list[Sequence[Any]]:
    """`items` in slices small enough for one statement's parameters on either database."""
    return [items[i : i + size] for i in range(0, len(items), size)]


# A SiteMonth's key: (site_code, the month's text, standard id).
Key = tuple[str, str, str]


def _by_month(keys: Iterable[tuple[str, Any, str]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """For each month and standard of `keys` (site_code, month, standard id), its sites by the
    hundred: a condition on `{p}period`, `{p}standard_id` and `{p}site_code` (equality each, as
    for one site; `p` the table's alias and a dot, or nothing) and its parameters."""
    groups: dict[tuple[str, str], tuple[Any, list[str]]] = {}
    for site_code, period, standard_id in keys:
        groups.setdefault((str(period), standard_id), (period, []))[1].append(site_code)
    for (_, standard_id), (period, sites) in groups.items():
        for chunk in _chunks(sorted(set(sites))):
            marks = ", ".join("?" for _ in chunk)
            yield (
                f"{{p}}period = ? AND {{p}}standard_id = ? AND {{p}}site_code IN ({marks})",
                (period, standard_id, *chunk),
            )


def _current_rows(conn: Any, keys: Sequence[tuple[str, Any, str]]) -> dict[Key, tuple]:
    """The current graded row of each of `keys` (site_code, month, standard id), the newest
    not superseded: id, workbook_id, site_name, region, inspection_date, file."""
    found: dict[Key, tuple] = {}
    for where, params in _by_month(keys):
        month, standard_id = str(params[0]), params[1]
        for row in conn.execute(
            "SELECT id, site_code, workbook_id, site_name, region, inspection_date, file"
            f" FROM workbooks WHERE status = '{Status.GRADED}' AND superseded = 0"
            f" AND {where.format(p='')}",
            params,
        ).fetchall():
            key = (row[1], month, standard_id)
            if key not in found or row[0] > found[key][0]:
                found[key] = (row[0], *row[2:])
    return found


def _current_row(conn: Any, site_code: str, period: Period | str, standard_id: str) -> tuple | None:
    """The current graded row of one site, month and standard (see _current_rows)."""
    key = (site_code, period, standard_id)
    return _current_rows(conn, [key]).get((site_code, str(period), standard_id))


def failures(criteria: Iterable[Sequence[Any]]) -> dict[int, list[Failed]]:
    """Criteria rows (workbook, code, section_code, text, result, problem_points, deduction,
    note: the table's columns) -> each workbook row's failed criteria, in code order (of
    code points, as SQLite orders text, whatever a PostgreSQL server's collation)."""
    found: dict[int, list[Failed]] = {}
    for row in criteria:
        if row[4] == Result.FAIL:
            row_id, code, section, text, _, points, deduction, note = row
            one = Failed(code, section, text, points, deduction, note or "")
            found.setdefault(row_id, []).append(one)
    for failed in found.values():
        failed.sort()  # by code: unique in a workbook
    return found


def _failed_of_rows(conn: Any, row_ids: Sequence[int]) -> dict[int, list[Failed]]:
    """Graded row id -> its failed criteria (failures), read from the history."""
    found: dict[int, list[Failed]] = {row_id: [] for row_id in row_ids}
    for chunk in _chunks(sorted(found)):
        found.update(
            failures(
                conn.execute(
                    "SELECT workbook, code, section_code, text, result, problem_points,"
                    f" deduction, note FROM criteria WHERE result = '{Result.FAIL}'"
                    f" AND workbook IN ({', '.join('?' for _ in chunk)})",
                    tuple(chunk),
                ).fetchall()
            )
        )
    return found


def _states_of(
    conn: Any, keys: Sequence[tuple[str, Any, str]]
) -> dict[Key, dict[str, ProblemState]]:
    """The problems of each of `keys` (site_code, month, standard id), replayed, in replay's
    order."""
    found: dict[Key, dict[str, ProblemState]] = {}
    for where, params in _by_month(keys):
        month, standard_id = str(params[0]), params[1]
        for pid, state in replay(conn, where=where.format(p="p."), params=params).items():
            found.setdefault((state.site_code, month, standard_id), {})[pid] = state
    return found


def sync_found(
    conn: Any,
    site_code: str,
    period: Period | str,
    standard: Any,
    recorded_at: str,
    *,
    source: EventSource = EventSource.INSPECTION,
) -> int:
    """sync_all for one site, month and standard."""
    return sync_all(conn, [(site_code, period, standard)], recorded_at, source=source)


def sync_all(
    conn: Any,
    keys: Iterable[SiteMonth],
    recorded_at: str,
    *,
    source: EventSource = EventSource.INSPECTION,
    failed: Mapping[int, list[Failed]] | None = None,
) -> int:
    """Bring the problems of each site, month and standard in `keys` in line with its current
    graded result: new failures found, changed ones revised, vanished ones withdrawn. Returns
    the number of events added (none for a key whose current result was already the ledger's
    source, or that has no current result).

    Each key is synced once (the first of repeated ones), and their events are appended in
    the order of `keys`. The history is read in a few queries for all keys (per month and
    standard, sites by the hundred) and the new rows written in bulk: a key's problems are
    its own (their ids name its workbook), so syncing them together writes what syncing them
    one after the other would. `failed`: the failures of graded rows the caller has just
    written (failures of their criteria rows), so they are not read back."""
    todo: dict[Key, SiteMonth] = {}
    for site_code, period, standard in keys:
        todo.setdefault((site_code, str(period), standard.id), (site_code, period, standard))
    if not todo:
        return 0
    wanted = [(site_code, period, standard.id) for site_code, period, standard in todo.values()]
    current = _current_rows(conn, wanted)
    states_of = _states_of(conn, wanted)
    known = failed or {}
    failed_of = {
        **_failed_of_rows(conn, [row[0] for row in current.values() if row[0] not in known]),
        **known,
    }
    problems: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for key, (site_code, period, standard) in todo.items():
        row = current.get(key)
        if row is None:
            continue
        row_id, workbook_id, site_name, region, inspected, file = row
        states = states_of.get(key, {})
        policy = policy_of(standard)
        assumed = 1 if policy.assumed else 0
        inspection = date.fromisoformat(inspected) if inspected else None
        failing = {problem_id(workbook_id, f.code): f for f in failed_of[row_id]}
        for pid, f in failing.items():
            state = states.get(pid)
            if state is not None and state.source_row == row_id and state.status != WITHDRAWN:
                continue
            deadline = (
                policy.deadline(f.code, f.section_code, inspection).isoformat()
                if inspection
                else None
            )
            if state is None:
                problems.append(
                    (pid, workbook_id, f.code, f.section_code, f.text, site_code, site_name,
                     region, period, standard.id, recorded_at)
                )  # fmt: skip
            found = state is None or state.status == WITHDRAWN
            events.append(
                event_row(
                    recorded_at,
                    problem=pid,
                    kind=EventKind.FOUND if found else EventKind.REVISED,
                    status=OPEN if found else state.status,  # type: ignore[union-attr]
                    event_date=inspected or recorded_at[:10],
                    deadline=deadline,
                    assumed=assumed,
                    problem_points=f.problem_points,
                    deduction=f.deduction,
                    note=f.note,
                    source=source,
                    file=file,
                    document_id=workbook_id,
                    workbook=row_id,
                )
            )
        for pid, state in states.items():
            if pid in failing or state.status == WITHDRAWN:
                continue
            events.append(
                event_row(
                    recorded_at,
                    problem=pid,
                    kind=EventKind.WITHDRAWN,
                    status=WITHDRAWN,
                    event_date=inspected or recorded_at[:10],
                    source=source,
                    file=file,
                    document_id=workbook_id,
                    workbook=row_id,
                )
            )
    conn.insert_many("problems", PROBLEM_COLUMNS, problems)
    conn.insert_many("problem_events", EVENT_COLUMNS, events)
    return len(events)


def record_found(
    conn: Any,
    graded: Iterable[Any],
    recorded_at: str,
    failed: Mapping[int, list[Failed]] | None = None,
) -> int:
    """The ledger's part of recording a grade batch (called inside its transaction):
    every site, month and standard with a newly recorded graded result is synced (`failed`:
    see sync_all). A result whose month is not YYYY-MM (a forged manifest: `period` None, its
    text kept as found in the history) opens no problems: the ledger's months are Periods,
    and `monthly` leaves such a month out too."""
    return sync_all(
        conn,
        ((w.site_code, w.period, w.standard) for w in graded if w.period is not None),
        recorded_at,
        failed=failed,
    )


def record_rechecks(conn: Any, graded: Iterable[Any], recorded_at: str) -> int:
    """The 复查 verdicts of newly recorded graded results: 已整改 closes a problem (verified
    on the inspection date), 未整改 reopens it (a repeat) with a new deadline counted from
    that date. A problem this history does not know (a workbook built from another history)
    is left alone; a resubmitted workbook's verdict replaces its earlier one.

    The problems named are replayed in a few queries for the batch, and each workbook's
    verdicts are weighed against their states as the workbooks before it left them (their
    events folded in, as reading them back would); the events are written in bulk."""
    todo = [(w, list(getattr(w, "rechecks", None) or [])) for w in graded]
    todo = [(w, verdicts) for w, verdicts in todo if verdicts]
    if not todo:
        return 0
    from audit_xls.rectify.recheck import FIXED

    ids = sorted({v.problem for _, verdicts in todo for v in verdicts})
    states: dict[str, ProblemState] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" for _ in chunk)
        states.update(replay(conn, where=f"p.id IN ({marks})", params=chunk))
    events: list[tuple[Any, ...]] = []
    earlier: dict[str, list[tuple[Any, ...]]] = {}  # events of workbooks before, not folded yet
    for w, verdicts in todo:
        policy = policy_of(w.standard)
        inspected = w.inspection_date or date.fromisoformat(recorded_at[:10])
        made = []
        for verdict in verdicts:
            state = states.get(verdict.problem)
            if state is None:
                continue
            for row in earlier.pop(state.id, ()):  # their id is not known before the insert
                _fold(state, (row[0], 0, *row[1:]))
            last = next((e for e in reversed(state.events) if e.kind in RECHECK_KINDS), None)
            again = last is not None and last.document_id == w.workbook_id
            if state.status not in UNCLOSED and not again:
                continue  # closed or withdrawn before this inspection
            fixed = verdict.verdict == FIXED
            if again and last is not None and (last.kind == EventKind.VERIFIED) == fixed:
                continue  # the resubmission says the same
            deadline = (
                None
                if fixed
                else policy.deadline(state.code, state.section_code, inspected).isoformat()
            )
            row = event_row(
                recorded_at,
                problem=state.id,
                kind=EventKind.VERIFIED if fixed else EventKind.REOPENED,
                status=CLOSED if fixed else OPEN,
                event_date=inspected.isoformat(),
                deadline=deadline,
                note=verdict.note,
                source=EventSource.RECHECK,
                file=w.file,
                document_id=w.workbook_id,
            )
            events.append(row)
            made.append(row)
        for row in made:
            earlier.setdefault(row[0], []).append(row)
    conn.insert_many("problem_events", EVENT_COLUMNS, events)
    return len(events)


def record_graded(
    conn: Any,
    graded: Sequence[Any],
    recorded_at: str,
    failed: Mapping[int, list[Failed]] | None = None,
) -> int:
    """The ledger's part of recording a grade batch (inside its transaction, on the history's
    backend.Connection): problems found, revised or withdrawn, then the 复查 verdicts; a few
    queries and bulk inserts for the batch."""
    return record_found(conn, graded, recorded_at, failed) + record_rechecks(
        conn, graded, recorded_at
    )


def backfill(conn: Any, recorded_at: str) -> None:
    """Migration to version 3: the problems of every current graded result already in the
    history, found on their inspection date, deadline after DEFAULT_DAYS (assumed: the
    standard files are not at hand when the history is opened)."""
    from audit_xls.rectify.policy import DEFAULT_POLICY

    class _Known:
        def __init__(self, ident: str) -> None:
            self.id = ident
            self.rectification = DEFAULT_POLICY

    rows = conn.execute(
        f"""SELECT DISTINCT site_code, period, standard_id FROM workbooks
           WHERE status = '{Status.GRADED}' AND superseded = 0
           ORDER BY period, site_code, standard_id"""
    ).fetchall()
    known: dict[str, _Known] = {}
    sync_all(  # the month as stored: it finds its rows
        conn,
        [(site, period, known.setdefault(ident, _Known(ident))) for site, period, ident in rows],
        recorded_at,
        source=EventSource.MIGRATION,
    )


def implied_states(conn: Any, recorded_at: str = "") -> dict[str, ProblemState]:
    """For a history older than the ledger (read-only: not migrated), the states its
    migration would record: every 不符合 of a current graded result found on its inspection
    date, due DEFAULT_DAYS later (assumed). So `monthly` shows the same for a history before
    and after its upgrade."""
    from audit_xls.rectify.policy import DEFAULT_POLICY

    states: dict[str, ProblemState] = {}
    rows = conn.execute(
        f"""SELECT w.id, w.workbook_id, w.site_code, w.site_name, w.region, w.period,
                  w.standard_id, w.inspection_date, w.file, c.code, c.section_code, c.text,
                  c.problem_points, c.deduction, c.note
           FROM workbooks w JOIN criteria c ON c.workbook = w.id
           WHERE w.status = '{Status.GRADED}' AND w.superseded = 0
             AND c.result = '{Result.FAIL}'
           ORDER BY w.period, w.site_code, c.code"""
    ).fetchall()
    for (
        row_id,
        workbook_id,
        site,
        name,
        region,
        period,
        standard_id,
        inspected,
        file,
        code,
        section,
        text,
        points,
        deduction,
        note,
    ) in rows:
        pid = problem_id(workbook_id, code)
        deadline = (
            DEFAULT_POLICY.deadline(code, section, date.fromisoformat(inspected)).isoformat()
            if inspected
            else None
        )
        state = ProblemState(
            pid,
            workbook_id,
            code,
            section,
            text,
            site,
            name,
            region,
            stored_period(period),
            standard_id,
        )
        state.inspection_date, state.deadline, state.assumed = inspected, deadline, True
        state.problem_points, state.deduction, state.note = points, deduction, note or ""
        state.source_row = row_id
        state.events.append(
            Event(
                0,
                EventKind.FOUND,
                OPEN,
                inspected or "",
                EventSource.MIGRATION,
                file,
                workbook_id,
                recorded_at,
                deadline,
            )
        )
        states[pid] = state
    return states


# --- replay: events folded into states ------------------------------------------------------


@dataclass
class Event:
    id: int
    kind: EventKind
    status: ProblemStatus
    event_date: str
    source: str  # an EventSource, as stored
    file: str
    document_id: str
    recorded_at: str
    deadline: str | None = None
    measure: str = ""
    owner: str = ""
    done_date: str | None = None
    note: str = ""
    late: bool = False


@dataclass
class ProblemState:
    """One problem as its events leave it."""

    id: str
    workbook_id: str
    code: str
    section_code: str
    text: str
    site_code: str
    site_name: str
    region: str
    period: Period  # the month it was found in
    standard_id: str
    status: ProblemStatus = OPEN
    inspection_date: str | None = None
    deadline: str | None = None
    assumed: bool = False
    problem_points: int | None = None
    deduction: str | None = None
    note: str = ""
    source_row: int | None = None
    notified_on: str | None = None
    notice_id: str = ""
    replied_on: str | None = None
    reply_status: ProblemStatus | None = None  # the status the reply claimed; None before one
    measure: str = ""
    owner: str = ""
    done_date: str | None = None
    reply_note: str = ""
    late: bool = False
    rechecked_on: str | None = None
    closed_on: str | None = None
    reopened: int = 0
    events: list[Event] = field(default_factory=list)

    def overdue_days(self, today: date) -> int:
        """Days past the deadline while still open or in progress (0 when not overdue)."""
        if self.status not in OVERDUE_STATUSES or not self.deadline:
            return 0
        return max(0, (today - date.fromisoformat(self.deadline)).days)

    @property
    def days_to_close(self) -> int | None:
        if self.status != CLOSED or not self.closed_on or not self.inspection_date:
            return None
        found = date.fromisoformat(self.inspection_date)
        return (date.fromisoformat(self.closed_on) - found).days


def replay(conn: Any, *, where: str = "", params: Sequence[Any] = ()) -> dict[str, ProblemState]:
    """Every problem (optionally filtered on `problems p`) with its events folded, in order."""
    clause = f" WHERE {where}" if where else ""
    states: dict[str, ProblemState] = {}
    periods: dict[Any, Period] = {}  # each stored month read once
    for row in conn.execute(
        "SELECT p.id, p.workbook_id, p.code, p.section_code, p.text, p.site_code, p.site_name,"
        f" p.region, p.period, p.standard_id FROM problems p{clause} ORDER BY p.period,"
        " p.site_code, p.code",
        tuple(params),
    ):
        period = periods.get(row[8])
        if period is None:
            period = periods[row[8]] = stored_period(row[8])
        states[row[0]] = ProblemState(*row[:8], period, row[9])
    if not states:
        return states
    events = conn.execute(
        "SELECT e.problem, e.id, e.kind, e.status, e.event_date, e.deadline, e.assumed,"
        " e.problem_points, e.deduction, e.note, e.measure, e.owner, e.done_date, e.late,"
        " e.source, e.file, e.document_id, e.workbook, e.recorded_at"
        f" FROM problem_events e JOIN problems p ON p.id = e.problem{clause} ORDER BY e.id",
        tuple(params),
    )
    for row in events:
        _fold(states[row[0]], row)
    return states


def _fold(state: ProblemState, row: Sequence[Any]) -> None:
    """One event folded into its problem's state: `row` as replay reads it (problem, id, then
    EVENT_COLUMNS' others)."""
    (_, eid, kind, status, when, deadline, assumed, points, deduction, note, measure, owner,
     done, late, source, file, document, workbook, recorded) = row  # fmt: skip
    kind, status = EventKind.stored(kind), ProblemStatus.stored(status)
    state.events.append(
        Event(
            eid,
            kind,
            status,
            when,
            source,
            file,
            document,
            recorded,
            deadline,
            measure,
            owner,
            done,
            note,
            bool(late),
        )
    )
    state.status = status
    if kind in (EventKind.FOUND, EventKind.REVISED):
        state.inspection_date = when
        state.deadline = deadline
        state.assumed = bool(assumed)
        state.problem_points = points
        state.deduction = deduction
        state.note = note
        state.source_row = workbook
        if kind == EventKind.FOUND:
            state.closed_on = None
    elif kind == EventKind.NOTIFIED:
        state.notified_on = when
        state.notice_id = document
    elif kind == EventKind.REPLIED:
        state.replied_on = when
        state.reply_status = status
        state.measure, state.owner, state.done_date = measure, owner, done
        state.reply_note = note
        state.late = bool(late)
    elif kind == EventKind.VERIFIED:
        state.rechecked_on = when
        state.closed_on = when
    elif kind == EventKind.REOPENED:
        state.rechecked_on = when
        state.reopened += 1
        state.deadline = deadline or state.deadline
    elif kind == EventKind.WITHDRAWN:
        state.closed_on = None


def status_label(status: str, lang: str = "zh") -> str:
    from audit_xls.i18n import t

    return t(f"rectify.status.{status}", lang)


def decimal_or_none(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def deadline_after(day: date, days: int = DEFAULT_DAYS) -> date:
    return day + timedelta(days=days)


def problem_photos(
    conn: Any, states: dict[str, ProblemState]
) -> dict[str, tuple[list[str], list[str]]]:
    """problem id -> (before, after): the photo files of its finding (table photos, the
    current graded result of its site, month and standard) and the after-photos of the
    replies about it (table reply_photos, oldest reply first), as the history recorded them.
    A history older than either table has none of its kind."""
    tables = set(conn.table_names())
    out: dict[str, tuple[list[str], list[str]]] = {}
    if "photos" in tables and states:
        wanted = {(s.site_code, s.period, s.standard_id, s.code): pid for pid, s in states.items()}
        periods = sorted({s.period for s in states.values()})
        marks = ", ".join("?" for _ in periods)
        _, rows = conn.query(
            f"""SELECT w.site_code, w.period, w.standard_id, p.criterion, p.path FROM photos p
                JOIN workbooks w ON w.id = p.workbook
                WHERE w.status = '{Status.GRADED}' AND w.superseded = 0
                  AND w.period IN ({marks})
                ORDER BY w.id, p.seq""",
            periods,
        )
        for site, period, standard, code, path in rows:
            pid = wanted.get((site, stored_period(period), standard, code))
            if pid is not None:
                out.setdefault(pid, ([], []))[0].append(str(path))
    if "reply_photos" in tables and states:
        _, rows = conn.query("SELECT problem, path FROM reply_photos ORDER BY reply, seq")
        for pid, path in rows:
            if pid in states:
                out.setdefault(pid, ([], []))[1].append(str(path))
    return out
