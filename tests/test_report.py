"""The summary workbook and the results CSV, read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from audit_xls import atomic
from audit_xls.model.diagnostics import ERROR, WARNING, Diagnostic
from audit_xls.model.results import GRADED, SENT_BACK, BatchResult, Missing, Skipped, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS, Answer, score
from audit_xls.outputs import exports, xlsx
from audit_xls.outputs import summary as summary_module
from audit_xls.outputs.exports import write_csv
from audit_xls.outputs.shared import ReportError, competition_ranks
from audit_xls.outputs.summary import write_summary
from audit_xls.standards.loader import standard_from_mapping

# A: 10 points, 0.5 a problem point; B: 5 points, 1 a failed item.
MINI = standard_from_mapping(
    {
        "id": "mini",
        "name": "小标准",
        "version": "1",
        "sections": [
            {
                "code": "A",
                "name": "安全",
                "points": 10,
                "groups": [
                    {
                        "method": "现场查看",
                        "rule": "一个问题点扣0.5分",
                        "criteria": [
                            {"code": "A.1.01", "text": "消防通道畅通。"},
                            {"code": "A.1.02", "text": "灭火器在有效期内。"},
                        ],
                    }
                ],
            },
            {
                "code": "B",
                "name": "服务",
                "points": 5,
                "groups": [
                    {
                        "method": "查看记录",
                        "rule": "每项扣1分",
                        "criteria": [
                            {"code": "B.1.01", "text": "投诉24小时内回复。"},
                            {"code": "B.1.02", "text": "回访有记录。"},
                        ],
                    }
                ],
            },
        ],
    }
)
HYPERLINK = '=HYPERLINK("http://evil.example","点我")'
GRADED_AT = datetime(2025, 6, 3, 9, 30)


def answers(**given: tuple[str, int | None, str]) -> dict[str, Answer]:
    """Every criterion of MINI passes unless given as code=(result, points, note)."""
    filled = {c.code: Answer(PASS) for c in MINI.criteria}
    for key, (result, points, note) in given.items():
        filled[key.replace("_", ".")] = Answer(result, points, note)
    return filled


def graded(file: str, code: str, name: str, region: str, filled: dict[str, Answer], **kw):
    return WorkbookResult(
        file=file,
        file_hash="0" * 64,
        status=GRADED,
        workbook_id=f"mini-1-{code}-2025-05",
        site_code=code,
        site_name=name,
        region=region,
        period="2025-05",
        standard=MINI,
        answers=filled,
        card=score(MINI, filled),
        **kw,
    )


def mini_batch() -> BatchResult:
    # S1: A.1.01 3 points -> A 8.5, B 5 -> 13.5/15 = 90.00 优秀
    s1 = graded("华东/S1.xlsx", "S1", "一号项目", "华东", answers(A_1_01=(FAIL, 3, HYPERLINK)))
    # S2: A.1.02 no count (taken as 1) -> A 9.5; B.1.01 fails -> B 4 -> 13.5/15 = 90.00
    s2 = graded(
        "华东/S2.xlsx",
        "S2",
        "二号项目",
        "华东",
        answers(A_1_02=(FAIL, None, "+1"), B_1_01=(FAIL, None, "@SUM(A1)")),
        diagnostics=[
            Diagnostic(
                WARNING,
                "answer.fail_without_points",
                "检查表 H8：不符合但未填问题点数，按 1 个问题点计。",
                sheet="检查表",
                cell="H8",
            )
        ],
    )
    # S3: B all 不适用 -> max 10, total 10 -> 100.00
    s3 = graded(
        "华南/S3.xlsx",
        "S3",
        "三号项目",
        "华南",
        answers(B_1_01=(NA, None, ""), B_1_02=(NA, None, "")),
    )
    # S4: A.1.01 20 points -> A floored at 0; B.1.02 fails -> B 4 -> 4/15 = 26.67 不合格
    s4 = graded(
        "华南/S4.xlsx",
        "S4",
        "四号项目",
        "华南",
        answers(A_1_01=(FAIL, 20, "-2"), B_1_02=(FAIL, 1, "回访记录缺失")),
    )
    old_s3 = graded(
        "华南/S3-旧.xlsx",
        "S3",
        "三号项目",
        "华南",
        answers(),
        duplicate_of="华南/S3.xlsx",
        diagnostics=[
            Diagnostic(WARNING, "duplicate.superseded", "已有较新的返回文件，本文件不计分。")
        ],
    )
    s5 = WorkbookResult(
        file="华北/S5.xlsx",
        file_hash="1" * 64,
        status=SENT_BACK,
        workbook_id="mini-1-S5-2025-05",
        site_code="S5",
        site_name="五号项目",
        region="华北",
        period="2025-05",
        standard=MINI,
        answers={"A.1.01": Answer(FAIL, None, "")},
        diagnostics=[
            Diagnostic(
                ERROR,
                "answer.invalid_points",
                "检查表 H7：问题点数「两个」不是整数，请填写 0-99 的整数。",
                file="华北/S5.xlsx",
                sheet="检查表",
                cell="H7",
            ),
            Diagnostic(
                ERROR,
                "cover.missing_inspector",
                "基本信息 B9：督导人员未填写，请填写姓名。",
                sheet="基本信息",
                cell="B9",
            ),
        ],
    )
    return BatchResult(
        workbooks=[s1, s2, s3, s4, old_s3, s5],
        skipped=[Skipped("~$S1.xlsx", "Excel 临时文件，已跳过。")],
        missing=[Missing("mini-1-S6-2025-05", "S6", "六号项目", "华北", "2025-05")],
        issued_count=6,
        graded_at=GRADED_AT,
    )


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("summary") / "SUMMARY.xlsx"
    write_summary(mini_batch(), path)
    return openpyxl.load_workbook(path)


def table_rows(sheet, table_name: str) -> list[list[object]]:
    """The table's rows as values, header first."""
    table = sheet.tables[table_name]
    return [[c.value for c in row] for row in sheet[table.ref]]


