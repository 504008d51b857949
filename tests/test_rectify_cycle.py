"""The whole supervision cycle over three months, every state, date and rate computed by hand.

Mini standard (tests/returns.py), 7 days to fix (the default, assumed). Sites P001 and P002
are in 华东, P003 in 华南. 复查 rows sit under the checklist from row 19 (mini's checklist ends
at row 15), oldest problem first.

October, inspected 10-12 (deadlines 10-19): P001 fails 1.1.01 (2 points) and 3.1.02 (1);
  P002 fails 2.1.01 (1); P003 fails 1.1.02 (1). Notices dated 10-14. Replies read 10-16:
  P001 1.1.01 已整改 (done 10-15), 3.1.02 整改中 (expected 11-05); P002 2.1.01 已整改
  (10-15); P003 does not reply.
November, inspected 11-10 (the workbooks carry 复查 rows): P001 re-checked 已整改 twice;
  P002 2.1.01 未整改 (reopened, deadline 11-17) and failed again (a new problem, deadline
  11-17); P003 1.1.02 未整改 (reopened, deadline 11-17). Notices dated 11-12: P002 two rows,
  P003 one, P001 none. Replies read 11-20 (after the deadline: late): P002 both 已整改 (11-18).
December, inspected 12-08: P002 both re-checked 已整改; P003 1.1.02 未整改 again (deadline
  12-15). Monthly as of 12-20.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import BACKENDS, history_in
from rectify_cycle import Cycle, fill_notice

from audit_xls.history.monthly import monthly_report
from audit_xls.history.monthly_exports import monthly_to_json
from audit_xls.history.store import _connect
from audit_xls.rectify.ledger import replay
from audit_xls.workbook.read import read_workbook

FIXED, NOT_FIXED = "已整改", "未整改"


def recheck(*verdicts: str) -> dict:
    return {("检查表", f"G{19 + i}"): v for i, v in enumerate(verdicts)}


def rechecked(c: Cycle, code: str, period: str) -> list[str]:
    extra = read_workbook(c.workbook(code, period)).manifest.extra
    return [row[1].split(":")[1] for row in extra if row[0].startswith("R")]


@pytest.fixture(scope="module", params=BACKENDS)
def cycle(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Cycle]:
    folder = Path(tmp_path_factory.mktemp("cycle"))
    with history_in(request, folder, request.param) as history:
        yield run_cycle(Cycle(folder, history=history))


def run_cycle(c: Cycle, sites: tuple[str, ...] = ("P001", "P002", "P003")) -> Cycle:
    """The three months of the module docstring, on `c`'s history; `sites`: only these
    sites' part of it (an office grading some of the sites)."""
    whole = len(sites) == 3

    def only(values: dict) -> dict:
        return {k: v for k, v in values.items() if k in sites}

    def replies(written, answers: dict) -> dict[str, bytes]:
        return {f"{k}.xlsx": fill_notice(c.notice_bytes(written, k), rows)
                for k, rows in only(answers).items()}  # fmt: skip

    c.inspect("2026-10", date(2026, 10, 12), only({
        "P001": {"1.1.01": ("不符合", 2, "工服不整"), "3.1.02": ("不符合", 1, "巡查缺记录")},
        "P002": {"2.1.01": ("不符合", 1, "资料缺")},
        "P003": {"1.1.02": ("不符合", 1, "未主动问好")},
    }))  # fmt: skip
    october = c.notices("2026-10", date(2026, 10, 14))
    collected = c.collect(replies(october, {
        "P001": {
            0: ("已整改", "更换工服", date(2026, 10, 15), "王主管", None),
            1: ("整改中", None, date(2026, 11, 5), "赵班长", None),
        },
        "P002": {0: ("已整改", "补齐资料", date(2026, 10, 15), None, None)},
    }), date(2026, 10, 16), october.register)  # fmt: skip
    if whole:
        assert [(n.site.code, len(n.items)) for n in october.notices] == [
            ("P001", 2), ("P002", 1), ("P003", 1),
        ]  # fmt: skip
        assert [r.status for r in collected.replies] == ["accepted", "accepted"]
        assert [e.site_code for e in collected.missing] == ["P003"]
        assert [rechecked(c, s, "2026-11") for s in ("P001", "P002", "P003")] == [
            ["1.1.01", "3.1.02"], ["2.1.01"], ["1.1.02"],
        ]  # fmt: skip
    c.inspect("2026-11", date(2026, 11, 10), only({
        "P001": {}, "P002": {"2.1.01": ("不符合", 1, "资料仍缺")}, "P003": {},
    }), cells=only({
        "P001": recheck(FIXED, FIXED), "P002": recheck(NOT_FIXED), "P003": recheck(NOT_FIXED),
    }))  # fmt: skip
    november = c.notices("2026-11", date(2026, 11, 12))
    collected = c.collect(replies(november, {
        "P002": {
            0: ("已整改", "补齐资料并复核", date(2026, 11, 18), None, None),
            1: ("已整改", "补齐资料并复核", date(2026, 11, 18), None, None),
        },
    }), date(2026, 11, 20), november.register, name="replies-11")  # fmt: skip
    if whole:
        assert [(n.site.code, [(i.code, str(i.found_period)) for i in n.items])
                for n in november.notices] == [
            ("P002", [("2.1.01", "2026-10"), ("2.1.01", "2026-11")]),
            ("P003", [("1.1.02", "2026-10")]),
        ]  # fmt: skip
        assert [r.status for r in collected.replies] == ["accepted"]
        assert [rechecked(c, s, "2026-12") for s in ("P001", "P002", "P003")] == [
            [], ["2.1.01", "2.1.01"], ["1.1.02"],
        ]  # fmt: skip
    c.inspect("2026-12", date(2026, 12, 8), only({"P001": {}, "P002": {}, "P003": {}}), cells=only({
        "P002": recheck(FIXED, FIXED), "P003": recheck(NOT_FIXED),
    }))  # fmt: skip
    return c


