"""The grading history: recording, idempotence, supersession, transactions, reading back.

The scenario (`three_months`) is shared with test_monthly.py. Standard T has two sections of
10 points; v1 deducts 0.5 per problem point in 服务 and 1 per place in 环境; v2 (from March)
deducts 2 per place in 环境. Codes never change. Hand-computed gradings (max 20 points):

| month | site (region)  | failed criteria (points)          | total | 得分率 |
|-------|----------------|-----------------------------------|-------|--------|
| 01    | A (华东)        | 1.1.01 x2 (-1), 2.1.01 x1 (-1)    | 18    | 90.00  |
| 01    | B (华东)        | 1.1.02 x3 (-1.5)                  | 18.5  | 92.50  |
| 01    | C (华南)        | 1.1.01 x1 (-0.5), 2.1.02 x4 (-4)  | 15.5  | 77.50  |
| 02    | A first file   | 1.1.01 x1 (-0.5), 2.1.01 x3 (-3)  | 16.5  | 82.50  superseded |
| 02    | A resubmitted  | 1.1.01 x1 (-0.5)                  | 19.5  | 97.50  |
| 02    | B              | 2.1.02 x2 (-2)                    | 18    | 90.00  |
| 02    | C (leaves)     | 1.1.01 x2 (-1), 2.1.02 x1 (-1)    | 18    | 90.00  |
| 02    | D (华南, joins) | 1.1.02 x1 (-0.5), 环境 all 不适用  | 9.5/10| 95.00  |
| 03 v2 | A              | 1.1.01 x2 (-1), 2.1.01 x1 (-2)    | 17    | 85.00  |
| 03 v2 | B              | sent back (1.1.01 unanswered)     |       |        |
| 03 v2 | D              | 2.1.02 x1 (-2)                    | 18    | 90.00  |
| 04    | A, B, D issued, nothing returned                                      |
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from audit_xls.grading.register import IssuedEntry
from audit_xls.history import store as history
from audit_xls.history import tools
from audit_xls.history.backend import is_url, open_read, open_write
from audit_xls.history.store import (
    SCHEMA_VERSION,
    HistoryError,
    default_history_path,
    load_history,
    record_batch,
)
from audit_xls.model.diagnostics import ERROR, WARNING, Diagnostic
from audit_xls.model.results import GRADED, SENT_BACK, BatchResult, Missing, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS, Answer, score
from audit_xls.model.standard import Criterion, Group, Rule, Section, Standard

CODES = ("1.1.01", "1.1.02", "2.1.01", "2.1.02")
SITES = {
    "A": ("A项目", "华东"),
    "B": ("B项目", "华东"),
    "C": ("C项目", "华南"),
    "D": ("D项目", "华南"),
}


def make_standard(version: str, environment_unit: str) -> Standard:
    service = Rule("per_point", Decimal("0.5"))
    environment = Rule("per_place", Decimal(environment_unit))
    return Standard(
        id="T",
        name="测试标准",
        version=version,
        sections=(
            Section(
                "1",
                "服务",
                Decimal(10),
                (
                    Group(
                        None,
                        "抽查",
                        service,
                        (
                            Criterion("1.1.01", "主动问好", service),
                            Criterion("1.1.02", "着装整洁", service),
                        ),
                    ),
                ),
            ),
            Section(
                "2",
                "环境",
                Decimal(10),
                (
                    Group(
                        None,
                        "巡查",
                        environment,
                        (
                            Criterion("2.1.01", "大堂整洁", environment),
                            Criterion("2.1.02", "标识完好", environment),
                        ),
                    ),
                ),
            ),
        ),
    )


V1 = make_standard("1", "1")
V2 = make_standard("2", "2")


def workbook(
    site: str,
    period: str,
    standard: Standard,
    fails: dict[str, int],
    *,
    na: tuple[str, ...] = (),
    unanswered: tuple[str, ...] = (),
    copy: int = 0,
) -> WorkbookResult:
    """A returned workbook for `site` and `period`: every criterion 符合 except those listed."""
    answers = {}
    for code in CODES:
        if code in unanswered:
            continue
        if code in fails:
            answers[code] = Answer(FAIL, fails[code], note=f"{site}{period}问题{code}")
        else:
            answers[code] = Answer(NA if code in na else PASS)
    workbook_id = f"T-{site}-{period}"
    file = f"{period}/{site}{'-v' + str(copy) if copy else ''}.xlsx"
    name, region = SITES[site]
    result = WorkbookResult(
        file=file,
        file_hash=hashlib.sha256(f"{file}{sorted(fails.items())}".encode()).hexdigest(),
        workbook_id=workbook_id,
        site_code=site,
        site_name=name,
        region=region,
        period=period,
        standard=standard,
        inspector="王督导",
        inspection_date=date(int(period[:4]), int(period[5:]), 15),
        answers=answers,
        modified=datetime(int(period[:4]), int(period[5:]), 20, 9, copy),
    )
    if unanswered:
        result.status = SENT_BACK
        result.diagnostics = [
            Diagnostic(
                ERROR,
                "answer.missing",
                f"检查表 / G{3 + CODES.index(c)}：未填写检查结果",
                sheet="检查表",
                cell=f"G{3 + CODES.index(c)}",
            )
            for c in unanswered
        ]
    else:
        result.status = GRADED
        result.card = score(standard, answers)
        result.diagnostics = [
            Diagnostic(WARNING, "answer.points_assumed", "按1个问题点计", sheet="检查表", cell="H3")
        ]
    return result


def missing(site: str, period: str) -> Missing:
    name, region = SITES[site]
    return Missing(f"T-{site}-{period}", site, name, region, period)


# What grade says of a return the register does not list.
NOT_IN_REGISTER = {"manifest.tampered", "issued.not_issued", "issued.mismatch"}


def batch(
    workbooks: list[WorkbookResult], missing_: list[Missing], issued: int | None, when: str
) -> BatchResult:
    """A graded batch; with `issued`, graded against a register of its returns and missing
    (returns the register would not list, as their diagnostics say, left out)."""
    register = None
    if issued is not None:
        standards = {(w.standard.id, w.standard.version) for w in workbooks if w.standard}
        sid, version = next(iter(standards)) if len(standards) == 1 else ("", "")
        register = [
            IssuedEntry(w.workbook_id, w.site_code, w.site_name, w.region, "", "", w.period,
                        w.standard.id if w.standard else sid,
                        w.standard.version if w.standard else version, "", w.file)
            for w in workbooks
            if w.workbook_id and not w.duplicate_of
            and not any(d.code in NOT_IN_REGISTER for d in w.diagnostics)
        ] + [IssuedEntry(m.workbook_id, m.site_code, m.site_name, m.region, "", "", m.period,
                         sid, version, "", "") for m in missing_]  # fmt: skip
    return BatchResult(workbooks, [], missing_, issued, datetime.fromisoformat(when), register)


def three_months() -> list[BatchResult]:
    """The batches, in the order HQ graded them."""
    return [
        batch(
            [
                workbook("A", "2026-01", V1, {"1.1.01": 2, "2.1.01": 1}),
                workbook("B", "2026-01", V1, {"1.1.02": 3}),
                workbook("C", "2026-01", V1, {"1.1.01": 1, "2.1.02": 4}),
            ],
            [],
            3,
            "2026-02-01T10:00:00",
        ),
        batch(
            [
                workbook("A", "2026-02", V1, {"1.1.01": 1, "2.1.01": 3}),
                workbook("B", "2026-02", V1, {"2.1.02": 2}),
                workbook("C", "2026-02", V1, {"1.1.01": 2, "2.1.02": 1}),
                workbook("D", "2026-02", V1, {"1.1.02": 1}, na=("2.1.01", "2.1.02")),
            ],
            [],
            4,
            "2026-03-01T10:00:00",
        ),
        # A sends a corrected February workbook after the first grading.
        batch(
            [workbook("A", "2026-02", V1, {"1.1.01": 1}, copy=1)], [], None, "2026-03-05T10:00:00"
        ),
        batch(
            [
                workbook("A", "2026-03", V2, {"1.1.01": 2, "2.1.01": 1}),
                workbook("B", "2026-03", V2, {}, unanswered=("1.1.01",)),
                workbook("D", "2026-03", V2, {"2.1.02": 1}),
            ],
            [],
            3,
            "2026-04-01T10:00:00",
        ),
        batch(
            [],
            [missing("A", "2026-04"), missing("B", "2026-04"), missing("D", "2026-04")],
            3,
            "2026-05-01T10:00:00",
        ),
    ]


def build_history(path: Path) -> Path:
    for b in three_months():
        record_batch(path, b)
    return path


def rows(where: Path | str, sql: str) -> list[tuple]:
    """The rows of `sql` in the history `where` (a SQLite path or a PostgreSQL URL)."""
    if is_url(where):
        import psycopg

        with psycopg.connect(str(where)) as conn:
            return [tuple(r) for r in conn.execute(re.sub(r"\btypeof\((\w+)\)", r"pg_typeof(\1)::text", sql)).fetchall()]  # fmt: skip
    with sqlite3.connect(path_of(where)) as conn:
        return conn.execute(sql).fetchall()


def path_of(where: Path | str) -> Path:
    return Path(where)


def schema_version(where: Path | str) -> int:
    with open_read(where, missing="") as conn:
        return conn.schema_version()


# --- tests ------------------------------------------------------------------------------


def test_hand_computed_scores_are_what_the_scorer_gives() -> None:
    cards = {
        (w.site_code, str(w.period), w.file): w.card for b in three_months() for w in b.workbooks
    }
    percents = {k: (c.total, c.max_score, c.percent) if c else None for k, c in cards.items()}
    assert percents == {
        ("A", "2026-01", "2026-01/A.xlsx"): (Decimal("18.00"), Decimal(20), Decimal("90.00")),
        ("B", "2026-01", "2026-01/B.xlsx"): (Decimal("18.50"), Decimal(20), Decimal("92.50")),
        ("C", "2026-01", "2026-01/C.xlsx"): (Decimal("15.50"), Decimal(20), Decimal("77.50")),
        ("A", "2026-02", "2026-02/A.xlsx"): (Decimal("16.50"), Decimal(20), Decimal("82.50")),
        ("A", "2026-02", "2026-02/A-v1.xlsx"): (Decimal("19.50"), Decimal(20), Decimal("97.50")),
        ("B", "2026-02", "2026-02/B.xlsx"): (Decimal("18.00"), Decimal(20), Decimal("90.00")),
        ("C", "2026-02", "2026-02/C.xlsx"): (Decimal("18.00"), Decimal(20), Decimal("90.00")),
        ("D", "2026-02", "2026-02/D.xlsx"): (Decimal("9.50"), Decimal(10), Decimal("95.00")),
        ("A", "2026-03", "2026-03/A.xlsx"): (Decimal("17.00"), Decimal(20), Decimal("85.00")),
        ("B", "2026-03", "2026-03/B.xlsx"): None,
        ("D", "2026-03", "2026-03/D.xlsx"): (Decimal("18.00"), Decimal(20), Decimal("90.00")),
    }


def test_history_is_created_on_first_use_with_a_versioned_schema(history_at: Path | str) -> None:
    path = history_at if is_url(history_at) else history_at.parent / "sub" / "h.sqlite"
    summary = record_batch(path, three_months()[0])
    assert is_url(path) or path.exists()
    assert schema_version(path) == SCHEMA_VERSION
    assert SCHEMA_VERSION == len(history.MIGRATIONS) == 7
    assert (
        summary.recorded_graded,
        summary.recorded_sent_back,
        summary.already_recorded,
        summary.superseded,
        summary.issued_added,
    ) == (3, 0, 0, 0, 3)
    assert summary.message() == (
        f"历史库 {path}：新记录 3 份（评分 3，退回 0），已记录过 0 份，被重新提交替代 0 份。"
    )


def test_default_path_is_the_current_folder_unless_the_environment_says(monkeypatch) -> None:
    monkeypatch.delenv("AUDIT_XLS_HISTORY", raising=False)
    assert default_history_path() == Path("audit-xls-history.sqlite")
    monkeypatch.setenv("AUDIT_XLS_HISTORY", "/srv/hq/history.sqlite")
    assert default_history_path() == Path("/srv/hq/history.sqlite")


def test_decimals_are_stored_as_exact_text(history_at: Path | str) -> None:
    path = build_history(history_at)
    assert rows(
        path,
        "SELECT site_code, period, score, max_score, percent, grade, "
        "typeof(percent) FROM workbooks WHERE status = 'graded' AND period = "
        "'2026-02' ORDER BY id",
    ) == [
        ("A", "2026-02", "16.50", "20", "82.50", "良好", "text"),
        ("B", "2026-02", "18.00", "20", "90.00", "优秀", "text"),
        ("C", "2026-02", "18.00", "20", "90.00", "优秀", "text"),
        ("D", "2026-02", "9.50", "10", "95.00", "优秀", "text"),
        ("A", "2026-02", "19.50", "20", "97.50", "优秀", "text"),
    ]
    assert rows(
        path,
        "SELECT c.code, c.section_code, c.result, c.problem_points, c.deduction, "
        "c.note FROM criteria c JOIN workbooks w ON w.id = c.workbook "
        "WHERE w.file = '2026-01/C.xlsx' ORDER BY c.code",
    ) == [
        ("1.1.01", "1", "fail", 1, "0.5", "C2026-01问题1.1.01"),
        ("1.1.02", "1", "pass", 0, "0", ""),
        ("2.1.01", "2", "pass", 0, "0", ""),
        ("2.1.02", "2", "fail", 4, "4", "C2026-01问题2.1.02"),
    ]
    assert rows(
        path,
        "SELECT s.code, s.points, s.deducted, s.score, s.applicable FROM sections s "
        "JOIN workbooks w ON w.id = s.workbook WHERE w.file = '2026-02/D.xlsx'",
    ) == [
        ("1", "10", "0.5", "9.5", 1),
        ("2", "10", "0", "0", 0),
    ]


def test_resubmission_supersedes_and_sent_back_does_not(history_at: Path | str) -> None:
    path = history_at
    summaries = [record_batch(path, b) for b in three_months()]
    assert [s.superseded for s in summaries] == [0, 0, 1, 0, 0]
    assert [(s.recorded_graded, s.recorded_sent_back) for s in summaries] == [
        (3, 0),
        (4, 0),
        (1, 0),
        (2, 1),
        (0, 0),
    ]
    new_id = rows(path, "SELECT id FROM workbooks WHERE file = '2026-02/A-v1.xlsx'")[0][0]
    assert rows(
        path,
        "SELECT file, status, superseded, superseded_by FROM workbooks "
        "WHERE superseded = 1 OR status = 'sent_back' ORDER BY id",
    ) == [
        ("2026-02/A.xlsx", "graded", 1, new_id),
        ("2026-03/B.xlsx", "sent_back", 0, None),
    ]
    assert rows(
        path,
        "SELECT d.severity, d.code, d.sheet, d.cell, d.message FROM diagnostics d "
        "JOIN workbooks w ON w.id = d.workbook WHERE w.status = 'sent_back'",
    ) == [
        ("error", "answer.missing", "检查表", "G3", "检查表 / G3：未填写检查结果"),
    ]


def test_sent_back_resubmission_leaves_the_graded_result_current(history_at: Path | str) -> None:
    path = history_at
    record_batch(
        path, batch([workbook("A", "2026-01", V1, {"1.1.01": 2})], [], None, "2026-02-01T10:00:00")
    )
    bad = workbook("A", "2026-01", V1, {}, unanswered=("1.1.02",), copy=1)
    summary = record_batch(path, batch([bad], [], None, "2026-02-02T10:00:00"))
    assert (summary.recorded_sent_back, summary.superseded) == (1, 0)
    frames = load_history(path)
    assert list(frames.current["file"]) == ["2026-01/A.xlsx"]
    assert list(frames.sent_back["file"]) == ["2026-01/A-v1.xlsx"]


def test_a_resubmission_supersedes_the_older_copy_whichever_office_records_first(
    history_at: Path | str,
) -> None:
    path = history_at
    newer = workbook("A", "2026-01", V1, {}, copy=1)  # modified a minute after the first file
    older = workbook("A", "2026-01", V1, {"1.1.01": 2})
    summaries = [
        record_batch(path, batch([newer], [], None, "2026-02-01T10:00:00")),
        record_batch(path, batch([older], [], None, "2026-02-02T10:00:00")),
    ]
    assert [(s.recorded_graded, s.superseded) for s in summaries] == [(1, 0), (1, 1)]
    newer_id = rows(path, "SELECT id FROM workbooks WHERE file = '2026-01/A-v1.xlsx'")[0][0]
    assert rows(
        path, "SELECT file, superseded, superseded_by, modified FROM workbooks ORDER BY id"
    ) == [
        ("2026-01/A-v1.xlsx", 0, None, "2026-01-20T09:01:00"),
        ("2026-01/A.xlsx", 1, newer_id, "2026-01-20T09:00:00"),
    ]
    assert list(load_history(path).current["file"]) == ["2026-01/A-v1.xlsx"]
    assert tools.check(path).ok


def test_the_order_of_recording_copies_gives_the_same_current_rows(history_at: Path | str) -> None:
    path = history_at
    orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2]]
    for n, order in enumerate(orders):
        period = f"2026-{n + 1:02d}"  # a month for each order, in one history
        files = [
            workbook("A", period, V1, {"1.1.01": 2}),
            workbook("A", period, V1, {}, copy=1),
            workbook("A", period, V1, {"1.1.02": 1}, copy=2),
        ]
        for k, i in enumerate(order):
            record_batch(path, batch([files[i]], [], None, f"2026-{n + 2:02d}-0{k + 1}T10:00:00"))
    current = load_history(path).current.sort_values("period")
    assert [(r.period, r.file, r.percent) for r in current.itertuples()] == [
        (f"2026-{n + 1:02d}", f"2026-{n + 1:02d}/A-v2.xlsx", "97.50") for n in range(len(orders))
    ]
    # whatever superseded a row is a newer file than it
    assert rows(
        path,
        "SELECT count(*) FROM workbooks w JOIN workbooks n ON n.id = w.superseded_by "
        "WHERE n.modified < w.modified",
    ) == [(0,)]
    assert rows(path, "SELECT count(*), sum(superseded) FROM workbooks") == [(18, 12)]
    assert tools.check(path).ok


def test_merge_keeps_the_newer_copy_whichever_history_graded_it_first(tmp_path: Path) -> None:
    newer = workbook("A", "2026-01", V1, {}, copy=1)
    older = workbook("A", "2026-01", V1, {"1.1.01": 2})
    record_batch(tmp_path / "east.sqlite", batch([newer], [], None, "2026-02-01T10:00:00"))
    record_batch(tmp_path / "west.sqlite", batch([older], [], None, "2026-02-02T10:00:00"))
    into = tmp_path / "hq.sqlite"
    summary = tools.merge([tmp_path / "east.sqlite", tmp_path / "west.sqlite"], into)
    assert (summary.recorded_graded, summary.superseded) == (2, 1)
    assert rows(
        into,
        "SELECT w.file, w.modified, n.file FROM workbooks w "
        "LEFT JOIN workbooks n ON n.id = w.superseded_by ORDER BY w.id",
    ) == [
        ("2026-01/A-v1.xlsx", "2026-01-20T09:01:00", None),
        ("2026-01/A.xlsx", "2026-01-20T09:00:00", "2026-01/A-v1.xlsx"),
    ]
    assert tools.check(into).ok


def test_a_copy_of_unknown_time_loses_to_a_known_one(history_at: Path | str) -> None:
    path = history_at
    known = workbook("A", "2026-01", V1, {"1.1.01": 2})
    unknown = workbook("A", "2026-01", V1, {}, copy=1)
    unknown.modified = None
    record_batch(path, batch([known], [], None, "2026-02-01T10:00:00"))
    summary = record_batch(path, batch([unknown], [], None, "2026-02-02T10:00:00"))
    assert summary.superseded == 1
    assert list(load_history(path).current["file"]) == ["2026-01/A.xlsx"]
    # two unknown times: the later recorded wins, as before the modified time was kept
    again = workbook("A", "2026-02", V1, {}, copy=1)
    first = workbook("A", "2026-02", V1, {"1.1.01": 2})
    again.modified = first.modified = None
    record_batch(path, batch([again], [], None, "2026-03-01T10:00:00"))
    record_batch(path, batch([first], [], None, "2026-03-02T10:00:00"))
    assert sorted(load_history(path).current["file"]) == ["2026-01/A.xlsx", "2026-02/A.xlsx"]


def test_duplicate_in_one_batch_keeps_the_newer_file(history_at: Path | str) -> None:
    path = history_at
    older = workbook("A", "2026-01", V1, {"1.1.01": 2})
    newer = workbook("A", "2026-01", V1, {}, copy=1)
    older.duplicate_of = newer.file
    summary = record_batch(path, batch([newer, older], [], None, "2026-02-01T10:00:00"))
    assert (summary.recorded_graded, summary.superseded) == (2, 1)
    assert list(load_history(path).current["file"]) == ["2026-01/A-v1.xlsx"]


def test_duplicate_whose_newer_copy_was_sent_back_counts_as_the_summary_does(
    history_at: Path | str,
) -> None:
    """The summary counts the newer file of a workbook returned twice; so does the history."""
    path = history_at
    older = workbook("A", "2026-01", V1, {"1.1.01": 2})
    newer = workbook("A", "2026-01", V1, {}, unanswered=("1.1.02",), copy=1)
    older.duplicate_of = newer.file
    summary = record_batch(path, batch([newer, older], [], None, "2026-02-01T10:00:00"))
    assert (summary.recorded_graded, summary.recorded_sent_back) == (1, 1)
    frames = load_history(path)
    assert list(frames.current["file"]) == []
    assert rows(path, "SELECT file, status, superseded FROM workbooks ORDER BY id") == [
        ("2026-01/A.xlsx", "graded", 1),
        ("2026-01/A-v1.xlsx", "sent_back", 0),
    ]


def test_an_older_copy_found_in_a_later_run_never_supersedes_the_newer(
    history_at: Path | str,
) -> None:
    path = history_at
    newer = workbook("A", "2026-01", V1, {}, copy=1)
    record_batch(path, batch([newer], [], None, "2026-02-01T10:00:00"))
    older = workbook("A", "2026-01", V1, {"1.1.01": 2})
    older.duplicate_of = newer.file  # the same folder graded again with the older copy in it
    summary = record_batch(path, batch([newer, older], [], None, "2026-02-02T10:00:00"))
    assert (summary.recorded_graded, summary.already_recorded) == (1, 1)
    assert list(load_history(path).current["file"]) == ["2026-01/A-v1.xlsx"]


def test_grading_the_same_returns_twice_records_them_once(history_at: Path | str) -> None:
    path = build_history(history_at)
    before = rows(path, "SELECT * FROM workbooks ORDER BY id")
    again = [record_batch(path, b) for b in three_months()]
    assert [(s.recorded, s.already_recorded, s.superseded, s.issued_added) for s in again] == [
        (0, 3, 0, 0),
        (0, 4, 0, 0),
        (0, 1, 0, 0),
        (0, 3, 0, 0),
        (0, 0, 0, 0),
    ]
    assert rows(path, "SELECT * FROM workbooks ORDER BY id") == before
    assert rows(path, "SELECT count(*) FROM criteria") == [(10 * 4,)]
    assert rows(path, "SELECT count(*) FROM issued") == [(13,)]


def test_an_interrupted_batch_leaves_the_history_as_it_was(
    history_at: Path | str, monkeypatch
) -> None:
    path = history_at
    record_batch(path, three_months()[0])
    before = {
        t: rows(path, f"SELECT * FROM {t} ORDER BY rowid")
        for t in ("workbooks", "criteria", "sections", "diagnostics", "issued")
    }
    real = history.Connection.insert_many
    calls = []

    def fail_on_third(conn, table, columns, rows_):
        calls.append(table)
        if len(calls) == 3:  # workbooks and criteria written, then Ctrl+C
            raise KeyboardInterrupt
        real(conn, table, columns, rows_)

    monkeypatch.setattr(history.Connection, "insert_many", fail_on_third)
    with pytest.raises(KeyboardInterrupt):
        record_batch(path, three_months()[1])
    assert calls == ["workbooks", "criteria", "sections"]
    after = {t: rows(path, f"SELECT * FROM {t} ORDER BY rowid") for t in before}
    assert after == before
    monkeypatch.setattr(history.Connection, "insert_many", real)
    assert record_batch(path, three_months()[1]).recorded_graded == 4


def test_an_interrupted_resubmission_does_not_unmark_or_mark_anything(
    history_at: Path | str, monkeypatch
) -> None:
    path = history_at
    for b in three_months()[:2]:
        record_batch(path, b)

    def broken_issued(_batch):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(history, "_issued_rows", broken_issued)
    # SQLite's failures become located messages; another driver's error propagates as it is
    expected = sqlite3.OperationalError if history.is_url(path) else HistoryError
    with pytest.raises(expected) as error:
        record_batch(path, three_months()[2])
    if expected is HistoryError:
        assert str(error.value) == (
            f"历史库 {path} 无法打开或写入（disk I/O error）：请检查路径和权限。"
        )
    assert rows(path, "SELECT count(*), sum(superseded) FROM workbooks") == [(7, 0)]


def test_load_history_filters(history_at: Path | str) -> None:
    path = build_history(history_at)
    frames = load_history(path)
    assert len(frames.workbooks) == 11
    assert list(frames.current["file"]) == [
        "2026-01/A.xlsx",
        "2026-01/B.xlsx",
        "2026-01/C.xlsx",
        "2026-02/B.xlsx",
        "2026-02/C.xlsx",
        "2026-02/D.xlsx",
        "2026-02/A-v1.xlsx",
        "2026-03/A.xlsx",
        "2026-03/D.xlsx",
    ]
    south = load_history(path, from_="2026-02", to="2026-03", region="华南")
    assert list(south.workbooks["file"]) == ["2026-02/C.xlsx", "2026-02/D.xlsx", "2026-03/D.xlsx"]
    assert sorted(set(south.criteria["workbook"])) == sorted(south.workbooks["id"])
    assert list(south.issued["workbook_id"]) == ["T-C-2026-02", "T-D-2026-02", "T-D-2026-03"]
    assert load_history(path, region="华北").workbooks.empty
    assert load_history(path, standard="other").workbooks.empty
    assert list(load_history(path, to="2026-01").workbooks["standard_version"]) == ["1"] * 3


def test_missing_history_and_foreign_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(HistoryError) as missing_file:
        load_history(tmp_path / "none.sqlite")
    assert str(missing_file.value) == (
        f"历史库 {tmp_path / 'none.sqlite'} 不存在：请先用 audit-xls grade --history "
        f"{tmp_path / 'none.sqlite'} 评分并记录结果。"
    )
    assert not (tmp_path / "none.sqlite").exists()
    foreign = tmp_path / "notes.sqlite"
    foreign.write_text("这不是数据库" * 200, encoding="utf-8")
    with pytest.raises(HistoryError, match="不是 audit-xls 的历史库"):
        record_batch(foreign, three_months()[0])


def test_a_newer_schema_is_refused(history_at: Path | str) -> None:
    path = build_history(history_at)
    with open_write(path) as conn:
        conn.set_schema_version(SCHEMA_VERSION + 1)
    with pytest.raises(HistoryError) as newer:
        load_history(path)
    assert str(newer.value) == (
        f"历史库 {path}：结构版本 {SCHEMA_VERSION + 1} 比本程序支持的 {SCHEMA_VERSION} 新，"
        "请升级 audit-xls 后再使用。"
    )
    with pytest.raises(HistoryError, match="请升级 audit-xls"):
        record_batch(path, three_months()[0])


def test_a_locked_history_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    path = build_history(tmp_path / "h.sqlite")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        history.sqlite3, "connect", lambda *a, **k: real_connect(*a, **{**k, "timeout": 0.05})
    )
    try:
        with pytest.raises(HistoryError, match="正被另一个程序使用"):
            record_batch(path, three_months()[0])
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --- a file sent back first, graded later (finding 1) -----------------------------------


def sent_back_copy(graded: WorkbookResult) -> WorkbookResult:
    """The same file (same bytes) as graded against a wrong register: sent back, no score."""
    return WorkbookResult(
        file=graded.file,
        file_hash=graded.file_hash,
        workbook_id=graded.workbook_id,
        site_code=graded.site_code,
        site_name=graded.site_name,
        region=graded.region,
        period=graded.period,
        standard=graded.standard,
        inspector=graded.inspector,
        inspection_date=graded.inspection_date,
        answers=graded.answers,
        modified=graded.modified,
        status=SENT_BACK,
        diagnostics=[
            Diagnostic(ERROR, "issued.not_issued", "不在发放登记表中", sheet="_manifest", cell="")
        ],
    )


def test_a_file_sent_back_then_graded_unchanged_is_recorded_graded(history_at: Path | str) -> None:
    path = history_at
    a = workbook("A", "2026-01", V1, {"1.1.01": 2})
    b = workbook("B", "2026-01", V1, {})
    wrong = record_batch(
        path, batch([sent_back_copy(a), sent_back_copy(b)], [], 2, "2026-02-01T10:00:00")
    )
    assert (wrong.recorded_graded, wrong.recorded_sent_back, wrong.already_recorded) == (0, 2, 0)
    right = record_batch(path, batch([a, b], [], 2, "2026-02-01T11:00:00"))
    assert (
        right.recorded_graded,
        right.recorded_sent_back,
        right.already_recorded,
        right.superseded,
        right.regraded,
    ) == (2, 0, 0, 0, 2)
    assert right.message() == (
        f"历史库 {path}：新记录 2 份（评分 2，退回 0），已记录过 0 份，被重新提交替代 0 份，"
        "此前退回、现已评分 2 份。"
    )
    ids = dict(rows(path, "SELECT file || ':' || status, id FROM workbooks"))
    assert rows(
        path, "SELECT file, status, superseded, superseded_by FROM workbooks ORDER BY id"
    ) == [
        ("2026-01/A.xlsx", "sent_back", 1, ids["2026-01/A.xlsx:graded"]),
        ("2026-01/B.xlsx", "sent_back", 1, ids["2026-01/B.xlsx:graded"]),
        ("2026-01/A.xlsx", "graded", 0, None),
        ("2026-01/B.xlsx", "graded", 0, None),
    ]
    # Graded again: recorded once. Sent back again (a wrong register once more): nothing new.
    again = record_batch(path, batch([a, b], [], 2, "2026-02-01T12:00:00"))
    assert (again.recorded, again.already_recorded, again.regraded) == (0, 2, 0)
    back_again = record_batch(path, batch([sent_back_copy(a)], [], 2, "2026-02-01T13:00:00"))
    assert (back_again.recorded, back_again.already_recorded) == (0, 1)
    assert rows(path, "SELECT count(*) FROM workbooks") == [(4,)]
    frames = load_history(path)
    assert [(r.file, r.percent) for r in frames.current.itertuples()] == [
        ("2026-01/A.xlsx", "95.00"),
        ("2026-01/B.xlsx", "100.00"),
    ]


def test_returns_not_in_the_register_are_not_recorded_as_issued(history_at: Path | str) -> None:
    """Graded against another month's register: only that register's entries count as issued."""
    path = history_at
    a = workbook("A", "2026-01", V1, {})
    b = workbook("B", "2026-01", V1, {})
    tampered = workbook("C", "2026-01", V1, {})
    tampered.set_period("1999-99")
    tampered.status, tampered.card = SENT_BACK, None
    tampered.diagnostics = [
        Diagnostic(ERROR, "manifest.tampered", "清单被修改", sheet="_manifest", cell="")
    ]
    february = [missing("A", "2026-02"), missing("B", "2026-02")]
    record_batch(
        path,
        batch([sent_back_copy(a), sent_back_copy(b), tampered], february, 2, "2026-02-01T10:00:00"),
    )
    assert rows(path, "SELECT workbook_id, period, standard_id FROM issued ORDER BY 1") == [
        ("T-A-2026-02", "2026-02", "T"),
        ("T-B-2026-02", "2026-02", "T"),
    ]
    # The right register later: January's entries are added once, February's stay once.
    record_batch(path, batch([a, b], [missing("C", "2026-01")], 3, "2026-02-01T11:00:00"))
    record_batch(path, batch([a, b], [missing("C", "2026-01")], 3, "2026-02-01T12:00:00"))
    assert rows(path, "SELECT workbook_id, period FROM issued ORDER BY 1") == [
        ("T-A-2026-01", "2026-01"),
        ("T-A-2026-02", "2026-02"),
        ("T-B-2026-01", "2026-01"),
        ("T-B-2026-02", "2026-02"),
        ("T-C-2026-01", "2026-01"),
    ]


def version_1_history(path: Path, monkeypatch) -> Path:
    """A history written by the release with schema version 1 (UNIQUE file_hash, workbook_id)."""
    with monkeypatch.context() as patch:
        patch.setattr(history, "MIGRATIONS", history.MIGRATIONS[:1])
        patch.setattr(history, "SCHEMA_VERSION", 1)
        patch.setattr(history.ledger, "record_graded", lambda *args: 0)  # no ledger in v1
        build_history(path)
    assert rows(path, "PRAGMA user_version") == [(1,)]
    return path


def test_a_version_1_history_is_upgraded_by_the_next_grade(tmp_path: Path, monkeypatch) -> None:
    path = version_1_history(tmp_path / "h.sqlite", monkeypatch)
    before = rows(path, "SELECT * FROM workbooks ORDER BY id")
    b_march = next(w for w in three_months()[3].workbooks if w.site_code == "B")
    b_march.status, b_march.diagnostics = GRADED, []
    b_march.answers["1.1.01"] = Answer(PASS)
    b_march.card = score(V2, b_march.answers)
    summary = record_batch(path, batch([b_march], [], None, "2026-04-02T10:00:00"))
    assert (summary.recorded_graded, summary.regraded) == (1, 1)
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    after = rows(path, "SELECT * FROM workbooks ORDER BY id")
    sent_back_id = next(r[0] for r in before if r[11] == "sent_back")
    # rows of version 1 keep their values, their file's modified time unknown (NULL)
    assert [r[:-1] for r in after[:-1]] == [
        r if r[0] != sent_back_id else (*r[:20], 1, after[-1][0]) for r in before
    ]
    assert [r[-1] for r in after] == [None] * len(before) + ["2026-03-20T09:00:00"]
    assert rows(path, "PRAGMA foreign_key_check") == []
    assert rows(path, "SELECT count(*) FROM criteria") == [(10 * 4 + 4,)]