def overview_values(sheet) -> dict[str, object]:
    return {
        row[0].value: row[1].value
        for row in sheet.iter_rows(min_row=3, max_col=2)
        if row[0].value is not None
    }


def test_sheet_names_and_order(summary):
    assert summary.sheetnames == [
        "总览",
        "项目排名",
        "分项得分",
        "问题清单",
        "高频问题",
        "区域汇总",
        "退回清单",
        "警告清单",
        "未交清单",
        "跳过文件",
    ]


def test_english_sheet_names(tmp_path):
    path = tmp_path / "SUMMARY.xlsx"
    write_summary(mini_batch(), path, lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Overview",
        "Ranking",
        "Section rates",
        "Problems",
        "Frequent problems",
        "Regions",
        "Sent back",
        "Warnings",
        "Not returned",
        "Skipped files",
    ]
    assert table_rows(book["Ranking"], "Ranking")[0][:9] == [
        "Rank",
        "Period",
        "Region",
        "Site code",
        "Site",
        "Score",
        "Applicable max",
        "Rate (%)",
        "Grade",
    ]


def test_overview_counts_average_and_bands(summary):
    sheet = summary["总览"]
    assert sheet["A1"].value == "小标准 检查汇总"
    values = overview_values(sheet)
    assert values["检查月份"] == "2025-05"
    assert values["检查标准"] == "mini v1"
    assert values["评分时间"] == GRADED_AT
    assert values["下发"] == 6
    assert values["收回文件"] == 6
    assert values["已评分"] == 4
    assert values["退回"] == 1
    assert values["重复提交（以较新文件为准）"] == 1
    assert values["跳过文件"] == 1
    assert values["未交"] == 1
    # (90 + 90 + 100 + 26.67) / 4 = 76.6675 -> 76.67
    assert values["平均得分率(%)"] == 76.67
    assert values["计算方法"] == "各项目得分率的算术平均（每个项目权重相同）"
    assert values["最高得分率(%)"] == 100
    assert values["最低得分率(%)"] == 26.67
    assert [values[g] for g in ("优秀", "良好", "合格", "不合格")] == [3, 0, 0, 1]
    assert [values[b] for b in ("<60", "60-69.99", "70-79.99", "80-89.99", "≥90")] == [
        1,
        0,
        0,
        0,
        3,
    ]


