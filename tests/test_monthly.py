"""Monthly pivots over the three-month history of test_history.py, with hand-computed values.

Site 得分率 (current results only; A's first February file, 82.50, was superseded):

|   | 2026-01 | 2026-02 | 2026-03 | 2026-04 (issued, nothing returned) |
|---|---------|---------|---------|------------------------------------|
| A | 90.00   | 97.50   | 85.00   |                                    |
| B | 92.50   | 90.00   | sent back                                    |
| C | 77.50   | 90.00   | (left)  |                                    |
| D | (joins) | 95.00   | 90.00   |                                    |

华东 = mean(A, B): 91.25, 93.75, 85.00. 华南 = mean(C, D): 77.50, 92.50, 90.00.
全部项目: 260/3 = 86.666.. -> 86.67; 372.5/4 = 93.125 -> 93.13 (half up); 175/2 = 87.50.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from returns import ISSUED_ON, fill, mini_standard
from test_history import V1, batch, build_history, workbook

from audit_xls.cli import cli
from audit_xls.history.monthly import MonthlyError, monthly_report
from audit_xls.history.monthly_exports import monthly_to_json, write_monthly_csv
from audit_xls.history.monthly_workbook import write_monthly
from audit_xls.history.store import record_batch
from audit_xls.model.results import GRADED, WorkbookResult
from audit_xls.model.score import PASS, Answer, score

N = None
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def table(frame) -> list[list]:
    """Header then rows, NaN/NA as None, so expectations can be written as plain lists."""

    def plain(value):
        if value is None or value is pd.NA:
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        return value.item() if hasattr(value, "item") else value

    return [list(frame.columns)] + [
        [plain(v) for v in row] for row in frame.itertuples(index=False)
    ]


@pytest.fixture(scope="module")
def history_path(tmp_path_factory) -> Path:
    return build_history(tmp_path_factory.mktemp("monthly") / "h.sqlite")


@pytest.fixture(scope="module")
def report(history_path):
    return monthly_report(history_path)


def test_site_month_pivot_and_changes(report) -> None:
    assert [str(m) for m in report.months] == MONTHS
    assert str(report.latest_month) == "2026-03"
    assert table(report.site_rates) == [
        ["项目编码", "项目名称", "区域", *MONTHS, "较上月"],
        ["A", "A项目", "华东", 90.0, 97.5, 85.0, N, -12.5],
        ["B", "B项目", "华东", 92.5, 90.0, N, N, N],
        ["C", "C项目", "华南", 77.5, 90.0, N, N, N],
        ["D", "D项目", "华南", N, 95.0, 90.0, N, -5.0],
    ]
    assert table(report.site_changes) == [
        ["项目编码", "项目名称", "区域", *MONTHS],
        ["A", "A项目", "华东", N, 7.5, -12.5, N],
        ["B", "B项目", "华东", N, -2.5, N, N],
        ["C", "C项目", "华南", N, 12.5, N, N],
        ["D", "D项目", "华南", N, N, -5.0, N],
    ]


def test_region_and_section_means(report) -> None:
    assert table(report.region_rates) == [
        ["区域", *MONTHS],
        ["华东", 91.25, 93.75, 85.0, N],
        ["华南", 77.5, 92.5, 90.0, N],
        ["全部项目", 86.67, 93.13, 87.5, N],
    ]
    # 服务 (10): Jan A 9, B 8.5, C 9.5; Feb A 9.5, B 10, C 9, D 9.5; Mar A 9, D 10.
    # 环境 (10): Jan A 9, B 10, C 6 -> 250/3; Feb A 10, B 8, C 9 (D 不适用); Mar v2 A 8, D 8.
    assert table(report.section_rates) == [
        ["标准", "一级指标编码", "一级指标", *MONTHS],
        ["T", "1", "服务", 90.0, 95.0, 95.0, N],
        ["T", "2", "环境", 83.33, 90.0, 80.0, N],
    ]


def test_ranking_with_ties_and_changes(report) -> None:
    assert table(report.ranking) == [
        ["月份", "排名", "项目编码", "项目名称", "区域", "得分率(%)", "上月排名", "排名变化"],
        ["2026-01", 1, "B", "B项目", "华东", 92.5, N, N],
        ["2026-01", 2, "A", "A项目", "华东", 90.0, N, N],
        ["2026-01", 3, "C", "C项目", "华南", 77.5, N, N],
        ["2026-02", 1, "A", "A项目", "华东", 97.5, 2, 1],
        ["2026-02", 2, "D", "D项目", "华南", 95.0, N, N],
        ["2026-02", 3, "B", "B项目", "华东", 90.0, 1, -2],
        ["2026-02", 3, "C", "C项目", "华南", 90.0, 3, 0],
        ["2026-03", 1, "D", "D项目", "华南", 90.0, 2, 1],
        ["2026-03", 2, "A", "A项目", "华东", 85.0, 1, -1],
    ]


def test_repeated_problems_ignore_superseded_results(report) -> None:
    # A failed 2.1.01 in January, in its superseded February file and in March: not repeated.
    assert table(report.repeats) == [
        [
            "项目编码",
            "项目名称",
            "区域",
            "标准",
            "指标编码",
            "一级指标",
            "检查标准",
            "连续月数",
            "月份",
            "各月问题点数",
            "此前报已整改",
            "最近问题描述",
        ],
        [
            "A",
            "A项目",
            "华东",
            "T",
            "1.1.01",
            "服务",
            "主动问好",
            3,
            "2026-01、2026-02、2026-03",
            "2、1、2",
            "",
            "A2026-03问题1.1.01",
        ],
        [
            "C",
            "C项目",
            "华南",
            "T",
            "1.1.01",
            "服务",
            "主动问好",
            2,
            "2026-01、2026-02",
            "1、2",
            "",
            "C2026-02问题1.1.01",
        ],
        [
            "C",
            "C项目",
            "华南",
            "T",
            "2.1.02",
            "环境",
            "标识完好",
            2,
            "2026-01、2026-02",
            "4、1",
            "",
            "C2026-02问题2.1.02",
        ],
    ]


def test_returns_per_month_including_a_month_with_no_returns(report) -> None:
    assert table(report.returns) == [
        ["月份", "下发", "回收", "已评分", "退回未评", "未回收"],
        ["2026-01", 3, 3, 3, 0, 0],
        ["2026-02", 4, 4, 4, 0, 0],  # A returned twice, counted once
        ["2026-03", 3, 3, 2, 1, 0],
        ["2026-04", 3, 0, 0, 0, 3],
    ]


def test_detail_and_the_revised_standard(report) -> None:
    detail = table(report.detail)
    assert detail[0] == [
        "月份",
        "项目编码",
        "项目名称",
        "区域",
        "标准",
        "标准版本",
        "得分",
        "应得分",
        "得分率(%)",
        "评级",
        "督导人员",
        "检查日期",
        "评分时间",
        "文件",
        "工作簿编号",
    ]
    assert [row[:10] for row in detail[1:]] == [
        ["2026-01", "A", "A项目", "华东", "T", "1", 18.0, 20.0, 90.0, "优秀"],
        ["2026-01", "B", "B项目", "华东", "T", "1", 18.5, 20.0, 92.5, "优秀"],
        ["2026-01", "C", "C项目", "华南", "T", "1", 15.5, 20.0, 77.5, "合格"],
        ["2026-02", "A", "A项目", "华东", "T", "1", 19.5, 20.0, 97.5, "优秀"],
        ["2026-02", "B", "B项目", "华东", "T", "1", 18.0, 20.0, 90.0, "优秀"],
        ["2026-02", "C", "C项目", "华南", "T", "1", 18.0, 20.0, 90.0, "优秀"],
        ["2026-02", "D", "D项目", "华南", "T", "1", 9.5, 10.0, 95.0, "优秀"],
        ["2026-03", "A", "A项目", "华东", "T", "2", 17.0, 20.0, 85.0, "良好"],
        ["2026-03", "D", "D项目", "华南", "T", "2", 18.0, 20.0, 90.0, "优秀"],
    ]
    assert detail[4][11:] == [
        date(2026, 2, 15),
        datetime(2026, 3, 5, 10, 0),
        "2026-02/A-v1.xlsx",
        "T-A-2026-02",
    ]
    assert table(report.versions) == [
        ["月份", "标准", "版本"],
        ["2026-01", "T", "1"],
        ["2026-02", "T", "1"],
        ["2026-03", "T", "2"],
    ]
    assert report.notes == [
        "标准 T 在所选月份中有 2 个版本（v1：2026-01、2026-02；v2：2026-03）。"
        "指标编码在各版本间不变，按编码汇总；各月所用版本见「明细」的标准版本列。"
    ]


def test_one_month_only(history_path) -> None:
    one = monthly_report(history_path, from_="2026-02", to="2026-02")
    assert [str(m) for m in one.months] == ["2026-02"]
    assert table(one.site_rates)[1:] == [
        ["A", "A项目", "华东", 97.5, N],
        ["B", "B项目", "华东", 90.0, N],
        ["C", "C项目", "华南", 90.0, N],
        ["D", "D项目", "华南", 95.0, N],
    ]
    assert [row[-2:] for row in table(one.ranking)[1:]] == [[N, N]] * 4
    assert table(one.repeats)[1:] == []
    assert table(one.returns)[1:] == [["2026-02", 4, 4, 4, 0, 0]]
    assert one.notes == []


def test_region_filter(history_path) -> None:
    south = monthly_report(history_path, region="华南")
    assert [str(m) for m in south.months] == MONTHS
    assert table(south.region_rates)[1:] == [
        ["华南", 77.5, 92.5, 90.0, N],
        ["全部项目", 77.5, 92.5, 90.0, N],
    ]
    assert [(r[0], r[1], r[2], r[7]) for r in table(south.ranking)[1:]] == [
        ("2026-01", 1, "C", N),
        ("2026-02", 1, "D", N),
        ("2026-02", 2, "C", -1),
        ("2026-03", 1, "D", 0),
    ]
    # C was not issued in March; in April only D was issued in 华南.
    assert table(south.returns)[1:] == [
        ["2026-01", 1, 1, 1, 0, 0],
        ["2026-02", 2, 2, 2, 0, 0],
        ["2026-03", 1, 1, 1, 0, 0],
        ["2026-04", 1, 0, 0, 0, 1],
    ]


def test_nothing_matching_the_filters_is_a_clear_error(history_path) -> None:
    with pytest.raises(MonthlyError) as error:
        monthly_report(history_path, region="华北", from_="2026-01")
    assert str(error.value) == (
        f"历史库 {history_path}：没有符合筛选条件（月份 2026-01 至 最新，区域=华北）的评分结果。"
        "请检查 --from/--to/--standard/--region 的取值（须完全一致）。"
        "历史库中的月份 2026-01 至 2026-03；区域：华东、华南；标准：T。"
    )
    with pytest.raises(MonthlyError, match="没有符合筛选条件（标准=other）"):
        monthly_report(history_path, standard="other")


def test_history_without_graded_results_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record_batch(
        path,
        batch(
            [workbook("B", "2026-03", V1, {}, unanswered=("1.1.01",))],
            [],
            None,
            "2026-04-01T10:00:00",
        ),
    )
    with pytest.raises(MonthlyError) as error:
        monthly_report(path)
    assert str(error.value) == (
        f"历史库 {path}：还没有任何评分结果。"
        f"请先运行 audit-xls grade --history {path} 评分并记录回收的检查表。"
    )


def test_the_shipped_standard_goes_through(tmp_path: Path, shipped_standard) -> None:
    answers = {c.code: Answer(PASS) for c in shipped_standard.criteria}
    first = shipped_standard.criteria[0].code
    answers[first] = Answer("fail", 3)
    result = WorkbookResult(
        file="K01.xlsx",
        file_hash="h1",
        status=GRADED,
        workbook_id="kefu-K01-2026-05",
        site_code="K01",
        site_name="金色家园",
        region="华北",
        period="2026-05",
        standard=shipped_standard,
        answers=answers,
        card=score(shipped_standard, answers),
    )
    record_batch(tmp_path / "h.sqlite", batch([result], [], None, "2026-06-01T09:00:00"))
    got = monthly_report(tmp_path / "h.sqlite")
    section = shipped_standard.sections[0]
    assert table(got.section_rates)[1] == ["kefu-dudao", section.code, section.name, 91.0]
    assert table(got.site_rates)[1][:4] == ["K01", "金色家园", "华北", float(result.card.percent)]


# --- the workbook ---------------------------------------------------------------------------

SHEET_NAMES = ["项目月度得分", "区域月度", "分项月度", "月度排名", "反复问题", "回收情况", "明细"]
# and, from the rectification ledger (rectify/summary.py, tested in test_rectify_cycle.py):
LEDGER_SHEETS = ["整改台账", "整改完成率", "逾期未整改"]


@pytest.fixture(scope="module")
def monthly_xlsx(report, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("out") / "MONTHLY.xlsx"
    write_monthly(report, path)
    return path


@pytest.mark.filterwarnings("ignore:Sparkline Group extension is not supported")
def test_workbook_sheets_tables_and_key_cells(monthly_xlsx: Path) -> None:
    book = openpyxl.load_workbook(monthly_xlsx)
    assert book.sheetnames == SHEET_NAMES + LEDGER_SHEETS
    tables = {ws.title: dict(ws.tables.items()) for ws in book}
    assert tables == {
        "项目月度得分": {"SiteMonthly": "A4:J8", "SiteMonthlyChange": "A11:G15"},
        "区域月度": {"RegionMonthly": "A4:E7"},
        "分项月度": {"SectionMonthly": "A4:G6"},
        "月度排名": {"MonthlyRanking": "A4:H13"},
        "反复问题": {"RepeatProblems": "A4:L7"},
        "回收情况": {"ReturnsMonthly": "A4:F8"},
        "明细": {"MonthlyDetail": "A4:O13"},
        "整改台账": {"RectifyLedger": "A4:AA17"},
        "整改完成率": {"RectifyCompletion": "A4:G22"},
        "逾期未整改": {"RectifyOverdue": "A4:M17"},
    }
    sites = book["项目月度得分"]
    header = ["项目编码", "项目名称", "区域", *MONTHS, "较上月", "升降", "趋势"]
    assert [c.value for c in sites[4]] == header
    row = ["A", "A项目", "华东", 90, 97.5, 85, None, -12.5, "↓ 12.50"]
    assert [c.value for c in sites[5]][:9] == row
    assert [c.value for c in sites["I"][4:8]] == ["↓ 12.50", None, None, "↓ 5.00"]
    assert sites["D5"].number_format == "0.00"
    assert sites.freeze_panes == "A5"
    assert sites["A17"].value.startswith("标准 T 在所选月份中有 2 个版本（v1：2026-01、2026-02；")
    assert [c.value for c in sites[12]][:6] == ["A", "A项目", "华东", None, 7.5, -12.5]
    # fixed grade bands over every month, best first, never a relative colour scale
    rules = [(str(r.sqref), rule.formula) for r in sites.conditional_formatting for rule in r.rules]
    assert rules == [("D5:G8", [f"AND(ISNUMBER(D5),D5>={minimum})"]) for minimum in (90, 80, 70, 0)]
    assert (
        sites["A3"].value
        == "评级颜色：■ 优秀 ≥90   ■ 良好 80-89.99   ■ 合格 70-79.99   ■ 不合格 <70   "
    )
    region = book["区域月度"]
    assert region["A2"].value.startswith("区域得分率 = 区域内各项目当月得分率的算术平均")
    assert [c.value for c in region[7]] == ["全部项目", 86.67, 93.13, 87.5, None]
    assert [str(r.sqref) for r in region.conditional_formatting] == ["B5:E7"]
    detail = book["明细"]
    assert (detail["F11"].value, detail["F12"].value) == ("1", "2")  # 标准版本
    assert detail["L5"].value == datetime(2026, 1, 15)
    assert book["回收情况"]["F8"].value == 3


def test_workbook_has_a_line_chart_and_one_sparkline_per_site(monthly_xlsx: Path) -> None:
    with zipfile.ZipFile(monthly_xlsx) as archive:
        names = archive.namelist()
        sheet1 = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        charts = [n for n in names if n.startswith("xl/charts/chart")]
        chart = archive.read(charts[0]).decode("utf-8")
        sheet2_rels = archive.read("xl/worksheets/_rels/sheet2.xml.rels").decode("utf-8")
    assert len(charts) == 1 and "<c:lineChart>" in chart
    assert chart.count("<c:ser>") == 3  # 华东, 华南, 全部项目
    assert "drawing" in sheet2_rels
    assert "<x14:sparklineGroups" in sheet1
    cells = sorted(re.findall(r"<xm:sqref>([A-Z]+\d+)</xm:sqref>", sheet1))
    assert cells == ["J5", "J6", "J7", "J8"]
    assert "<xm:f>'项目月度得分'!D5:G5</xm:f>" in sheet1


def test_workbook_is_the_same_bytes_each_time(report, monthly_xlsx: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.xlsx"
    write_monthly(report, again)
    assert again.read_bytes() == monthly_xlsx.read_bytes()


def test_csv_keeps_formula_like_text_inert(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    for period in ("2026-01", "2026-02"):
        returned = workbook("A", period, V1, {"1.1.01": 1})
        returned.answers["1.1.01"] = Answer("fail", 1, note='=HYPERLINK("http://x","点我")')
        record_batch(path, batch([returned], [], None, f"{period}-28T10:00:00"))
    write_monthly_csv(monthly_report(path), tmp_path / "csv")
    text = (tmp_path / "csv" / "反复问题.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][-1] == '\'=HYPERLINK("http://x","点我")'


def test_json_and_csv(report, tmp_path: Path) -> None:
    data = monthly_to_json(report)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["region_rates"][2] == {
        "region": "全部项目",
        "2026-01": 86.67,
        "2026-02": 93.13,
        "2026-03": 87.5,
        "2026-04": None,
    }
    assert data["ranking"][0]["previous_rank"] is None
    assert data["detail"][0]["inspection_date"] == "2026-01-15"
    month_or_key = re.compile(r"^(\d{4}-\d{2}|[a-z_]+)$")
    for key in [*report.frames(), "versions"]:
        for row in data[key]:
            assert all(month_or_key.match(name) for name in row), (key, list(row))
    written = write_monthly_csv(report, tmp_path / "csv")
    assert sorted(p.name for p in written) == sorted(
        [f"{name}.csv" for name in SHEET_NAMES] + ["项目环比变化.csv"]
    )
    raw = (tmp_path / "csv" / "区域月度.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines() == [
        "区域,2026-01,2026-02,2026-03,2026-04",
        "华东,91.25,93.75,85.00,",
        "华南,77.50,92.50,90.00,",
        "全部项目,86.67,93.13,87.50,",
    ]


# --- the command --------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, ["monthly", *args])


def test_cli_writes_the_workbook_csv_and_json(history_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.xlsx"
    result = run(
        "--history",
        str(history_path),
        "--out",
        str(out),
        "--csv",
        str(tmp_path / "csv"),
        "--json",
        "--to",
        "2026-03",
    )
    assert result.exit_code == 0, result.output
    summary = f"已写出 {out}：2026-01 至 2026-03 共 3 个月，4 个项目，9 份有效评分。"
    assert result.stderr == summary + "\n"
    data = json.loads(result.stdout)
    assert data["months"] == MONTHS[:3] and data["filters"]["to"] == "2026-03"
    assert out.exists() and (tmp_path / "csv" / "明细.csv").exists()


def test_cli_history_default_comes_from_the_environment(
    history_path: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("AUDIT_XLS_HISTORY", str(history_path))
    result = run("--out", str(tmp_path / "m.xlsx"), "--region", "华东")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"已写出 {tmp_path / 'm.xlsx'}：2026-01 至 2026-04 共 4 个月，2 个项目，5 份有效评分。\n"
    )


def test_cli_empty_history_exits_1_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record_batch(path, batch([], [], None, "2026-04-01T10:00:00"))
    result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 历史库 {path}：还没有任何评分结果。"
        f"请先运行 audit-xls grade --history {path} 评分并记录回收的检查表。\n"
    )
    assert not (tmp_path / "m.xlsx").exists()
    absent = run("--history", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "m.xlsx"))
    assert absent.exit_code == 1
    assert absent.output == (
        f"Error: 历史库 {tmp_path / 'none.sqlite'} 不存在：请先用 audit-xls grade --history "
        f"{tmp_path / 'none.sqlite'} 评分并记录结果。\n"
    )


def test_cli_filter_matching_nothing_exits_1(history_path: Path, tmp_path: Path) -> None:
    result = run(
        "--history", str(history_path), "--out", str(tmp_path / "m.xlsx"), "--region", "华北"
    )
    assert result.exit_code == 1
    assert "没有符合筛选条件（区域=华北）的评分结果" in result.output


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "2026/01"])
def test_cli_bad_month_exits_2(history_path: Path, tmp_path: Path, month: str) -> None:
    result = run("--history", str(history_path), "--out", str(tmp_path / "m.xlsx"), "--from", month)
    assert result.exit_code == 2
    assert (
        f"Invalid value for '--from': 月份「{month}」格式不对：请写成 YYYY-MM，例如 2026-03。"
        in result.output
    )


# --- graded first against the wrong month's register (finding 1) ---------------------------


def test_regrading_with_the_right_register_shows_the_graded_results(tmp_path: Path) -> None:
    from audit_xls.grading.grade import grade_returns
    from audit_xls.grading.register import IssuedEntry
    from audit_xls.grading.sites import Site
    from audit_xls.workbook.build import build_workbook, workbook_id

    standard = mini_standard(tmp_path)
    sites = [Site("P001", "滨江花园", "华东"), Site("P002", "江南名苑", "华南")]

    def register(period: str) -> list[IssuedEntry]:
        return [
            IssuedEntry(
                workbook_id(standard, s, period),
                s.code,
                s.name,
                s.region,
                "",
                "",
                period,
                standard.id,
                standard.version,
                standard.content_hash,
                f"{s.code}.xlsx",
            )
            for s in sites
        ]

    folder = tmp_path / "returns-11"
    folder.mkdir()
    for site, answers in zip(sites, [{"1.1.01": ("不符合", 2)}, {}], strict=True):
        issued = build_workbook(standard, site, "2026-11", issued_on=ISSUED_ON)
        (folder / f"{site.code}.xlsx").write_bytes(
            fill(issued, standard, answers, default=("符合", None))
        )
    path = tmp_path / "h.sqlite"
    wrong = grade_returns(folder, [standard], register("2026-12"))
    assert [(w.status, w.errors[0].code) for w in wrong.workbooks] == [
        ("sent_back", "issued.not_issued")
    ] * 2
    assert record_batch(path, wrong).recorded_sent_back == 2
    right = record_batch(path, grade_returns(folder, [standard], register("2026-11")))
    assert (right.recorded_graded, right.already_recorded, right.regraded) == (2, 0, 2)
    got = monthly_report(path)
    assert [str(m) for m in got.months] == ["2026-11", "2026-12"]
    assert table(got.site_rates)[1:] == [
        ["P001", "滨江花园", "华东", 91.43, N, N],
        ["P002", "江南名苑", "华南", 100.0, N, N],
    ]
    # December's register was real: issued, nothing back yet. November counted once.
    assert table(got.returns)[1:] == [["2026-11", 2, 2, 2, 0, 0], ["2026-12", 2, 0, 0, 0, 2]]


# --- monthly only reads the history (finding 2) ---------------------------------------------


def foreign_database(path: Path) -> Path:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('张三')")
    conn.close()
    return path


def test_monthly_on_a_foreign_database_is_an_error_and_leaves_it_unchanged(
    tmp_path: Path,
) -> None:
    path = foreign_database(tmp_path / "crm.sqlite")
    before = path.read_bytes()
    result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 历史库 {path} 不是 audit-xls 的历史库（没有结构版本号）："
        "请用 --history 指定 grade 记录结果的那个文件。\n"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.sqlite"]  # no journal, no output


def test_monthly_on_an_empty_or_non_sqlite_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    text = tmp_path / "notes.sqlite"
    text.write_text("这不是数据库" * 200, encoding="utf-8")
    for path, why in ((empty, "没有结构版本号"), (text, "file is not a database")):
        before = path.read_bytes()
        result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
        assert (result.exit_code, result.output) == (
            1,
            (
                f"Error: 历史库 {path} 不是 audit-xls 的历史库（{why}）："
                "请用 --history 指定 grade 记录结果的那个文件。\n"
            ),
        )
        assert path.read_bytes() == before


def test_grade_does_not_add_its_tables_to_a_foreign_database(tmp_path: Path) -> None:
    from audit_xls.history.store import HistoryError

    path = foreign_database(tmp_path / "crm.sqlite")
    before = path.read_bytes()
    with pytest.raises(HistoryError) as error:
        record_batch(
            path, batch([workbook("A", "2026-01", V1, {})], [], None, "2026-02-01T10:00:00")
        )
    assert str(error.value) == (
        f"历史库 {path} 不是 audit-xls 的历史库（其中已有别的表，没有结构版本号）："
        "请用 --history 指定 grade 记录结果的那个文件。"
    )
    assert path.read_bytes() == before


def test_monthly_reads_a_version_1_history_without_changing_it(tmp_path: Path, monkeypatch) -> None:
    from test_history import version_1_history

    path = version_1_history(tmp_path / "h.sqlite", monkeypatch)
    before = path.read_bytes()
    result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"已写出 {tmp_path / 'm.xlsx'}：2026-01 至 2026-04 共 4 个月，4 个项目，9 份有效评分。\n"
    )
    assert path.read_bytes() == before


def test_monthly_on_an_older_history_lacking_columns_asks_for_one_grade(tmp_path: Path) -> None:
    import sqlite3

    from audit_xls.history import store as history

    path = tmp_path / "h.sqlite"
    with sqlite3.connect(path) as conn:  # as if version 1 had no `issued` table yet
        conn.executescript(history.MIGRATIONS[0].split("CREATE TABLE issued")[0])
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    before = path.read_bytes()
    result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 历史库 {path}：结构版本 1 较旧（本程序为 {history.SCHEMA_VERSION}）：请先运行一次 audit-xls grade "
        f"--history {path}（重新评分同一批文件即可，不会重复记录），它会升级历史库；"
        "monthly 只读取、不修改历史库。\n"
    )
    assert path.read_bytes() == before


def test_history_help_is_true_for_each_command() -> None:
    def history_help(command: str) -> str:
        text = CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output
        return " ".join(text.split("--history PATH|URL", 1)[1].split("\n  --", 1)[0].split())

    assert history_help("monthly") == (
        "Grading history recorded by grade (a SQLite file or a postgresql:// URL); only read, "
        "never created or changed. [default: ($AUDIT_XLS_HISTORY or ./audit-xls-history.sqlite)]"
    )
    assert history_help("grade").startswith(
        "Grading history: a SQLite file, created on first use, or a postgresql:// URL "
        "(password from PGPASSWORD or ~/.pgpass)."
    )


# --- odd and foreign periods in the history (finding 3) -------------------------------------


def test_odd_and_foreign_periods_never_crash_monthly(tmp_path: Path) -> None:
    import sqlite3

    from audit_xls.model.diagnostics import ERROR, Diagnostic

    path = tmp_path / "h.sqlite"
    record_batch(
        path,
        batch(
            [workbook("A", "2026-01", V1, {"1.1.01": 2}), workbook("B", "2026-01", V1, {})],
            [],
            None,
            "2026-02-01T10:00:00",
        ),
    )
    record_batch(path, batch([workbook("A", "2026-02", V1, {})], [], None, "2026-03-01T10:00:00"))
    tampered = workbook("C", "2031-05", V1, {}, unanswered=("1.1.01",))
    tampered.diagnostics = [
        Diagnostic(ERROR, "manifest.tampered", "清单被修改", sheet="_manifest", cell="")
    ]
    foreign = workbook("D", "2026-02", V1, {}, unanswered=("1.1.01",))
    record_batch(path, batch([tampered, foreign], [], None, "2026-03-02T10:00:00"))
    with sqlite3.connect(path) as conn:  # as an older build or a tampered manifest wrote them
        conn.execute("UPDATE workbooks SET period = '2026-02 ' WHERE file = '2026-02/A.xlsx'")
        conn.execute("UPDATE workbooks SET period = '2026年2月' WHERE file = '2026-02/D.xlsx'")
        conn.execute(
            "INSERT INTO issued VALUES ('x', 'E', 'E项目', '华北', '2099-13', 'T', '1', "
            "'2026-03-02T10:00:00')"
        )
    conn.close()
    got = monthly_report(path)
    assert [str(m) for m in got.months] == ["2026-01", "2026-02"]
    assert table(got.site_rates)[1:] == [
        ["A", "A项目", "华东", 95.0, 100.0, 5.0],
        ["B", "B项目", "华东", 100.0, N, N],
    ]
    assert table(got.returns)[1:] == [["2026-01", N, 2, 2, 0, N], ["2026-02", N, 1, 1, 0, N]]
    assert got.notes == [
        "历史库中 1 条记录的月份带多余空格或全角字符（「2026-02 」），已按 YYYY-MM 计入。",
        "历史库中 2 条记录的月份不是 YYYY-MM（「2026年2月」、「2099-13」），未计入任何月份。",
        "1 份退回文件的隐藏清单不可信（被修改或不是总部下发），其项目和月份未计入。",
    ]
    assert [str(m) for m in monthly_report(path, to="2026-02").months] == ["2026-01", "2026-02"]
    result = run("--history", str(path), "--out", str(tmp_path / "m.xlsx"))
    assert result.exit_code == 0, result.output


def test_from_after_to_is_a_usage_error(history_path: Path, tmp_path: Path) -> None:
    result = run(
        "--history",
        str(history_path),
        "--out",
        str(tmp_path / "m.xlsx"),
        "--from",
        "2026-12",
        "--to",
        "2026-01",
    )
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: --from 2026-12 晚于 --to 2026-01：请把较早的月份写在 --from，较晚的写在 --to。\n"
    )
    assert not (tmp_path / "m.xlsx").exists()
    with pytest.raises(ValueError) as error:
        monthly_report(history_path, from_="2026-12", to="2026-01")
    assert str(error.value) == (
        "--from 2026-12 晚于 --to 2026-01：请把较早的月份写在 --from，较晚的写在 --to。"
    )


# --- polish (finding 5) -----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Sparkline Group extension is not supported")
def test_footers_and_rate_headers_match_the_grade_summary(monthly_xlsx: Path) -> None:
    with zipfile.ZipFile(monthly_xlsx) as archive:
        sheets = sorted(
            n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
        )
        footers = [
            re.findall(r"<oddFooter>(.*?)</oddFooter>", archive.read(n).decode("utf-8"))
            for n in sheets
        ]
    assert footers == [["&amp;C第 &amp;P 页，共 &amp;N 页"]] * 10
    book = openpyxl.load_workbook(monthly_xlsx)
    assert book["月度排名"]["F4"].value == "得分率(%)"
    assert book["明细"]["I4"].value == "得分率(%)"


def test_unwritable_out_names_the_users_path(history_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "nodir" / "m.xlsx"
    result = run("--history", str(history_path), "--out", str(out))
    assert result.exit_code == 1
    assert result.output == (  # paths.cannot_write, as every command says it
        f"Error: {out}：文件夹「{out.parent}」不存在：请先建好这个文件夹，或换一个 --out 路径。\n"
    )


def test_a_site_with_nothing_applicable_has_no_rate_but_stays_in_the_detail(tmp_path):
    path = tmp_path / "h.sqlite"
    all_na = workbook("A", "2026-01", V1, {}, na=("1.1.01", "1.1.02", "2.1.01", "2.1.02"))
    assert all_na.card.percent is None
    record_batch(path, batch([all_na, workbook("B", "2026-01", V1, {})], [], None,
                             "2026-02-01T10:00:00"))  # fmt: skip
    report = monthly_report(path)
    detail = report.detail.set_index("项目编码")
    assert math.isnan(detail.loc["A", "得分率(%)"])
    assert detail.loc["B", "得分率(%)"] == 100.0
    write_monthly(report, tmp_path / "m.xlsx")  # writes without a rate for A


def test_a_return_sent_back_then_graded_counts_once_in_returns(tmp_path):
    from test_history import sent_back_copy

    path = tmp_path / "h.sqlite"
    graded = workbook("A", "2026-01", V1, {})
    unknown = sent_back_copy(graded)
    unknown.standard = None  # graded first against a standards folder without V1
    record_batch(path, batch([unknown], [], None, "2026-02-01T10:00:00"))
    record_batch(path, batch([graded], [], None, "2026-02-01T11:00:00"))
    assert table(monthly_report(path).returns)[1:] == [["2026-01", None, 1, 1, 0, None]]


def test_monthly_errors_in_english(history_path) -> None:
    with pytest.raises(MonthlyError) as error:
        monthly_report(history_path, region="华北", from_="2026-01")
    assert error.value.text("en") == (
        f"History {history_path}: no graded results match the filters (months 2026-01 to latest, "
        "region=华北). Check the values of --from/--to/--standard/--region (they must match "
        "exactly). The history holds months 2026-01 to 2026-03; regions: 华东, 华南; standards: T."
    )
    with pytest.raises(MonthlyError) as error:
        monthly_report(history_path, from_="2026-12", to="2026-01")
    assert error.value.text("en") == (
        "--from 2026-12 is after --to 2026-01: put the earlier month in --from and the later "
        "one in --to."
    )


def test_monthly_workbook_in_english(history_path, tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_monthly(monthly_report(history_path), path, "en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:7] == [
        "Site monthly",
        "Region monthly",
        "Section monthly",
        "Monthly ranking",
        "Repeat problems",
        "Returns",
        "Detail",
    ]
    ranking = book["Monthly ranking"]
    assert ranking["A1"].value == "Monthly ranking"
    assert [c.value for c in ranking[4]] == [
        "Month",
        "Rank",
        "Site code",
        "Site",
        "Region",
        "Rate (%)",
        "Last month's rank",
        "Rank change",
    ]
    returns = book["Returns"]
    assert [c.value for c in returns[4]] == [
        "Month",
        "Issued",
        "Returned",
        "Graded",
        "Sent back, not graded",
        "Not returned",
    ]
    sites = book["Site monthly"]
    assert sites["A1"].value == "Site rates by month"
    assert [c.value for c in sites[4]][:3] == ["Site code", "Site", "Region"]
    assert [c.value for c in sites[4]][-3:] == ["vs last month", "Change", "Trend"]
