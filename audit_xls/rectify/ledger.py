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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

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


def add_event(conn: Any, recorded_at: str, **values: Any) -> None:
    """Append one event (the only way the ledger changes)."""
    values.setdefault("recorded_at", recorded_at)
    row = [values.get(c) for c in EVENT_COLUMNS]
    defaults = {"assumed": 0, "late": 0, "note": "", "measure": "", "owner": "", "file": ""}
    row = [
        defaults.get(c, v) if v is None and c in defaults else v
        for c, v in zip(EVENT_COLUMNS, row, strict=True)
    ]
    row[EVENT_COLUMNS.index("document_id")] = values.get("document_id") or ""
    conn.execute(
        f"INSERT INTO problem_events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})",
        row,
    )


# --- found: from the current graded result of a site, month and standard -------------------


@dataclass(frozen=True)
class Failed:
    """One failed criterion of a graded row, as the ledger takes it."""

    code: str
    section_code: str
    text: str
    problem_points: int
    deduction: str
    note: str


def _failed_of_row(conn: Any, row_id: int) -> list[Failed]:
    return [
        Failed(code, section, text, points, deduction, note or "")
        for code, section, text, points, deduction, note in conn.execute(
            f"""SELECT code, section_code, text, problem_points, deduction, note FROM criteria
               WHERE workbook = ? AND result = '{Result.FAIL}' ORDER BY code""",
            (row_id,),
        )
    ]


def _current_row(conn: Any, site_code: str, period: Period | str, standard_id: str) -> tuple | None:
    return conn.execute(
        f"""SELECT id, workbook_id, site_name, region, inspection_date, file FROM workbooks
           WHERE status = '{Status.GRADED}' AND superseded = 0
             AND site_code = ? AND period = ? AND standard_id = ?
           ORDER BY id DESC""",
        (site_code, period, standard_id),
    ).fetchone()


def sync_found(
    conn: Any,
    site_code: str,
    period: Period | str,
    standard: Any,
    recorded_at: str,
    *,
    source: EventSource = EventSource.INSPECTION,
) -> int:
    """Bring the problems of a site, month and standard in line with its current graded
    result: new failures found, changed ones revised, vanished ones withdrawn. Returns the
    number of events added (0 when the current result was already the ledger's source).
    `period`: the month (a Period, written as its YYYY-MM text), or for the migration's
    backfill the month text exactly as an older history stored it, so it finds its rows."""
    current = _current_row(conn, site_code, period, standard.id)
    states = replay(
        conn,
        where="p.site_code = ? AND p.period = ? AND p.standard_id = ?",
        params=(site_code, period, standard.id),
    )
    if current is None:
        return 0
    row_id, workbook_id, site_name, region, inspected, file = current
    policy = policy_of(standard)
    assumed = 1 if policy.assumed else 0
    inspection = date.fromisoformat(inspected) if inspected else None
    added = 0
    failing = {problem_id(workbook_id, f.code): f for f in _failed_of_row(conn, row_id)}
    for pid, f in failing.items():
        state = states.get(pid)
        if state is not None and state.source_row == row_id and state.status != WITHDRAWN:
            continue
        deadline = (
            policy.deadline(f.code, f.section_code, inspection).isoformat() if inspection else None
        )
        if state is None:
            conn.execute(
                "INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    workbook_id,
                    f.code,
                    f.section_code,
                    f.text,
                    site_code,
                    site_name,
                    region,
                    period,
                    standard.id,
                    recorded_at,
                ),
            )
        kind = EventKind.FOUND if state is None or state.status == WITHDRAWN else EventKind.REVISED
        status = OPEN if kind == EventKind.FOUND else state.status  # type: ignore[union-attr]
        add_event(
            conn,
            recorded_at,
            problem=pid,
            kind=kind,
            status=status,
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
        added += 1
    for pid, state in states.items():
        if pid in failing or state.status == WITHDRAWN:
            continue
        add_event(
            conn,
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
        added += 1
    return added


def record_found(conn: Any, graded: Iterable[Any], recorded_at: str) -> int:
    """The ledger's part of recording a grade batch (called inside its transaction):
    every site, month and standard with a newly recorded graded result is synced. A result
    whose month is not YYYY-MM (a forged manifest: `period` None, its text kept as found in
    the history) opens no problems: the ledger's months are Periods, and `monthly` leaves
    such a month out too."""
    seen: set[tuple[str, Period, str]] = set()
    added = 0
    for w in graded:
        if w.period is None:
            continue
        key = (w.site_code, w.period, w.standard.id)
        if key in seen:
            continue
        seen.add(key)
        added += sync_found(conn, w.site_code, w.period, w.standard, recorded_at)
    return added


def record_rechecks(conn: Any, graded: Iterable[Any], recorded_at: str) -> int:
    """The 复查 verdicts of newly recorded graded results: 已整改 closes a problem (verified
    on the inspection date), 未整改 reopens it (a repeat) with a new deadline counted from
    that date. A problem this history does not know (a workbook built from another history)
    is left alone; a resubmitted workbook's verdict replaces its earlier one."""
    from audit_xls.rectify.recheck import FIXED

    added = 0
    for w in graded:
        verdicts = list(getattr(w, "rechecks", None) or [])
        if not verdicts:
            continue
        ids = [v.problem for v in verdicts]
        marks = ", ".join("?" for _ in ids)
        states = replay(conn, where=f"p.id IN ({marks})", params=ids)
        policy = policy_of(w.standard)
        inspected = w.inspection_date or date.fromisoformat(recorded_at[:10])
        for verdict in verdicts:
            state = states.get(verdict.problem)
            if state is None:
                continue
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
            add_event(
                conn,
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
            added += 1
    return added


def record_graded(conn: Any, graded: Sequence[Any], recorded_at: str) -> int:
    """The ledger's part of recording a grade batch (inside its transaction): problems
    found, revised or withdrawn, then the 复查 verdicts."""
    return record_found(conn, graded, recorded_at) + record_rechecks(conn, graded, recorded_at)


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
    for site_code, period, standard_id in rows:  # the month as stored: it finds its rows
        sync_found(
            conn, site_code, period, _Known(standard_id), recorded_at, source=EventSource.MIGRATION
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
    for row in conn.execute(
        "SELECT p.id, p.workbook_id, p.code, p.section_code, p.text, p.site_code, p.site_name,"
        f" p.region, p.period, p.standard_id FROM problems p{clause} ORDER BY p.period,"
        " p.site_code, p.code",
        tuple(params),
    ):
        states[row[0]] = ProblemState(*row[:8], stored_period(row[8]), row[9])
    if not states:
        return states
    events = conn.execute(
        "SELECT e.problem, e.id, e.kind, e.status, e.event_date, e.deadline, e.assumed,"
        " e.problem_points, e.deduction, e.note, e.measure, e.owner, e.done_date, e.late,"
        " e.source, e.file, e.document_id, e.workbook, e.recorded_at"
        f" FROM problem_events e JOIN problems p ON p.id = e.problem{clause} ORDER BY e.id",
        tuple(params),
    )
    for (
        pid,
        eid,
        kind,
        status,
        when,
        deadline,
        assumed,
        points,
        deduction,
        note,
        measure,
        owner,
        done,
        late,
        source,
        file,
        document,
        workbook,
        recorded,
    ) in events:
        state = states[pid]
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
    return states


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