def test_overview_charts(summary):
    charts = summary["总览"]._charts
    assert len(charts) == 2
    assert [type(c).__name__ for c in charts] == ["BarChart", "BarChart"]  # column and bar
    assert charts[0].title.tx.rich.p[0].r[0].t == "评级分布（项目数）"
    assert [c.type for c in charts] == ["col", "bar"]


BAND_RULES = [f"AND(ISNUMBER({{c}}),{{c}}>={m})" for m in (90, 80, 70, 0)]
LEGEND = "评级颜色：■ 优秀 ≥90   ■ 良好 80-89.99   ■ 合格 70-79.99   ■ 不合格 <70   "


def band_rules(sheet) -> list[tuple[str, list[str]]]:
    return [
        (str(r.sqref), [rule.formula[0] if rule.formula else rule.operator for rule in r.rules])
        for r in sheet.conditional_formatting
    ]


def test_rates_are_coloured_by_the_standards_grade_bands_with_a_legend(summary):
    """Fixed thresholds, best band first; never a colour scale relative to the range."""

    def rules(first_cell: str) -> list[str]:
        return [rule.format(c=first_cell) for rule in BAND_RULES]

    assert band_rules(summary["项目排名"]) == [
        ("H5:H8", rules("H5")),
        ("I5:I8", ['"优秀"', '"良好"', '"合格"', '"不合格"']),
    ]
    grade_rules = list(summary["项目排名"].conditional_formatting)[1].rules
    assert [r.formula[0] for r in grade_rules] == ['"优秀"', '"良好"', '"合格"', '"不合格"']
    fills = [r.dxf.fill.bgColor.rgb for r in grade_rules]
    assert fills == ["FFC6EFCE", "FFDDEBF7", "FFFFEB9C", "FFFFC7CE"]  # green, blue, amber, red
    assert band_rules(summary["分项得分"]) == [("E5:G8", rules("E5"))]
    assert band_rules(summary["区域汇总"]) == [("E5:G7", rules("E5"))]
    for name in ("项目排名", "分项得分", "区域汇总"):
        assert summary[name]["A3"].value == LEGEND, name
    overview = summary["总览"]
    assert overview["A2"].value == LEGEND
    assert [str(r.sqref) for r in overview.conditional_formatting][:3] == ["B16", "B18", "B19"]
    for rule in overview.conditional_formatting:
        if str(rule.sqref) == "B16":  # 平均得分率 76.67: 合格, the same rule as every sheet
            assert [r.formula[0] for r in rule.rules] == rules("B16")


def test_charts_use_the_band_colours(tmp_path):
    path = tmp_path / "SUMMARY.xlsx"
    write_summary(mini_batch(), path)
    with zipfile.ZipFile(path) as archive:
        grades, regions = (archive.read(f"xl/charts/chart{i}.xml").decode() for i in (1, 2))
    # sites per grade: 优秀 green, 良好 blue, 合格 amber, 不合格 red
    colours = re.findall(r'<a:srgbClr val="([0-9A-F]{6})"/>', grades)
    assert colours == ["63BE7B", "5B9BD5", "FFC000", "F8696B"]
    # region averages 90 (华东, 优秀) and 63.34 (华南, 不合格); 华北 has none
    assert re.findall(r'<a:srgbClr val="([0-9A-F]{6})"/>', regions) == [
        "63BE7B",
        "F8696B",
        "A6A6A6",
    ]


def test_ranking_rows_ties_share_a_rank(summary):
    sheet = summary["项目排名"]
    rows = table_rows(sheet, "Ranking")
    assert rows[0] == [
        "排名",
        "检查月份",
        "区域",
        "项目编码",
        "项目名称",
        "得分",
        "应得分",
        "得分率(%)",
        "评级",
        "否决",
        "A 安全",
        "B 服务",
        "文件",
    ]
    assert rows[1] == [
        1,
        "2025-05",
        "华南",
        "S3",
        "三号项目",
        10,
        10,
        100,
        "优秀",
        None,
        10,
        "—",
        "华南/S3.xlsx",
    ]
    assert rows[2] == [
        2,
        "2025-05",
        "华东",
        "S1",
        "一号项目",
        13.5,
        15,
        90,
        "优秀",
        None,
        8.5,
        5,
        "华东/S1.xlsx",
    ]
    assert [r[0] for r in rows[1:]] == [1, 2, 2, 4]
    assert rows[4][5:9] == [4, 15, 26.67, "不合格"]
    percent = sheet["H5"]
    assert percent.number_format == "0.00"
    assert sheet.conditional_formatting  # colour scale on 得分率


