"""The rectification ledger: problems found by grade, recorded as events, migrated from v2.

Hand-computed: the mini standard's days are 7 unless a test says otherwise, so a problem
found on 2026-11-12 is due 2026-11-19.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from returns import ISSUED_ON, MINI_YAML, fill
from test_history import rows

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.sites import Site
from audit_xls.history.store import (
    SCHEMA_VERSION,
    _connect,
    load_history,
    record_batch,
    stored_diagnostic,
)
from audit_xls.model.codes import EventKind, ProblemStatus, Severity
from audit_xls.rectify.ledger import CLAIMED, OPEN, WITHDRAWN, replay
from audit_xls.rectify.policy import DEFAULT_POLICY, policy_of
from audit_xls.standards.loader import StandardError, load_standard
from audit_xls.workbook.build import build_workbook, workbook_id

DATA = Path(__file__).parent / "data"


def states(path: Path | str) -> dict:
    with _connect(path) as conn:
        return replay(conn)


def test_a_history_of_the_previous_release_is_migrated_with_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    shutil.copy(DATA / "history-v2.sqlite", path)
    before = rows(path, "SELECT * FROM workbooks ORDER BY id")
    assert rows(path, "PRAGMA user_version") == [(2,)]
    found = states(path)  # the writer's connection migrates
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(7,)]
    # the rows as they were, their file's modified time unknown (NULL, from version 5)
    assert rows(path, "SELECT * FROM workbooks ORDER BY id") == [(*r, None) for r in before]
    got = sorted(
        (s.site_code, str(s.period), s.code, s.status, s.inspection_date, s.deadline, s.assumed,
         s.problem_points, s.deduction, s.note, [e.kind for e in s.events])
        for s in found.values()
    )  # fmt: skip
    assert got == [
        ("P001", "2026-10", "1.1.01", OPEN, "2026-10-12", "2026-10-19", True, 2, "0.6", "工服不整", ["found"]),
        ("P001", "2026-10", "3.1.02", OPEN, "2026-10-12", "2026-10-19", True, 1, "0.5", "巡查缺记录", ["found"]),
        ("P001", "2026-11", "1.1.01", OPEN, "2026-11-10", "2026-11-17", True, 2, "0.6", "工服不整", ["found"]),
        ("P001", "2026-11", "3.1.02", OPEN, "2026-11-10", "2026-11-17", True, 1, "0.5", "巡查缺记录", ["found"]),
        ("P002", "2026-10", "2.1.01", OPEN, "2026-10-12", "2026-10-19", True, 1, "0.5", "资料缺", ["found"]),
        ("P002", "2026-11", "2.1.01", OPEN, "2026-11-10", "2026-11-17", True, 1, "0.5", "资料缺", ["found"]),
    ]  # fmt: skip
    assert {e.source for s in found.values() for e in s.events} == {"migration"}
    # ids are workbook id + criterion code
    ids = {s.id for s in found.values()}
    assert all(i.split(":")[0] == s.workbook_id for s in found.values() for i in [s.id])
    assert len(ids) == 6
    assert rows(path, "PRAGMA foreign_key_check") == []
    # opening again changes nothing; readers see the same
    assert states(path).keys() == found.keys()
    assert rows(path, "SELECT count(*) FROM problem_events") == [(6,)]


def test_monthly_still_reads_a_v2_history_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    shutil.copy(DATA / "history-v2.sqlite", path)
    before = path.read_bytes()
    frames = load_history(path)
    assert len(frames.current) == 4
    assert path.read_bytes() == before


# --- the policy ---------------------------------------------------------------------------

POLICY = """
rectification:
  days: 10
  overrides: {"2": 14, "1.1.02": 3}