def story(c: Cycle) -> dict:
    with _connect(c.history) as conn:
        return {(s.site_code, str(s.period), s.code): s for s in replay(conn).values()}


def test_every_problem_has_its_whole_story(cycle: Cycle) -> None:
    found = story(cycle)
    got = {
        key: (s.status, s.deadline, s.reopened, s.closed_on, s.days_to_close,
              [(e.kind, e.status, e.event_date) for e in s.events])
        for key, s in found.items()
    }  # fmt: skip
    assert got == {
        ("P001", "2026-10", "1.1.01"): ("closed", "2026-10-19", 0, "2026-11-10", 29, [
            ("found", "open", "2026-10-12"), ("notified", "open", "2026-10-14"),
            ("replied", "claimed", "2026-10-16"), ("verified", "closed", "2026-11-10")]),
        ("P001", "2026-10", "3.1.02"): ("closed", "2026-10-19", 0, "2026-11-10", 29, [
            ("found", "open", "2026-10-12"), ("notified", "open", "2026-10-14"),
            ("replied", "in_progress", "2026-10-16"), ("verified", "closed", "2026-11-10")]),
        ("P002", "2026-10", "2.1.01"): ("closed", "2026-11-17", 1, "2026-12-08", 57, [
            ("found", "open", "2026-10-12"), ("notified", "open", "2026-10-14"),
            ("replied", "claimed", "2026-10-16"), ("reopened", "open", "2026-11-10"),
            ("notified", "open", "2026-11-12"), ("replied", "claimed", "2026-11-20"),
            ("verified", "closed", "2026-12-08")]),
        ("P002", "2026-11", "2.1.01"): ("closed", "2026-11-17", 0, "2026-12-08", 28, [
            ("found", "open", "2026-11-10"), ("notified", "open", "2026-11-12"),
            ("replied", "claimed", "2026-11-20"), ("verified", "closed", "2026-12-08")]),
        ("P003", "2026-10", "1.1.02"): ("open", "2026-12-15", 2, None, None, [
            ("found", "open", "2026-10-12"), ("notified", "open", "2026-10-14"),
            ("reopened", "open", "2026-11-10"), ("notified", "open", "2026-11-12"),
            ("reopened", "open", "2026-12-08")]),
    }  # fmt: skip
    # replies after the deadline are late: P001 and P002 replied 10-16 to deadlines of 10-19
    # (not late); P002 replied 11-20 to deadlines of 11-17 (late)
    assert [found[k].late for k in sorted(found) if found[k].replied_on] == [
        False, False, True, True,
    ]  # fmt: skip