def test_section_rates_matrix(summary):
    rows = table_rows(summary["分项得分"], "SectionRates")
    assert rows[0] == [
        "检查月份",
        "区域",
        "项目编码",
        "项目名称",
        "A 安全(%)",
        "B 服务(%)",
        "得分率(%)",
    ]
    assert rows[1] == ["2025-05", "华南", "S3", "三号项目", 100, "—", 100]
    assert rows[4] == ["2025-05", "华南", "S4", "四号项目", 0, 80, 26.67]


def test_problem_list_rows(summary):
    rows = table_rows(summary["问题清单"], "Problems")
    assert rows[0] == [
        "检查月份",
        "区域",
        "项目编码",
        "项目名称",
        "编号",
        "一级指标",
        "检查标准",
        "扣分标准",
        "问题点数",
        "扣分",
        "问题描述",
        "照片数",
        "照片",
    ]
    assert len(rows) == 1 + 5
    assert rows[1] == [
        "2025-05",
        "华东",
        "S1",
        "一号项目",
        "A.1.01",
        "安全",
        "消防通道畅通。",
        "一个问题点扣0.5分",
        3,
        1.5,
        HYPERLINK,
        0,
        None,
    ]
    assert rows[5] == [
        "2025-05",
        "华南",
        "S4",
        "四号项目",
        "B.1.02",
        "服务",
        "回访有记录。",
        "每项扣1分",
        1,
        1,
        "回访记录缺失",
        0,
        None,
    ]


def test_free_text_stays_text(summary):
    sheet = summary["问题清单"]
    notes = {row[10].value: row[10].data_type for row in sheet.iter_rows(min_row=4)}
    for text in (HYPERLINK, "+1", "@SUM(A1)", "-2"):
        assert notes[text] == "s", text


def test_frequent_problems(summary):
    rows = table_rows(summary["高频问题"], "FrequentProblems")
    assert rows[0] == [
        "编号",
        "一级指标",
        "检查标准",
        "不符合项目数",
        "占已评分项目(%)",
        "问题点数合计",
        "扣分合计",
    ]
    # A.1.01: S1 (3 points, 1.5) and S4 (20 points, capped by the section: 10 deducted)
    assert rows[1] == ["A.1.01", "安全", "消防通道畅通。", 2, 50, 23, 11.5]
    assert [r[0] for r in rows[1:]] == ["A.1.01", "B.1.01", "B.1.02", "A.1.02"]


def test_regions(summary):
    rows = table_rows(summary["区域汇总"], "Regions")
    assert rows[0] == [
        "区域",
        "已评分",
        "退回",
        "未交",
        "平均得分率(%)",
        "最低(%)",
        "最高(%)",
        "优秀",
        "良好",
        "合格",
        "不合格",
    ]
    assert rows[1] == ["华东", 2, 0, 0, 90, 90, 90, 2, 0, 0, 0]
    # (100 + 26.67) / 2 = 63.335 -> 63.34
    assert rows[2] == ["华南", 2, 0, 0, 63.34, 26.67, 100, 1, 0, 0, 1]
    assert rows[3] == ["华北", 0, 1, 1, None, None, None, 0, 0, 0, 0]


def test_sent_back_list_holds_only_what_is_sent_back(summary):
    rows = table_rows(summary["退回清单"], "Diagnostics")
    assert summary["退回清单"]["A2"].value == (
        "退回文件的全部问题：每个文件都要退回项目，按说明改正后重新交回。"
    )
    assert rows[0] == ["文件", "项目编码", "项目名称", "级别", "工作表", "单元格", "代码", "说明"]
    assert rows[1] == [
        "华北/S5.xlsx",
        "S5",
        "五号项目",
        "错误",
        "检查表",
        "H7",
        "answer.invalid_points",
        "检查表 H7：问题点数「两个」不是整数，请填写 0-99 的整数。",
    ]
    assert rows[2][4:7] == ["基本信息", "B9", "cover.missing_inspector"]
    assert len(rows) == 3  # no graded file's warning


