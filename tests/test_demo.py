"""The demo: the whole product from issue to monthly report, deterministic for a seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from audit_xls.cli import cli
from audit_xls.demo import DemoError, account, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo") / "out", use_soffice=False, echo=lambda _: None)


def test_each_month_is_issued_returned_graded_and_counted(demo):
    counts = [
        (
            str(run.period),
            run.batch.issued_count,
            len(run.batch.workbooks),
            len(run.batch.graded),
            len(run.batch.sent_back),
            len(run.batch.skipped),
            len(run.batch.missing),
        )
        for run in demo.months
    ]
    assert counts == [
        ("2026-09", 24, 23, 22, 1, 0, 1),
        ("2026-10", 24, 24, 22, 2, 0, 0),
        ("2026-11", 24, 23, 22, 1, 1, 1),
    ]


def test_the_planted_mistakes_are_sent_back_with_their_cells(demo):
    sent_back = {
        w.file: (w.errors[0].code, w.errors[0].sheet, w.errors[0].cell)
        for run in demo.months
        for w in run.batch.sent_back
    }
    assert sent_back == {
        "2026-09_HD006_虹桥商务广场.xlsx": ("answer.unanswered", "检查表", "G7"),
        "2026-10_HD003_金桥国际中心.xlsx": ("answer.contradictory", "检查表", "H4"),
        "2026-10_HN004_南山海岸城.xlsx": ("answer.invalid_points", "检查表", "H5"),
        "2026-11_HD005_静安公馆.xlsx": ("locked.changed", "检查表", "D9"),
    }
    skipped = [(s.file, s.reason) for s in demo.months[-1].batch.skipped]
    assert skipped == [
        ("~$2026-11_HD001_滨江花园.xlsx", "办公软件生成的临时或系统文件，不是检查表，已忽略。")
    ]


def test_a_fail_without_count_is_graded_with_a_warning(demo):
    (warned,) = [w for w in demo.months[-1].batch.graded if w.diagnostics]
    assert warned.file == "2026-11_HN002_天河汇金中心.xlsx"
    assert [(d.severity, d.code, d.cell) for d in warned.diagnostics] == [
        ("warning", "answer.fail_without_points", "H4")
    ]


def test_everything_is_written(demo):
    names = sorted(p.name for p in (demo.out / "reports").iterdir())
    assert names == [
        "整改回复-2026-09-30.xlsx",
        "整改回复-2026-10-02.xlsx",
        "整改回复-2026-10-31.xlsx",
        "整改回复-2026-11-02.xlsx",
        "整改回复-2026-11-30.xlsx",
        "整改回复-2026-12-02.xlsx",
        "月度汇总.xlsx",
        "评分明细-2026-09.csv",
        "评分明细-2026-10.csv",
        "评分明细-2026-11.csv",
        "评分汇总-2026-09.xlsx",
        "评分汇总-2026-10.xlsx",
        "评分汇总-2026-11.xlsx",
    ]
    assert demo.history.stat().st_size > 0
    lines = account(demo)
    assert lines[:3] == [
        "2026-09：下发 24 份，共读取 23 个工作簿：评分 22 个，退回 1 个；跳过 0 个文件；未交 1 个。",
        "退回 1 个（按说明改正后重新交回）：",
        "  2026-09_HD006_虹桥商务广场.xlsx：检查表!G7 2 条检查标准未填写检查结果："
        "1.1.04（G7）、1.1.05（G8）：请逐条选择检查结果后发回。",
    ]
    assert lines[3].startswith("催交 1 个（已下发，未交回）：")
    assert lines[-1] == "（交回文件由 openpyxl 保存，未经 LibreOffice；.xls/.ods 样例保留为 .xlsx）"


def test_same_seed_same_results_and_safe_to_run_twice(demo, tmp_path):
    again = run_demo(demo.out, use_soffice=False, echo=lambda _: None)  # same folder, second run
    first = [
        (w.file, w.card.total if w.card else None) for r in demo.months for w in r.batch.workbooks
    ]
    second = [
        (w.file, w.card.total if w.card else None) for r in again.months for w in r.batch.workbooks
    ]
    assert first == second


def test_refuses_to_empty_a_folder_it_did_not_make(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DemoError, match="不是 audit-xls demo 的输出文件夹"):
        run_demo(tmp_path, use_soffice=False, echo=lambda _: None)
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_cli_demo_one_month(tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["demo", "--out", str(tmp_path / "d"), "--months", "1", "--no-soffice"]
    )
    assert result.exit_code == 0, result.output
    # With one month every planted mistake lands in it.
    assert (
        "2026-09：下发 24 份，共读取 22 个工作簿：评分 18 个，退回 4 个；跳过 1 个文件；未交 2 个。"
        in result.output
    )
    assert "Traceback" not in result.output


def test_the_supervision_cycle_runs_over_the_months(demo):
    """Notices each month, most sites reply (two late, three never), 复查 next month; HB001
    claims every fix and the next inspection finds none done."""
    cycles = [(str(c.period), c.notices, c.problems, c.replies, c.silent) for c in demo.cycles]
    assert [(p, n, [(d, ok, bad) for d, ok, bad in r]) for p, n, _, r, _ in cycles] == [
        ("2026-09", 13, [("2026-09-30", 8, 0), ("2026-10-02", 2, 0)]),
        ("2026-10", 17, [("2026-10-31", 13, 0), ("2026-11-02", 1, 0)]),
        ("2026-11", 16, [("2026-11-30", 11, 0), ("2026-12-02", 2, 0)]),
    ]
    from audit_xls.history.store import _connect
    from audit_xls.rectify.ledger import replay

    with _connect(demo.history) as conn:
        states = list(replay(conn).values())
    liar = [s for s in states if s.site_code == "HB001" and str(s.period) == "2026-09"]
    assert liar and all(s.reopened >= 1 for s in liar)
    assert any(e.kind == "replied" and e.status == "claimed" for s in liar for e in s.events)
    assert {s.status for s in states} >= {"closed", "open", "claimed"}
    assert any(s.late for s in states) and any(not s.late and s.replied_on for s in states)