def test_monthly_shows_the_ledger_completion_and_overdue(cycle: Cycle) -> None:
    report = monthly_report(cycle.history, as_of=date(2026, 12, 20))
    ledger = report.rectification
    assert ledger is not None
    completion = [list(r) for r in ledger.completion.itertuples(index=False)]
    assert [[None if v != v else v for v in r] for r in completion] == [
        ["2026-10", "华东", "P001", "滨江花园", 2, 2, 100.0],
        ["2026-10", "华东", "P002", "静安公馆", 1, 1, 100.0],
        ["2026-10", "华东", "", "区域合计", 3, 3, 100.0],
        ["2026-10", "华南", "P003", "珠江新城", 1, 0, 0.0],
        ["2026-10", "华南", "", "区域合计", 1, 0, 0.0],
        ["2026-10", "全部项目", "", "", 4, 3, 75.0],
        ["2026-11", "华东", "P002", "静安公馆", 1, 1, 100.0],
        ["2026-11", "华东", "", "区域合计", 1, 1, 100.0],
        ["2026-11", "全部项目", "", "", 1, 1, 100.0],
    ]
    overdue = [list(r) for r in ledger.overdue.itertuples(index=False)]
    assert overdue == [
        ["P003", "珠江新城", "华南", "2026-10", "1.1.02", "主动问好", "未主动问好", "2026-12-15",
         5, "待整改", "2026-11-12", None, 2],
    ]  # fmt: skip
    assert len(ledger.ledger) == 5
    row = ledger.ledger[ledger.ledger["项目编码"] == "P002"].iloc[0]
    assert (row["回复状态"], row["逾期整改"], row["复查未整改次数"], row["状态"], row["整改天数"]) == (
        "已整改待复查", "是", 1, "已整改", 57,
    )  # fmt: skip
    # 反复问题: P002 failed 2.1.01 in October and November, after reporting it fixed
    repeats = report.repeats
    assert list(repeats[["项目编码", "指标编码", "月份", "此前报已整改"]].itertuples(index=False,
                name=None)) == [("P002", "2.1.01", "2026-10、2026-11", "2026-10")]  # fmt: skip
    document = monthly_to_json(report)["rectification"]
    assert document["as_of"] == "2026-12-20"
    assert document["overdue"][0]["days_overdue"] == 5
    assert document["completion"][5] == {
        "period": "2026-10", "region": "全部项目", "site_code": "", "site": "",
        "due": 4, "closed": 3, "percent": 75.0,
    }  # fmt: skip


def test_a_recheck_left_empty_sends_the_workbook_back(cycle: Cycle, tmp_path: Path) -> None:
    from returns import fill

    from audit_xls.grading.grade import grade_returns

    folder = tmp_path / "r"
    folder.mkdir()
    data = cycle.workbook("P002", "2026-12")
    (folder / "empty.xlsx").write_bytes(fill(data, cycle.standard, {}, default=("符合", None),
                                             inspection_date=date(2026, 12, 8),
                                             cells={("检查表", "G19"): FIXED}))  # fmt: skip
    (folder / "typed.xlsx").write_bytes(fill(data, cycle.standard, {}, default=("符合", None),
                                             inspection_date=date(2026, 12, 8),
                                             cells={**recheck(FIXED, "好了"),
                                                    ("检查表", "D19"): "改过"}))  # fmt: skip
    batch = grade_returns(folder, [cycle.standard], None)
    got = {w.file: [(d.code, d.sheet, d.cell) for d in w.errors] for w in batch.workbooks}
    assert got == {
        "empty.xlsx": [("recheck.unanswered", "检查表", "G20")],
        "typed.xlsx": [("recheck.invalid", "检查表", "G20"), ("recheck.changed", "检查表", "D19")],
    }
    messages = {w.file: w.errors[0].message for w in batch.workbooks}
    assert messages["empty.xlsx"] == (
        "1 个复查问题未填写复查结果：2.1.01（G20）：请逐项现场复查并选择已整改或未整改后发回。"
    )