def test_warnings_have_their_own_sheet_with_what_to_check(summary):
    sheet = summary["警告清单"]
    assert sheet["A2"].value == (
        "已评分（及重复提交）文件的警告：分数已计入，不退回；请按「核对要点」核对。"
    )
    assert table_rows(sheet, "Warnings") == [
        ["文件", "项目编码", "项目名称", "状态", "工作表", "单元格", "代码", "说明", "核对要点"],
        [
            "华东/S2.xlsx",
            "S2",
            "二号项目",
            "已评分",
            "检查表",
            "H8",
            "answer.fail_without_points",
            "检查表 H8：不符合但未填问题点数，按 1 个问题点计。",
            "本条按 1 个问题点扣分；实际不止 1 个时，请项目补填问题点数后重新交回。",
        ],
        [
            "华南/S3-旧.xlsx",
            "S3",
            "三号项目",
            "重复提交",
            None,
            None,
            "duplicate.superseded",
            "已有较新的返回文件，本文件不计分。",
            "确认较新的文件是项目的最终版本；本文件不计入汇总。",
        ],
    ]


def test_missing_and_skipped(summary):
    assert table_rows(summary["未交清单"], "NotReturned") == [
        ["检查月份", "区域", "项目编码", "项目名称", "工作簿编号"],
        ["2025-05", "华北", "S6", "六号项目", "mini-1-S6-2025-05"],
    ]
    assert table_rows(summary["跳过文件"], "Skipped") == [
        ["文件", "原因"],
        ["~$S1.xlsx", "Excel 临时文件，已跳过。"],
        ["华南/S3-旧.xlsx", "同一工作簿已有较新的返回文件「华南/S3.xlsx」，本文件不计分。"],
    ]


def test_tables_frozen_headers_and_print_setup(summary):
    expected = {
        "项目排名": ("Ranking", "A4:M8"),
        "分项得分": ("SectionRates", "A4:G8"),
        "问题清单": ("Problems", "A4:M9"),
        "高频问题": ("FrequentProblems", "A4:G8"),
        "区域汇总": ("Regions", "A4:K7"),
        "退回清单": ("Diagnostics", "A4:H6"),
        "警告清单": ("Warnings", "A4:I6"),
        "未交清单": ("NotReturned", "A4:E5"),
        "跳过文件": ("Skipped", "A4:B6"),
    }
    for name, (table, ref) in expected.items():
        sheet = summary[name]
        assert {t: sheet.tables[t].ref for t in sheet.tables} == {table: ref}, name
        assert sheet.tables[table].autoFilter is not None
        assert sheet.freeze_panes == "A5", name
        assert sheet.print_title_rows == "$4:$4", name
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.page_setup.paperSize == 9, name
    assert summary["总览"].page_setup.orientation == "landscape"


def test_empty_batch_still_writes_every_sheet(tmp_path):
    path = tmp_path / "SUMMARY.xlsx"
    write_summary(BatchResult([], [], [], None, GRADED_AT), path)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 10
    assert overview_values(book["总览"])["下发"] == "未提供下发登记"
    assert book["项目排名"].tables["Ranking"].ref == "A4:K5"


def test_shipped_standard_ranking(tmp_path, shipped_standard):
    filled = {c.code: Answer(PASS) for c in shipped_standard.criteria}
    filled["1.1.02"] = Answer(FAIL, 3, "两名客服未微笑")  # 3 x 0.3 = 0.9, exact
    card = score(shipped_standard, filled)
    result = WorkbookResult(
        file="K1.xlsx",
        file_hash="2" * 64,
        status=GRADED,
        site_code="K1",
        site_name="客服项目",
        region="华东",
        period="2025-05",
        standard=shipped_standard,
        answers=filled,
        card=card,
    )
    path = tmp_path / "SUMMARY.xlsx"
    write_summary(BatchResult([result], [], [], 1, GRADED_AT), path)
    sheet = openpyxl.load_workbook(path)["项目排名"]
    rows = table_rows(sheet, "Ranking")
    sections = [f"{s.code} {s.name}" for s in shipped_standard.sections]
    assert rows[0][10:-1] == sections
    total = float(shipped_standard.points - Decimal("0.9"))
    assert rows[1][:9] == [
        1,
        "2025-05",
        "华东",
        "K1",
        "客服项目",
        total,
        float(shipped_standard.points),
        float(card.percent),
        card.grade,
    ]
    assert rows[1][10] == 9.1