"""


def test_deadline_days_per_standard_section_and_criterion(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(MINI_YAML + POLICY, encoding="utf-8")
    standard = load_standard(tmp_path / "s.yaml")
    policy = policy_of(standard)
    day = date(2026, 11, 12)
    assert policy.deadline("1.1.01", "1", day) == date(2026, 11, 22)  # the standard's 10
    assert policy.deadline("1.1.02", "1", day) == date(2026, 11, 15)  # the criterion's 3
    assert policy.deadline("2.1.01", "2", day) == date(2026, 11, 26)  # the section's 14
    assert policy.assumed is None
    # policy is not content: the hash is the one without it
    (tmp_path / "plain.yaml").write_text(MINI_YAML, encoding="utf-8")
    plain = load_standard(tmp_path / "plain.yaml")
    assert plain.content_hash == standard.content_hash
    assert policy_of(plain) == DEFAULT_POLICY and DEFAULT_POLICY.days == 7
    assert DEFAULT_POLICY.assumed


def test_the_shipped_standard_gives_7_days_marked_assumed(shipped_standard) -> None:
    policy = policy_of(shipped_standard)
    assert policy.days == 7 and "7 天" in (policy.assumed or "")
    assert shipped_standard.content_hash.startswith("be5d8b1616bf")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("rectification:\n  days: 0\n", "s.yaml:41: rectification.days: 整改天数为 0：应大于 0"),
        ("rectification:\n  days: 1.5\n", "s.yaml:41: rectification.days: 整改天数为 1.5：应为 1-366 的整数"),
        ("rectification:\n  days: 7\n  overrides: {\"9.9\": 3}\n",
         "s.yaml:42: rectification.overrides.9.9: 编码「9.9」不是本标准的一级指标或检查标准编码"),
        ("rectification:\n  day: 7\n", "s.yaml:41: rectification.day: 未知的键「day」"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_located(tmp_path: Path, block: str, message: str) -> None:
    (tmp_path / "s.yaml").write_text(MINI_YAML + block, encoding="utf-8")
    with pytest.raises(StandardError) as error:
        load_standard(tmp_path / "s.yaml")
    assert any(str(p).endswith(message) or message in str(p) for p in error.value.problems), [
        str(p) for p in error.value.problems
    ]


# --- found by grade: recorded, revised by a resubmission, withdrawn ----------------------


def graded(tmp_path: Path, standard, files: dict[str, bytes]):
    folder = tmp_path / "returns"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return grade_returns(folder, [standard], None)


def test_grade_records_problems_and_a_resubmission_revises_and_withdraws(
    tmp_path: Path, history_at: Path | str
) -> None:
    (tmp_path / "s.yaml").write_text(MINI_YAML, encoding="utf-8")
    standard = load_standard(tmp_path / "s.yaml")
    site = Site("P001", "滨江花园", "华东")
    issued = build_workbook(standard, site, "2026-11", issued_on=ISSUED_ON)
    ok = ("符合", None)
    first = fill(issued, standard, {"1.1.01": ("不符合", 2, "工服不整"), "3.1.02": ("不符合", 1)},
                 default=ok)  # fmt: skip
    path = history_at
    record_batch(path, graded(tmp_path, standard, {"a.xlsx": first}))
    wid = workbook_id(standard, site, "2026-11")
    found = states(path)
    assert sorted(found) == [f"{wid}:1.1.01", f"{wid}:3.1.02"]
    one = found[f"{wid}:1.1.01"]
    assert (one.status, one.inspection_date, one.deadline, one.assumed) == (
        OPEN, "2026-11-12", "2026-11-19", True,
    )  # fmt: skip
    assert (one.problem_points, one.deduction, one.note, one.text) == (
        2,
        "0.6",
        "工服不整",
        "着装整洁",
    )
    assert [e.kind for e in one.events] == ["found"]
    # the same file again: nothing new
    record_batch(path, graded(tmp_path, standard, {"a.xlsx": first}))
    assert rows(path, "SELECT count(*) FROM problem_events") == [(2,)]
    # resubmitted: 1.1.01 now 3 points, 3.1.02 passes, 2.2.01 fails (inspected a day later)
    second = fill(issued, standard, {"1.1.01": ("不符合", 3, "工服不整，两人"),
                                     "2.2.01": ("不符合", 1, "手续缺")},
                  default=ok, inspection_date=date(2026, 11, 13))  # fmt: skip
    record_batch(path, graded(tmp_path, standard, {"b.xlsx": second}))
    found = states(path)
    one, gone, new = (found[f"{wid}:{c}"] for c in ("1.1.01", "3.1.02", "2.2.01"))
    assert [e.kind for e in one.events] == ["found", "revised"]
    assert (one.status, one.problem_points, one.deduction, one.note, one.deadline) == (
        OPEN, 3, "0.9", "工服不整，两人", "2026-11-20",
    )  # fmt: skip
    assert ([e.kind for e in gone.events], gone.status) == (["found", "withdrawn"], WITHDRAWN)
    assert ([e.kind for e in new.events], new.status, new.deadline) == (
        ["found"],
        OPEN,
        "2026-11-20",
    )
    # never an edit in place: the first events are as they were
    assert rows(path, "SELECT id, kind FROM problem_events ORDER BY id")[:2] == [
        (1, "found"),
        (2, "found"),
    ]
    assert CLAIMED not in {s.status for s in found.values()}


def test_codes_read_back_from_the_history_are_the_enums_members(
    tmp_path: Path, history_at: Path | str
) -> None:
    (tmp_path / "s.yaml").write_text(MINI_YAML, encoding="utf-8")
    standard = load_standard(tmp_path / "s.yaml")
    site = Site("P001", "滨江花园", "华东")
    issued = build_workbook(standard, site, "2026-11", issued_on=ISSUED_ON)
    failing = fill(issued, standard, {"1.1.01": ("不符合", 2, "工服不整")}, default=("符合", None))
    record_batch(history_at, graded(tmp_path, standard, {"a.xlsx": failing}))
    (one,) = states(history_at).values()
    assert type(one.status) is ProblemStatus and one.status is ProblemStatus.OPEN
    assert [(type(e.kind), e.kind, type(e.status)) for e in one.events] == [
        (EventKind, EventKind.FOUND, ProblemStatus)
    ]
    with _connect(history_at) as conn:
        (severity,) = conn.execute("SELECT 'warning'").fetchone()  # as the backend returns text
    row = {"severity": severity, "code": "answer.note_long", "params": None, "message": "x"}
    assert stored_diagnostic(row).severity is Severity.WARNING
    with pytest.raises(ValueError, match="'warn'"):
        Severity.stored("warn")


# --- a batch synced together writes what syncing each site alone wrote ----------------------


def _tricky_batches() -> list:
    """Four batches of two standards (T: the default 7 days, assumed; U: 10 days, section 2
    3 days) with every turn a site's problems can take, and 复查 verdicts."""
    from dataclasses import replace as copy_of

    from test_history import V1, batch, workbook

    from audit_xls.rectify.policy import Rectification
    from audit_xls.rectify.recheck import FIXED, NOT_FIXED, Verdict

    u = copy_of(V1, id="U", rectification=Rectification(10, None, (("2", 3),)))

    def on(site: str, period: str, standard, fails: dict[str, int], copy: int = 0):
        w = workbook(site, period, V1, fails, copy=copy)
        if standard is not V1:  # its own workbook id and file
            w.standard, w.workbook_id = standard, f"U-{site}-{period}"
            w.file, w.file_hash = f"U/{w.file}", f"U{w.file_hash}"
        return w

    older_c = on("C", "2026-01", V1, {"1.1.01": 1})
    older_c.duplicate_of = "2026-01/C-v1.xlsx"
    stale_b = on("B", "2026-01", V1, {"2.1.01": 4}, copy=3)
    stale_b.modified = datetime(2026, 1, 1)  # older than B's current file: never current
    fixed, repeat = "T-B-2026-01:1.1.02", "T-B-2026-01:2.1.02"
    b_feb = on("B", "2026-02", V1, {})
    b_feb.rechecks = [Verdict(fixed, "1.1.02", FIXED, "已整改"),
                      Verdict(repeat, "2.1.02", NOT_FIXED, "未整改"),
                      Verdict("T-Z-2026-01:1.1.01", "1.1.01", FIXED, "")]  # fmt: skip
    c_feb = on("C", "2026-02", V1, {})  # closed by B's verdict just before: left alone
    c_feb.rechecks = [Verdict(fixed, "1.1.02", NOT_FIXED, "又查")]
    b_again = on("B", "2026-02", V1, {}, copy=1)  # resubmitted: one verdict changed
    b_again.rechecks = [Verdict(fixed, "1.1.02", NOT_FIXED, "复发"),
                        Verdict(repeat, "2.1.02", NOT_FIXED, "未整改")]  # fmt: skip
    return [
        batch([on("A", "2026-01", V1, {"1.1.01": 2, "2.1.01": 1}),
               on("B", "2026-01", V1, {"1.1.02": 3}),
               on("A", "2026-01", u, {"2.1.02": 1, "1.1.01": 1})],
              [], None, "2026-02-01T10:00:00"),
        batch([on("A", "2026-01", V1, {"1.1.01": 3}, copy=1),  # one changed, one gone
               on("B", "2026-01", V1, {"1.1.02": 3, "2.1.02": 1}, copy=1),  # one more
               older_c,  # an older copy of the same workbook: recorded, never current
               on("C", "2026-01", V1, {"2.1.01": 2}, copy=1),
               on("A", "2026-01", u, {}, copy=1),  # all withdrawn
               on("D", "2026-02", V1, {"1.1.02": 1})],
              [], None, "2026-02-02T10:00:00"),
        batch([on("A", "2026-01", V1, {"1.1.01": 3, "2.1.01": 1}, copy=2),  # found again
               on("A", "2026-01", u, {"2.1.02": 1}, copy=2),
               stale_b,
               on("D", "2026-02", V1, {"1.1.02": 1}),  # the same file again: nothing
               b_feb,
               c_feb],
              [], None, "2026-02-03T10:00:00"),
        batch([b_again], [], None, "2026-02-04T10:00:00"),
    ]  # fmt: skip