def test_a_reply_about_problems_closed_since_says_so_and_changes_nothing(cycle: Cycle) -> None:
    october = sorted((cycle.folder / "notices").glob("2026-10-*"))[0]
    notice = next(october.glob("整改通知单_*P001*.xlsx")).read_bytes()
    late = fill_notice(notice, {
        0: ("已整改", "再次说明", date(2026, 12, 1), None, None),
        1: ("已整改", "再次说明", date(2026, 12, 1), None, None),
    })  # fmt: skip
    before = story(cycle)
    collected = cycle.collect({"late.xlsx": late}, date(2026, 12, 10), name="replies-late")
    [reply] = collected.replies
    assert reply.status == "accepted"
    assert [(d.severity, d.code, d.message) for d in reply.diagnostics] == [
        ("warning", "reply.problem_closed",
         "1.1.01 在本通知单发出后状态已变为「已整改」（2026-11-10），本回复不改变它的状态。"),
        ("warning", "reply.problem_closed",
         "3.1.02 在本通知单发出后状态已变为「已整改」（2026-11-10），本回复不改变它的状态。"),
    ]  # fmt: skip
    assert story(cycle) == before


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Cycle:
    """The same three months recorded in a SQLite history of its own."""
    return run_cycle(Cycle(Path(tmp_path_factory.mktemp("reference"))))


