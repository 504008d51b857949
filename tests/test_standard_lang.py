"""The standards side in English: `standard check/show/import --lang en` say located problems
in English (Chinese output unchanged, asserted in test_cli_standard.py and test_table.py)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from audit_xls.cli import cli
from audit_xls.grading.sites import Site
from audit_xls.model.standard import Rule
from audit_xls.standards.loader import load_standard
from audit_xls.standards.phrases import parse_rule_phrase
from audit_xls.workbook.build import build_workbook

SHIPPED_STANDARD = Path(__file__).resolve().parent.parent / "standards" / "kefu-dudao.yaml"
CJK = re.compile(r"[\u4e00-\u9fff、，。：；「」（）]")

FAULTY = """\
id: tiny
name: 小标准
version: "1"
sections:
  - code: "1"
    name: 行为规范
    points: 0
    groups:
      - method: 现场抽查
        rule: 一个问题扣0.5分
        criteria:
          - code: "1.1.01"
            text: 甲
          - code: "1.1.01"
            txt: 乙
      - method: 查看记录
        rule: {kind: veto, scope: site}
        criteria:
          - code: "1.2.01"
            text: 丙
grade_bands:
  - {name: 好, min: 101}
rectification:
  days: 7.5
  overrides: {"9": 3}
"""
HINT = (
    "write it like '0.5 off per problem point', '0.3 off per person per problem point, at most "
    "1 off', '1 off per place, until none is left' or 'Veto: the section scores nothing', or as "
    "a mapping {kind, unit, cap, scope}"
)


def run(*args: str):
    return CliRunner().invoke(cli, ["standard", *args])


def test_check_in_english_locates_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAULTY, encoding="utf-8")
    result = run("check", "--lang", "en", str(bad))
    assert result.exit_code == 1
    criterion = "sections[0].groups[0].criteria"
    assert result.output.splitlines() == [
        f"{bad}:7: sections[0].points: the section's point value (points) is 0: it should be "
        "more than 0",
        f"{bad}:10: sections[0].groups[0].rule: the deduction rule '一个问题扣0.5分' is not "
        f"understood: {HINT}",
        f"{bad}:14: {criterion}[1].text: 'text' is missing: a criterion must have text",
        f"{bad}:14: {criterion}[1].code: the criterion code '1.1.01' is used twice (already on "
        f"line 12 at {criterion}[0].code): codes must be unique in the whole standard",
        f"{bad}:15: {criterion}[1].txt: unknown key 'txt': the keys of a criterion are code, "
        "text, rule, assumed (did you mean 'text'?)",
        f"{bad}:17: sections[0].groups[1].rule.scope: the veto scope is 'site': a veto's scope "
        "should be section (the section scores nothing) or inspection (the whole inspection "
        "scores nothing)",
        f"{bad}:22: grade_bands[0].min: the grade minimum is 101: it should lie between 0 and "
        "100 (a percentage)",
        f"{bad}:24: rectification.days: the days to fix are 7.5: they should be a whole number "
        "1-366",
        f"{bad}:25: rectification.overrides.9: the code '9' is not a section or criterion code "
        "of this standard",
        "The file has problems: fix them where shown above and check again",
    ]


def test_check_in_chinese_is_as_before(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAULTY, encoding="utf-8")
    lines = run("check", str(bad)).output.splitlines()
    assert lines[1] == (
        f"{bad}:10: sections[0].groups[0].rule: 无法识别的扣分标准「一个问题扣0.5分」：应为如"
        "「一个问题点扣0.5分」「一人一个问题点扣0.3分，最高扣1分」「每处扣1分，扣完为止」"
        "「否决项：出现即本一级指标不得分」的写法，或映射 {kind, unit, cap, scope}"
    )
    assert lines[-1] == "1 个文件有问题（共 1 个）：请按上面的位置修改后再检查"


def test_show_in_english_says_the_problem_in_english(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: y\nversion: 1\nsections: []\n", encoding="utf-8")
    result = run("show", "--lang", "en", str(bad))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {bad}:4: sections: sections is empty: at least one item is needed\n"
    )


RULES = [
    Rule("per_point", unit=D("0.5")),
    Rule("per_person_point", unit=D("0.3"), cap=D(1)),
    Rule("per_place", unit=D(1), cap=D("2.5")),
    Rule("per_item", unit=D(2)),
    Rule("veto", scope="section"),
    Rule("veto", scope="inspection"),
]


def test_rule_phrases_in_both_languages_read_back() -> None:
    assert [r.phrase() for r in RULES] == [
        "一个问题点扣0.5分",
        "一人一个问题点扣0.3分，最高扣1分",
        "每处扣1分，最高扣2.5分",
        "每项扣2分",
        "否决项：出现即本一级指标不得分",
        "否决项：出现即本次检查不得分",
    ]
    assert [r.phrase("en") for r in RULES] == [
        "0.5 off per problem point",
        "0.3 off per person per problem point, at most 1 off",
        "1 off per place, at most 2.5 off",
        "2 off per item",
        "Veto: the section scores nothing",
        "Veto: the whole inspection scores nothing",
    ]
    for rule in RULES:
        assert parse_rule_phrase(rule.phrase("zh")) == rule
        assert parse_rule_phrase(rule.phrase("en")) == rule
    assert parse_rule_phrase("1 off per place, until none is left") == Rule("per_place", D(1))


def checklist_rules(template: str) -> list[str]:
    standard = load_standard(SHIPPED_STANDARD)
    site = Site("P001", "滨江花园", "华东")
    data = build_workbook(standard, site, "2026-11", template=template, issued_on=date(2026, 11, 1))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[1]
    return [row[0] for row in sheet.iter_rows(min_row=3, min_col=6, max_col=6, values_only=True)]


def test_an_english_workbook_says_its_deduction_rules_in_english() -> None:
    english = [rule for rule in checklist_rules("en") if rule]
    assert english[:2] == ["0.3 off per person per problem point"] * 2
    assert "0.5 off per problem point" in english
    assert not [rule for rule in english if CJK.search(rule)]
    chinese = [rule for rule in checklist_rules("zh") if rule]
    assert chinese[:2] == ["一人一个问题点扣0.3分"] * 2
    assert len(chinese) == len(english) == 42
    assert set(chinese) == {"一人一个问题点扣0.3分", "一个问题点扣0.5分"}


def test_show_in_english(tmp_path: Path) -> None:
    result = run("show", "--lang", "en", str(SHIPPED_STANDARD))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[2] == (
        "3 sections · 4 groups · 42 criteria · 34 points · grades 优秀≥90 良好≥80 合格≥70 不合格≥0"
    )
    assert lines[3:6] == [
        "1 行为规范 10 points · 15 criteria",
        "  (no group) · 15 criteria · 现场抽查各类人员 · 0.3 off per person per problem point",
        "2 房屋交付 10 points · 23 criteria",
    ]
    two = run("check", "--lang", "en", str(SHIPPED_STANDARD), str(tmp_path / "none.yaml"))
    assert two.output.splitlines()[-1] == (
        "1 of 2 files have problems: fix them where shown above and check again"
    )
    check = run("check", "--lang", "en", str(SHIPPED_STANDARD))
    assert check.output.startswith(
        f"{SHIPPED_STANDARD}: kefu-dudao v1.0 · 3 sections · 42 criteria · 34 points · hash "
    )


def faulty_table(tmp_path: Path, header: list[str] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "标准"
    sheet["A1"] = "客户服务督导标准"
    rows = [
        header or ["编号", "一级指标", "二级指标", "检查标准", "检查方法", "扣分标准"],
        ["1.1.01", "行为规范", "", "1. 着装规范", "现场抽查", "酌情扣分"],
        ["1.1.02\n1.1.03", "", "", "2. 用语文明", "", "一个问题点扣0.5分"],
        ["2.1.01", "房屋交付(5分)", "交付准备(9分)", "1. 资料齐全", "", "每处扣1分，最高扣8分"],
        ["2.1.02", "", "", "2. 钥匙登记", "查看记录", "#REF!"],
    ]
    for r, values in enumerate(rows, start=3):
        for c, value in enumerate(values, start=1):
            if value:
                sheet.cell(r, c, value)
    path = tmp_path / "table.xlsx"
    book.save(path)
    return path


def test_import_in_english_locates_every_problem_in_the_table(tmp_path: Path) -> None:
    path = faulty_table(tmp_path)
    out = tmp_path / "out.yaml"
    result = run("import", "--lang", "en", str(path), "--out", str(out))
    assert result.exit_code == 1
    unknown = (
        "is not understood: write it like '0.5 off per problem point', '0.3 off per person per "
        "problem point', '1 off per place, at most 3 off', '1 off per item, until none is left' "
        "or 'Veto: the section scores nothing' (or the Chinese phrases of "
        "docs/standard-format.md)"
    )
    assert result.output.replace(str(path), "T").splitlines() == [
        "Error: T: 标准!B4: the section '行为规范' has no points: write it like '行为规范(10分)'",
        f"T: 标准!F4: the deduction rule '酌情扣分' {unknown}",
        "T: 标准!A5: the codes '1.1.02",
        "1.1.03' number 2 but the criteria in cell 标准!D5 number 1: each criterion needs one "
        "code (one a line when a cell holds several)",
        "T: 标准!C6: the group '交付准备(9分)' has 9 points, more than the section's 5: they "
        "should not exceed the section's points",
        "T: 标准!F6: the deduction rule '每处扣1分，最高扣8分' deducts at most 8, more than the "
        "section's 5 points: it should not exceed the section's points",
        "T: 标准!F7: The cell holds the Excel error value '#REF!' (a formula that failed), not "
        "content: type the real value (not a formula) and import again.",
        f"T: 标准!F7: the deduction rule '#REF!' {unknown}",
        "T: 标准!E7: the check method '查看记录' differs from '现场抽查' at 标准!E6 in the same "
        "group: a group has one check method",
    ]
    chinese = run("import", str(path), "--out", str(out)).output.replace(str(path), "T")
    assert chinese.splitlines()[-1] == (
        "T: 标准!E7: 检查方法「查看记录」与本二级指标 标准!E6 的「现场抽查」不同：同一二级指标只能"
        "有一个检查方法"
    )
    assert not out.exists()


def test_import_in_chinese_is_as_before(tmp_path: Path) -> None:
    path = faulty_table(tmp_path, ["一级指标", "检查标准"])
    result = run("import", str(path), "--out", str(tmp_path / "out.yaml"))
    assert result.output == (
        f"Error: {path}: 标准 第 3 行: 表头缺少列 检查方法、扣分标准：表头应含 一级指标、二级指标、"
        "检查标准、检查方法、扣分标准（可选 编号）\n"
    )
    english = run("import", "--lang", "en", str(path), "--out", str(tmp_path / "out.yaml"))
    assert english.output == (
        f"Error: {path}: 标准 row 3: the header lacks the columns 检查方法, 扣分标准: it should "
        "hold 一级指标, 二级指标, 检查标准, 检查方法, 扣分标准 (编号 optional)\n"
    )


def test_demo_in_english_prints_no_chinese_of_its_own(tmp_path: Path) -> None:
    from audit_xls import data
    from audit_xls.grading.sites import load_sites

    result = CliRunner().invoke(
        cli, ["demo", "--lang", "en", "--out", str(tmp_path / "d"), "--months", "1", "--no-soffice"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "2026-09: 24 issued. Read 22 workbook files: 18 graded, 4 sent back; 1 file skipped; 2 missing."
        in result.output
    )
    assert (
        "(Returns saved by openpyxl, not through LibreOffice; the .xls/.ods samples stay .xlsx.)"
        in result.output
    )
    # HQ's data keeps its words: the sample sites' names and regions, the standard's grades,
    # and what a return holds (quoted); nothing else may be Chinese.
    words = {w for s in load_sites(data.sample_sites()) for w in (s.name, s.region)}
    words |= {name for name, _ in load_standard(SHIPPED_STANDARD).grade_bands}
    text = re.sub(r"'[^']*'", "''", result.output)
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "")
    assert not CJK.search(text), [line for line in text.splitlines() if CJK.search(line)]
    names = sorted(p.name for p in (tmp_path / "d" / "reports").iterdir())
    assert names == [
        "details-2026-09.csv",
        "monthly.xlsx",
        "replies-2026-09-30.xlsx",
        "replies-2026-10-02.xlsx",
        "summary-2026-09.xlsx",
    ]


def test_an_english_workbook_issued_with_chinese_rules_is_still_graded(
    tmp_path: Path, monkeypatch
) -> None:
    """Before Rule.phrase spoke English, English workbooks showed the 扣分标准 in Chinese:
    those issued then are graded as they are, not sent back as another layout."""
    from audit_xls.grading.grade import grade_returns
    from audit_xls.workbook import build, layout

    standard = load_standard(SHIPPED_STANDARD)
    site = Site("P001", "滨江花园", "华东")
    with monkeypatch.context() as patch:
        patch.setattr(build, "_PLANS", {})
        patch.setattr(build, "Layout", lambda s, t: layout.Layout(s, t, "zh"))
        other = Site("P002", "西湖花园", "华东")
        old = build_workbook(standard, other, "2026-11", template="en", issued_on=date(2026, 11, 1))
    new = build_workbook(standard, site, "2026-11", template="en", issued_on=date(2026, 11, 1))
    returns = tmp_path / "returns"
    returns.mkdir()
    for name, data in (("old.xlsx", old), ("new.xlsx", new)):
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book["Checklist"]["F4"].value == (
            "一人一个问题点扣0.3分"
            if name == "old.xlsx"
            else "0.3 off per person per problem point"
        )
        cover, sheet = book["Cover"], book["Checklist"]
        for row in cover.iter_rows(min_col=1, max_col=1):
            if row[0].value == "Inspection date":
                cover.cell(row[0].row, 2).value = date(2026, 11, 5)
            if row[0].value == "Inspector":
                cover.cell(row[0].row, 2).value = "Wang"
        for r in range(4, sheet.max_row + 1):
            if sheet.cell(r, 1).value and sheet.cell(r, 4).value and sheet.cell(r, 6).value:
                sheet.cell(r, 7).value = "Pass"
        book.save(returns / name)
    batch = grade_returns(returns, [standard], None, lang="en")
    assert [(w.file, [d.code for d in w.diagnostics]) for w in batch.workbooks] == [
        ("new.xlsx", []),
        ("old.xlsx", []),
    ]
    assert sorted(w.file for w in batch.graded) == ["new.xlsx", "old.xlsx"]
    assert [w.card.percent for w in batch.graded] == [D(100), D(100)]