LEDGER_ROWS = {
    "problems": "SELECT id, workbook_id, code, section_code, text, site_code, site_name,"
    " region, period, standard_id FROM problems ORDER BY rowid",
    "problem_events": "SELECT e.id, e.problem, e.kind, e.status, e.event_date, e.deadline,"
    " e.assumed, e.problem_points, e.deduction, e.note, e.measure, e.owner, e.done_date,"
    " e.late, e.source, e.file, e.document_id, w.file FROM problem_events e"
    " LEFT JOIN workbooks w ON w.id = e.workbook ORDER BY e.id",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_batch_synced_together_writes_what_each_site_synced_alone_wrote(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, monkeypatch
) -> None:
    """grade records a batch's ledger together (ledger.sync_all: a few queries, bulk inserts);
    syncing each site, month and standard alone, one after the other, as recording did before,
    writes the same rows in the same order. The rows are the ones the per-site code wrote."""
    from conftest import history_in

    from audit_xls.rectify import ledger

    def each_alone(conn, graded, recorded_at, failed=None) -> int:
        return sum(
            ledger.sync_found(conn, w.site_code, w.period, w.standard, recorded_at) for w in graded
        )

    got = {}
    for way in ("together", "alone"):
        with monkeypatch.context() as patch:
            if way == "alone":
                patch.setattr(ledger, "record_found", each_alone)
            with history_in(request, tmp_path / way, backend) as path:
                for one in _tricky_batches():
                    record_batch(path, one)
                got[way] = {table: rows(path, sql) for table, sql in LEDGER_ROWS.items()}
    assert got["together"] == got["alone"]
    problems = [(p[0], p[3], p[4], p[5], p[8], p[9]) for p in got["together"]["problems"]]
    assert problems == [
        ("T-A-2026-01:1.1.01", "1", "主动问好", "A", "2026-01", "T"),
        ("T-A-2026-01:2.1.01", "2", "大堂整洁", "A", "2026-01", "T"),
        ("T-B-2026-01:1.1.02", "1", "着装整洁", "B", "2026-01", "T"),
        ("U-A-2026-01:1.1.01", "1", "主动问好", "A", "2026-01", "U"),
        ("U-A-2026-01:2.1.02", "2", "标识完好", "A", "2026-01", "U"),
        ("T-B-2026-01:2.1.02", "2", "标识完好", "B", "2026-01", "T"),
        ("T-C-2026-01:2.1.01", "2", "大堂整洁", "C", "2026-01", "T"),
        ("T-D-2026-02:1.1.02", "1", "着装整洁", "D", "2026-02", "T"),
    ]
    found, rechecked = (
        got["together"]["problem_events"][:16],
        got["together"]["problem_events"][16:],
    )
    # id, problem, kind, status, date, deadline, assumed, points, deduction, note, the file
    events = [(*e[:10], e[17]) for e in found]
    assert {(e[10], e[11], e[12], e[13], e[14]) for e in found} == {("", "", None, 0, "inspection")}
    assert all(e[16] == e[1].split(":")[0] and e[15] == e[17] for e in found)
    assert events == [
        (1, "T-A-2026-01:1.1.01", "found", "open", "2026-01-15", "2026-01-22", 1, 2, "1.0", "A2026-01问题1.1.01", "2026-01/A.xlsx"),
        (2, "T-A-2026-01:2.1.01", "found", "open", "2026-01-15", "2026-01-22", 1, 1, "1", "A2026-01问题2.1.01", "2026-01/A.xlsx"),
        (3, "T-B-2026-01:1.1.02", "found", "open", "2026-01-15", "2026-01-22", 1, 3, "1.5", "B2026-01问题1.1.02", "2026-01/B.xlsx"),
        (4, "U-A-2026-01:1.1.01", "found", "open", "2026-01-15", "2026-01-25", 0, 1, "0.5", "A2026-01问题1.1.01", "U/2026-01/A.xlsx"),
        (5, "U-A-2026-01:2.1.02", "found", "open", "2026-01-15", "2026-01-18", 0, 1, "1", "A2026-01问题2.1.02", "U/2026-01/A.xlsx"),
        (6, "T-A-2026-01:1.1.01", "revised", "open", "2026-01-15", "2026-01-22", 1, 3, "1.5", "A2026-01问题1.1.01", "2026-01/A-v1.xlsx"),
        (7, "T-A-2026-01:2.1.01", "withdrawn", "withdrawn", "2026-01-15", None, 0, None, None, "", "2026-01/A-v1.xlsx"),
        (8, "T-B-2026-01:1.1.02", "revised", "open", "2026-01-15", "2026-01-22", 1, 3, "1.5", "B2026-01问题1.1.02", "2026-01/B-v1.xlsx"),
        (9, "T-B-2026-01:2.1.02", "found", "open", "2026-01-15", "2026-01-22", 1, 1, "1", "B2026-01问题2.1.02", "2026-01/B-v1.xlsx"),
        (10, "T-C-2026-01:2.1.01", "found", "open", "2026-01-15", "2026-01-22", 1, 2, "2", "C2026-01问题2.1.01", "2026-01/C-v1.xlsx"),
        (11, "U-A-2026-01:1.1.01", "withdrawn", "withdrawn", "2026-01-15", None, 0, None, None, "", "U/2026-01/A-v1.xlsx"),
        (12, "U-A-2026-01:2.1.02", "withdrawn", "withdrawn", "2026-01-15", None, 0, None, None, "", "U/2026-01/A-v1.xlsx"),
        (13, "T-D-2026-02:1.1.02", "found", "open", "2026-02-15", "2026-02-22", 1, 1, "0.5", "D2026-02问题1.1.02", "2026-02/D.xlsx"),
        (14, "T-A-2026-01:1.1.01", "revised", "open", "2026-01-15", "2026-01-22", 1, 3, "1.5", "A2026-01问题1.1.01", "2026-01/A-v2.xlsx"),
        (15, "T-A-2026-01:2.1.01", "found", "open", "2026-01-15", "2026-01-22", 1, 1, "1", "A2026-01问题2.1.01", "2026-01/A-v2.xlsx"),
        (16, "U-A-2026-01:2.1.02", "found", "open", "2026-01-15", "2026-01-18", 0, 1, "1", "A2026-01问题2.1.02", "U/2026-01/A-v2.xlsx"),
    ]  # fmt: skip
    # 复查: B's February workbook closes one problem and reopens the other; C's verdict on the
    # closed one and a verdict on a problem this history does not know add nothing; B's
    # resubmission changes one verdict (the other says the same again: nothing)
    assert rechecked == [
        (17, "T-B-2026-01:1.1.02", "verified", "closed", "2026-02-15", None, 0, None, None, "已整改", "", "", None, 0, "recheck", "2026-02/B.xlsx", "T-B-2026-02", None),
        (18, "T-B-2026-01:2.1.02", "reopened", "open", "2026-02-15", "2026-02-22", 0, None, None, "未整改", "", "", None, 0, "recheck", "2026-02/B.xlsx", "T-B-2026-02", None),
        (19, "T-B-2026-01:1.1.02", "reopened", "open", "2026-02-15", "2026-02-22", 0, None, None, "复发", "", "", None, 0, "recheck", "2026-02/B-v1.xlsx", "T-B-2026-02", None),
    ]  # fmt: skip