def monthly_json(c: Cycle, out: Path) -> dict:
    import json

    from click.testing import CliRunner

    from audit_xls.cli import cli

    result = CliRunner().invoke(cli, [
        "monthly", "--history", str(c.history), "--out", str(out), "--as-of", "2026-12-20",
        "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for row in document["detail"]:
        del row["graded_at"]  # the time the run recorded it: the one thing that differs
    return document


def test_monthly_json_is_the_same_in_sqlite_and_postgresql(
    cycle: Cycle, reference: Cycle, tmp_path: Path
) -> None:
    got = monthly_json(cycle, tmp_path / "m.xlsx")
    assert got == monthly_json(reference, tmp_path / "r.xlsx")
    assert [len(got["rectification"][k]) for k in ("ledger", "completion", "overdue")] == [5, 9, 1]


# --- history merge: two offices' cycles are one group's ------------------------------------


@pytest.fixture(scope="module")
def offices(tmp_path_factory) -> tuple[Cycle, Cycle]:
    """The same three months graded by two offices: east (P001, P002), south (P003), each
    with its own SQLite history, notices and replies."""
    east = run_cycle(Cycle(Path(tmp_path_factory.mktemp("east"))), ("P001", "P002"))
    south = run_cycle(Cycle(Path(tmp_path_factory.mktemp("south"))), ("P003",))
    return east, south


def ledger_of(location: Path | str) -> dict:
    """Everything the ledger says, without row numbers and recording times."""
    from test_history import rows

    with _connect(location) as conn:
        states = {
            pid: (s.status, s.deadline, s.assumed, s.reopened, s.closed_on, s.notified_on,
                  s.notice_id, s.replied_on, s.reply_status, s.measure, s.owner, s.done_date,
                  s.late, s.problem_points, s.deduction, s.note,
                  [(e.kind, e.status, e.event_date, e.deadline, e.document_id, e.file)
                   for e in s.events])
            for pid, s in replay(conn).items()
        }  # fmt: skip
    return {
        "states": states,
        # each site's notices in the order recorded (its latest is current)
        "notices": [(site, period, *rest) for site, period, _, *rest in sorted(rows(
            location, "SELECT site_code, period, id, notice_id, issued_on, file FROM notices"
        ))],
        # (the files' hashes differ: each office's reply files were saved at their own time)
        "replies": sorted(rows(location, "SELECT notice, file, replied_on FROM replies")),
    }  # fmt: skip


def test_merging_two_offices_gives_the_ledger_of_recording_both_into_one(
    offices: tuple[Cycle, Cycle], reference: Cycle, history_at: Path | str, tmp_path: Path
) -> None:
    from test_history import rows

    from audit_xls.history import tools

    east, south = offices
    summary = tools.merge([east.history, south.history], history_at)
    expected = ledger_of(reference.history)
    assert ledger_of(history_at) == expected
    assert len(expected["states"]) == 5 and len(expected["notices"]) == 5
    events = rows(reference.history, "SELECT count(*) FROM problem_events")[0][0]
    assert (summary.problems_added, summary.events_added, summary.notices_added,
            summary.replies_added) == (5, events, 5, 3)  # fmt: skip
    merged = Cycle(tmp_path, history=history_at)
    assert monthly_json(merged, tmp_path / "m.xlsx") == monthly_json(reference, tmp_path / "r.xlsx")
    assert tools.check(history_at).problems == []
    # merged again (or a source twice): nothing new, the ledger as it was
    again = tools.merge([south.history, east.history, east.history], history_at)
    assert (again.recorded_graded, again.problems_added, again.events_added,
            again.notices_added, again.replies_added) == (0, 0, 0, 0, 0)  # fmt: skip
    assert ledger_of(history_at) == expected
    # the other order: the same ledger (events in the order they were recorded)
    other = tmp_path / "other.sqlite"
    tools.merge([south.history, east.history], other)
    assert ledger_of(other) == expected


def test_check_finds_a_broken_ledger_and_counts_it(
    offices: tuple[Cycle, Cycle], history_at: Path | str, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner
    from test_history import rows

    from audit_xls.cli import cli
    from audit_xls.history import tools
    from audit_xls.history.backend import open_write

    east, south = offices
    tools.merge([east.history, south.history], history_at)
    result = CliRunner().invoke(cli, ["history", "check", "--history", str(history_at), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert [(c["period"], c["graded"], c["problems"], c["unclosed"], c["closed"], c["notices"],
             c["replies"]) for c in counts] == [
        ("2026-10", 3, 4, 1, 3, 3, 2), ("2026-11", 3, 1, 0, 1, 2, 1), ("2026-12", 3, 0, 0, 0, 0, 0),
    ]  # fmt: skip
    ids = dict(
        rows(history_at, "SELECT site_code || ' ' || period || ' ' || code, id FROM problems")
    )
    p001, p002, p003 = (
        ids["P001 2026-10 1.1.01"],
        ids["P002 2026-11 2.1.01"],
        ids["P003 2026-10 1.1.02"],
    )
    [(december, december_file)] = rows(
        history_at,
        """SELECT id, file FROM workbooks
                                       WHERE site_code = 'P001' AND period = '2026-12'""",
    )
    with open_write(history_at) as conn:
        if conn.dialect.name == "postgresql":  # its foreign keys would refuse the dangling rows
            conn.execute("SET session_replication_role = replica")
        # a re-check's verdict that leaves the problem open; a story without its found event
        conn.execute(
            f"UPDATE problem_events SET status = 'open' WHERE problem = '{p001}' AND kind = 'verified'"
        )
        conn.execute(f"DELETE FROM problem_events WHERE problem = '{p002}' AND kind = 'found'")
        # a problem with no events at all, a reply to a notice never issued
        conn.execute(f"DELETE FROM problem_events WHERE problem = '{p003}'")
        conn.execute("""INSERT INTO replies (notice, file, file_hash, replied_on, recorded_at)
                        VALUES ('0000', 'x.xlsx', 'ff', '2026-12-01', '2026-12-01T10:00:00')""")
        # a 不符合 of a current result the ledger never heard of
        conn.execute(
            f"UPDATE criteria SET result = 'fail' WHERE workbook = {december} AND code = '2.2.01'"
        )
    [(first,)] = rows(history_at, f"SELECT min(id) FROM problem_events WHERE problem = '{p002}'")
    [(verified,)] = rows(
        history_at,
        f"""SELECT id FROM problem_events
                                         WHERE problem = '{p001}' AND kind = 'verified'""",
    )
    broken = CliRunner().invoke(cli, ["history", "check", "--history", str(history_at)])
    assert broken.exit_code == 1
    found = [line for line in broken.output.splitlines() if line.startswith(("- ", "发现"))]
    sqlite = ["- 表 replies 第 4 行引用的 notices 不存在"] if isinstance(history_at, Path) else []
    assert found == [
        f"发现 {5 + len(sqlite)} 个问题：",
        *sqlite,  # SQLite's foreign_key_check says it too
        "- 整改台账：表 replies 有 1 行的 notice 指向 notices 中不存在的记录",
        f"- 整改问题 {p003} 没有任何事件（至少应有发现事件 found）",
        f"- 整改问题 {p002} 的第一个事件 {first} 是 notified（应为发现 found）",
        f"- 当前评分记录 {december}（{december_file}）的不符合项 2.2.01 不在整改台账中",
        f"- 整改问题 {p001} 的事件 {verified}（verified）之后的状态为 open，与事件类型不符",
    ]