def test_competition_ranks():
    d = Decimal
    assert competition_ranks([d(80), d(90), d(80), None, d(70)]) == [2, 1, 2, None, 4]


def test_unknown_language_is_a_report_error(tmp_path):
    with pytest.raises(ReportError, match="未知语言「fr」"):
        write_summary(mini_batch(), tmp_path / "x.xlsx", lang="fr")


def test_unwritable_folder_is_a_report_error(tmp_path):
    with pytest.raises(ReportError, match="无法写入"):
        write_summary(mini_batch(), tmp_path / "no-such-folder" / "SUMMARY.xlsx")


# --- CSV ----------------------------------------------------------------------------------


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_csv_bom_header_and_rows(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(mini_batch(), path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(path)
    assert rows[0] == list(exports.CSV_COLUMNS)
    assert len(rows) == 1 + 6 * 4
    assert rows[1] == [
        "华东/S1.xlsx",
        "mini-1-S1-2025-05",
        "2025-05",
        "华东",
        "S1",
        "一号项目",
        "graded",
        "mini",
        "1",
        "A",
        "A.1.01",
        "fail",
        "3",
        "1.50",
        "'" + HYPERLINK,
        "13.50",
        "90.00",
        "优秀",
        "",
    ]
    assert rows[2][11:15] == ["pass", "", "0.00", ""]
    s2 = [r for r in rows if r[4] == "S2"]
    assert [r[14] for r in s2] == ["", "'+1", "'@SUM(A1)", ""]
    assert s2[1][11:14] == ["fail", "1", "0.50"]  # no count: taken as one problem point
    s4 = [r for r in rows if r[4] == "S4"]
    assert s4[0][14] == "'-2"
    s5 = [r for r in rows if r[4] == "S5"]
    assert s5[0][6:] == ["sent_back", "mini", "1", "A", "A.1.01", "fail", *[""] * 7]
    assert s5[1][11] == ""
    # the older copy of a resubmitted workbook is listed, marked, and names the newer file
    old_s3 = [r for r in rows if r[0] == "华南/S3-旧.xlsx"]
    assert {(r[6], r[-1]) for r in old_s3} == {("superseded", "华南/S3.xlsx")}


def test_csv_text_made_as_results_arrive_is_what_the_csv_writer_writes(tmp_path):
    """grade makes each workbook's CSV text as it arrives (exports.CsvLines, its own quoting
    and the fields every row repeats made once): the text write_csv makes, and byte for byte
    what csv.writer writes for the fields a CSV reader finds in it, whatever the text holds
    (quotes, commas, line breaks, formula starts)."""
    batch = mini_batch()
    odd = ['he said "no", twice', "a,b", "line\nbreak", "cr\rlf\r\n", '"', ",", " x ", "=1"]
    tricky = graded(
        'q"uote,d.xlsx', "S,9", odd[0], "华\n北",
        answers(**{f"{c.code.replace('.', '_')}": (FAIL, 2, note)
                   for c, note in zip(MINI.criteria, odd, strict=False)}),
        duplicate_of='older "one".xlsx',
    )  # fmt: skip
    typed = WorkbookResult("t.xlsx", "2" * 64, status=SENT_BACK, standard=MINI,
                           answers={"A.1.01": Answer(FAIL, 7, 'x"y')})  # fmt: skip
    unknown = WorkbookResult("u,1.xlsx", "", diagnostics=[Diagnostic(ERROR, "file.unreadable", "")])
    batch.workbooks += [tricky, typed, unknown]
    lines = exports.CsvLines()
    made = {id(w): lines.of(w) for w in batch.workbooks}
    write_csv(batch, tmp_path / "made.csv", made=made)
    write_csv(batch, tmp_path / "here.csv")
    text = (tmp_path / "made.csv").read_bytes().decode("utf-8-sig")
    assert (tmp_path / "here.csv").read_bytes().decode("utf-8-sig") == text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rewritten = io.StringIO()
    csv.writer(rewritten).writerows(rows)
    assert rewritten.getvalue() == text
    tricky_rows = [r for r in rows if r[0] == 'q"uote,d.xlsx']
    assert [r[4] for r in tricky_rows] == ["S,9"] * len(MINI.criteria)
    noted = min(len(odd), len(MINI.criteria))
    assert [r[14] for r in tricky_rows[:noted]] == [exports.csv_text(n) for n in odd[:noted]]
    assert {r[-1] for r in tricky_rows} == {'older "one".xlsx'}
    assert '"he said ""no"", twice"' in made[id(tricky)] and "cr\rlf\r\n" in made[id(tricky)]
    for text in odd:
        assert exports.csv_field(text) == _writer_field(text)


def _writer_field(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([text, ""])
    return buffer.getvalue()[: -len(",\r\n")]


def test_csv_text_prefixes_formula_starts():
    assert [exports.csv_text(v) for v in ("=1+1", "+1", "-2", "@A1", "\tx", "\rx", "ok", "")] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@A1",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]


def test_csv_unknown_standard_gets_one_row(tmp_path):
    unreadable = WorkbookResult(
        file="坏文件.xlsx",
        file_hash="3" * 64,
        diagnostics=[Diagnostic(ERROR, "file.unreadable", "无法读取")],
    )
    path = tmp_path / "results.csv"
    write_csv(BatchResult([unreadable], [], [], None, GRADED_AT), path)
    assert read_csv(path)[1] == ["坏文件.xlsx", "", "", "", "", "", "sent_back", *[""] * 12]


# --- atomic writes ------------------------------------------------------------------------


def test_summary_crash_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "SUMMARY.xlsx"
    path.write_bytes(b"previous summary")

    def crash(self):
        raise RuntimeError("simulated crash while writing 问题清单")

    monkeypatch.setattr(summary_module._SummaryWriter, "write_problems", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_summary(mini_batch(), path)
    assert path.read_bytes() == b"previous summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SUMMARY.xlsx"]


def test_crash_during_file_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "SUMMARY.xlsx"
    path.write_bytes(b"previous summary")

    def crash(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(ReportError, match=r"无法写入.*No space left on device"):
        write_summary(mini_batch(), path)
    assert path.read_bytes() == b"previous summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SUMMARY.xlsx"]


def test_csv_crash_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    path.write_text("previous", encoding="utf-8")
    real_of = exports.CsvLines.of
    made = []

    def lines_then_crash(self, w):
        if len(made) == 2:
            raise RuntimeError("simulated crash")
        made.append(real_of(self, w))
        return made[-1]

    monkeypatch.setattr(exports.CsvLines, "of", lines_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_csv(mini_batch(), path)
    assert path.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_successful_write_replaces_and_is_deterministic(tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_summary(mini_batch(), first)
    write_summary(mini_batch(), second)
    assert first.read_bytes() == second.read_bytes()
    umask = os.umask(0)
    os.umask(umask)
    assert first.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]


def test_xlsxwriter_warnings_are_errors(tmp_path):
    def build(book, formats):
        sheet = book.add_worksheet("x")
        sheet.add_table(0, 0, 1, 1, {"name": "A1"})  # a name like a cell: only a warning

    with pytest.raises(UserWarning):
        xlsx.write_workbook(tmp_path / "x.xlsx", build, created=GRADED_AT)
    assert list(tmp_path.iterdir()) == []


def test_workbook_with_nothing_applicable_has_no_rank_or_rate(tmp_path):
    all_na = {c.code: Answer(NA) for c in MINI.criteria}
    batch = mini_batch()
    batch.workbooks.append(graded("华北/S7.xlsx", "S7", "七号项目", "华北", all_na))
    path = tmp_path / "SUMMARY.xlsx"
    write_summary(batch, path)
    book = openpyxl.load_workbook(path)
    rows = table_rows(book["项目排名"], "Ranking")
    assert rows[-1][:12] == [None, "2025-05", "华北", "S7", "七号项目", 0, 0, None, None, None,
                             "—", "—"]  # fmt: skip
    values = overview_values(book["总览"])
    assert values["已评分"] == 5
    assert values["无适用项（不计得分率）"] == 1
    assert values["平均得分率(%)"] == 76.67  # the site without a rate is left out
