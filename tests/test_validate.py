"""validate.py: every check's diagnostic with its exact cell and message, and exact scores."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from returns import fill, issue, mini_standard

from audit_xls.grading.validate import Checker, Validated, parse_points
from audit_xls.model.score import FAIL, NA, PASS, Answer
from audit_xls.workbook.read import RawWorkbook, read_workbook

ALL_PASS = ("符合", None)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def issued(standard) -> bytes:
    return issue(standard)


def check(standard, data: bytes, lang: str = "zh", issued=None) -> Validated:
    raw = read_workbook(data)
    assert isinstance(raw, RawWorkbook), raw
    checker = Checker([standard], issued, lang=lang, standards_folder="standards")
    return checker.check(raw, "P001.xlsx")


def flat(validated: Validated) -> list[list[str]]:
    return [[d.severity, d.code, d.sheet, d.cell] for d in validated.diagnostics]


def test_floors_caps_per_person_and_na_section(standard, issued):
    data = fill(
        issued,
        standard,
        {
            "1.1.01": ("不符合", 4),  # 4 people x 0.3 = 1.2
            "1.1.02": ("不符合", 5),  # 1.5: section 1 deducts 2.7, floored at its 2 points
            "2.1.01": ("不符合", 3),  # 1.5 capped at 1
            "2.1.02": ("不符合", 1),  # 0.5: group 交付准备 deducts at most its 1 point
            "2.2.01": ("不符合", 7),  # per item: 1 whatever the count
            "2.2.02": ("符合", None),
            "3.1.01": ("不适用", None),
            "3.1.02": ("不适用", None),
        },
    )
    validated = check(standard, data)
    assert validated.diagnostics == []
    card = validated.card
    assert [(s.code, s.deducted, s.score, s.applicable) for s in card.sections] == [
        ("1", Decimal(2), Decimal(0), True),
        ("2", Decimal(2), Decimal(1), True),
        ("3", Decimal(0), Decimal(0), False),
    ]
    assert (card.total, card.max_score, card.percent, card.grade) == (
        Decimal("1.00"), Decimal(5), Decimal("20.00"), "不合格",
    )  # fmt: skip
    assert validated.answers["1.1.01"] == Answer(FAIL, 4, "")
    assert validated.answers["3.1.01"] == Answer(NA, None, "")


def test_veto_and_fail_without_count(standard, issued):
    data = fill(
        issued,
        standard,
        {"1.1.01": ("不符合", None), "2.2.02": ("不符合", 1), "3.1.01": ("不符合", "１")},
        default=ALL_PASS,
    )
    validated = check(standard, data)
    assert flat(validated) == [["warning", "answer.fail_without_points", "检查表", "H4"]]
    assert validated.diagnostics[0].message == (
        "检查结果为「不符合」但问题点数为空，按 1 个问题点计分：不止 1 个问题点时请填写实际点数。"
    )
    card = validated.card
    assert [s.score for s in card.sections] == [Decimal("1.7"), Decimal(0), Decimal("1.5")]
    assert card.sections[1].vetoed
    assert (card.total, card.percent, card.grade) == (Decimal("3.20"), Decimal("45.71"), "不合格")


def test_all_pass_scores_full_marks(standard, issued):
    validated = check(standard, fill(issued, standard, {}, default=ALL_PASS))
    assert validated.diagnostics == []
    assert (validated.card.total, validated.card.percent, validated.card.grade) == (
        Decimal("7.00"), Decimal("100.00"), "优秀",
    )  # fmt: skip
    assert validated.inspector == "张督导"
    assert validated.inspection_date.isoformat() == "2026-11-12"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(None, (None, True)), ("", (None, True)), (2, (2, True)), (2.0, (2, True)),
     ("2.0", (2, True)), ("３", (3, True)), (" 4 ", (4, True)), ("1 2", (12, True)),
     (99, (99, True)), (100, (None, False)), ("两个", (None, False)), (1.5, (None, False)),
     ("1.5", (None, False)), (-1, (None, False)), ("-1", (None, False)), (True, (None, False))],
)  # fmt: skip
def test_parse_points(typed, expected):
    assert parse_points(typed) == expected


def test_answer_errors_each_at_its_cell(standard, issued):
    data = fill(
        issued,
        standard,
        {
            "1.1.01": ("对", None),
            "1.1.02": ("不符合", "两个"),
            "2.1.01": ("符合", 2),
            "2.1.02": (None, 3),
            "2.2.01": ("不符合", -1),
            "2.2.02": ("不适用", 1.5),
            "3.1.01": ('="符合"', None),
        },
    )
    validated = check(standard, data)
    assert [(d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("answer.invalid_result", "G4",
         "检查结果填了「对」，只能是 符合、不符合、不适用：请从下拉列表中选择。"),
        ("answer.invalid_points", "H5",
         "问题点数填了「两个」，须为 0-99 的整数：请改为整数（例如 2）。"),
        ("answer.contradictory", "H8",
         "检查结果为「符合」却填了问题点数 2，前后矛盾："
         "有问题请改选「不符合」，否则清空问题点数。"),
        ("answer.points_without_result", "H9",
         "填了问题点数 3，但检查结果为空：请选择检查结果。"),
        ("answer.invalid_points", "H11",
         "问题点数填了「-1」，须为 0-99 的整数：请改为整数（例如 2）。"),
        ("answer.invalid_points", "H12",
         "问题点数填了「1.5」，须为 0-99 的整数：请改为整数（例如 2）。"),
        ("answer.formula", "G14", "填的是公式而不是值：请删除公式，直接选择或输入值后发回。"),
        ("answer.unanswered", "G15",
         "1 条检查标准未填写检查结果：3.1.02（G15）：请逐条选择检查结果后发回。"),
    ]  # fmt: skip
    assert all(d.severity == "error" and d.sheet == "检查表" for d in validated.diagnostics)


def test_messages_in_english(standard, issued):
    data = fill(issued, standard, {"1.1.01": ("对", None)}, default=ALL_PASS, inspector="")
    validated = check(standard, data, lang="en")
    assert [(d.code, d.sheet, d.cell, d.message) for d in validated.diagnostics] == [
        ("cover.inspector_missing", "基本信息", "B10",
         "The inspector is not filled in: enter the inspector's name and send it back."),
        ("answer.invalid_result", "检查表", "G4",
         "The result reads '对' but must be one of 符合, 不符合, 不适用: "
         "choose it from the dropdown."),
    ]  # fmt: skip


def test_cover_fields(standard, issued):
    data = fill(issued, standard, {}, default=ALL_PASS, inspector=None, inspection_date=None)
    assert [(d.code, d.cell, d.message) for d in check(standard, data).diagnostics] == [
        ("cover.inspector_missing", "B10", "督导人员未填写：请填写督导人员姓名后发回。"),
        ("cover.date_missing", "B9",
         "检查日期未填写：请填写检查当天的日期（2026-11-01 至 2026-11-30 之间）后发回。"),
    ]  # fmt: skip
    data = fill(issued, standard, {}, default=ALL_PASS, inspection_date="2026-12-01")
    assert [(d.code, d.cell, d.message) for d in check(standard, data).diagnostics] == [
        ("cover.date_outside", "B9",
         "检查日期 2026-12-01 不在检查月份 2026-11（2026-11-01 至 2026-11-30）内："
         "请填写实际检查日期后发回。"),
    ]  # fmt: skip
    data = fill(issued, standard, {}, default=ALL_PASS, inspection_date="上周五")
    assert [d.code for d in check(standard, data).diagnostics] == ["cover.date_invalid"]
    data = fill(issued, standard, {}, default=ALL_PASS, cells={("基本信息", "B3"): "P009"})
    assert [(d.code, d.cell, d.message) for d in check(standard, data).diagnostics] == [
        ("cover.changed", "B3",
         "项目编码为「P009」，下发时为「P001」（锁定内容被修改）：请使用总部下发的原检查表，"
         "不要修改项目信息。"),
    ]  # fmt: skip


def test_locked_text_points_and_rule_edits_named(standard, issued):
    data = fill(
        issued,
        standard,
        {},
        default=ALL_PASS,
        cells={("检查表", "D4"): "着装随意", ("检查表", "F8"): "一个问题点扣0.1分"},
    )
    validated = check(standard, data)
    assert [(d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("locked.changed", "D4",
         "检查表的锁定内容被修改，共 2 处：D4 应为「着装整洁」，实为「着装随意」；"
         "F8 应为「一个问题点扣0.5分，最高扣1分」，实为「一个问题点扣0.1分」：请使用总部下发的"
         "原检查表重新填写，不要修改灰色单元格。"),
    ]  # fmt: skip


def test_rows_deleted_or_moved(standard, issued):
    book = openpyxl.load_workbook(io.BytesIO(fill(issued, standard, {}, default=ALL_PASS)))
    book["检查表"].delete_rows(5)  # 1.1.02 gone, everything below moves up
    out = io.BytesIO()
    book.save(out)
    validated = check(standard, out.getvalue())
    assert [(d.code, d.cell) for d in validated.diagnostics] == [("locked.rows_changed", "A5")]
    assert validated.diagnostics[0].message.startswith(
        "检查表的行被删除、插入或移动：A5 应为「1.1.02」，实为「2」；A6 应为「2」，实为「2.1」；"
    )
    assert validated.card is None


def test_formula_edited_seen_in_cached_deduction(standard, issued):
    data = fill(issued, standard, {"1.1.01": ("不符合", 2)}, default=ALL_PASS)
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["检查表"]["I4"] = 0.1  # what a recalculated, edited formula leaves behind
    book["检查表"]["I5"] = 0  # the same as the scorer: fine
    book["检查表"]["I3"] = 0.6  # section 1 deducts 0.6: fine
    out = io.BytesIO()
    book.save(out)
    validated = check(standard, out.getvalue())
    assert [(d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("locked.formula_edited", "I4",
         "扣分为 0.1，按标准应为 0.6（扣分公式被修改）："
         "请使用总部下发的原检查表，不要修改扣分列。"),
    ]  # fmt: skip


def test_merged_input_cells(standard, issued):
    data = fill(issued, standard, {}, default=ALL_PASS)
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["检查表"].merge_cells("G4:G5")
    out = io.BytesIO()
    book.save(out)
    validated = check(standard, out.getvalue())
    assert [(d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("checklist.merged", "G4",
         "单元格 G4:G5 被合并，覆盖了填写单元格：请取消合并，逐条填写后发回。"),
        ("answer.unanswered", "G5",
         "1 条检查标准未填写检查结果：1.1.02（G5）：请逐条选择检查结果后发回。"),
    ]  # fmt: skip


def test_manifest_edited_and_unknown_standard(tmp_path, standard, issued):
    book = openpyxl.load_workbook(io.BytesIO(fill(issued, standard, {}, default=ALL_PASS)))
    book["_manifest"]["B8"] = "P002"  # site_code
    out = io.BytesIO()
    book.save(out)
    validated = check(standard, out.getvalue())
    assert [(d.code, d.sheet) for d in validated.diagnostics] == [
        ("manifest.tampered", "_manifest")
    ]
    other = mini_standard(tmp_path)
    raw = read_workbook(fill(issued, standard, {}, default=ALL_PASS))
    no_match = Checker([], standards_folder="/srv/standards").check(raw, "P001.xlsx")
    assert [d.message for d in no_match.diagnostics] == [
        f"检查表使用的标准 mini 版本 1（内容哈希 {other.content_hash[:12]}）不在标准目录 "
        "/srv/standards 中：请把该版本的标准文件放入标准目录后重新评分，"
        "或让项目改填当前下发的检查表。"
    ]


def test_issued_register_consistency(standard, issued):
    from audit_xls.grading.register import IssuedEntry

    raw = read_workbook(fill(issued, standard, {}, default=ALL_PASS))
    entry = IssuedEntry(raw.manifest["workbook_id"], "P001", "滨江花园", "华东", "", "",
                        "2026-11", "mini", "1", standard.content_hash, "a.xlsx")  # fmt: skip
    assert check(standard, fill(issued, standard, {}, default=ALL_PASS), issued=[entry]).card
    other = IssuedEntry("0" * 16, "P001", "滨江花园", "华东", "", "", "2026-10", "mini", "1",
                        standard.content_hash, "a.xlsx")  # fmt: skip
    validated = check(standard, fill(issued, standard, {}, default=ALL_PASS), issued=[other])
    assert [(d.code, d.message) for d in validated.diagnostics] == [
        ("issued.not_issued",
         f"该工作簿（项目 P001，月份 2026-11，编号 {raw.manifest['workbook_id']}）不在发放登记表中"
         "（登记表月份：2026-10）：请确认是否交错了项目或月份的检查表。"),
    ]  # fmt: skip


def test_answers_record_notes(standard, issued):
    data = fill(issued, standard, {"1.1.01": ("不符合", 1, "=HYPERLINK(1)")}, default=ALL_PASS)
    validated = check(standard, data)
    assert validated.answers["1.1.01"] == Answer(FAIL, 1, "=HYPERLINK(1)")
    assert validated.answers["1.1.02"] == Answer(PASS, None, "")


def recalculated(data: bytes, cached: dict[str, float]) -> bytes:
    """What an application's save leaves in the 扣分 column: numbers in place of formulas."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for ref, value in cached.items():
        book["检查表"][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_label_with_a_space_is_graded_with_a_warning_and_no_false_formula_alarm(standard, issued):
    # "不符合 " is 不符合 to the scorer, but the workbook's =G4="不符合" said no: 0 deducted.
    data = fill(issued, standard, {"1.1.01": ("不符合 ", 2)}, default=ALL_PASS)
    validated = check(standard, recalculated(data, {"I4": 0, "I3": 0}))
    assert [(d.severity, d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("warning", "answer.label_not_exact", "G4",
         "检查结果「不符合 」与下拉选项「不符合」不完全相同（空格、全角或大小写），"
         "已按「不符合」评分；表内的自动扣分不认这种写法，可能与总部评分不同：请从下拉列表选择。"),
    ]  # fmt: skip
    assert validated.card.sections[0].deducted == Decimal("0.6")


def test_english_labels_are_matched_without_case(standard):
    from audit_xls.grading.sites import Site
    from audit_xls.workbook.build import build_workbook

    english = build_workbook(standard, Site("P001", "Riverside", "East"), "2026-11",
                             template="en", issued_on=date(2026, 11, 1))  # fmt: skip
    data = fill(english, standard, {"1.1.01": ("fail", 1)}, default=("Pass", None),
                template="en")  # fmt: skip
    validated = check(standard, data, lang="en")
    assert [(d.code, d.cell) for d in validated.diagnostics] == [("answer.label_not_exact", "G4")]
    assert validated.answers["1.1.01"] == Answer(FAIL, 1, "")


def test_group_rows_cached_deduction_checked_too(standard, issued):
    data = fill(issued, standard, {"2.1.01": ("不符合", 1)}, default=ALL_PASS)
    validated = check(standard, recalculated(data, {"I8": 0.5, "I7": 9}))
    assert [(d.code, d.cell) for d in validated.diagnostics] == [("locked.formula_edited", "I7")]


def test_fail_with_zero_points_deducts_nothing_with_a_warning(standard, issued):
    data = fill(issued, standard, {"1.1.01": ("不符合", 0)}, default=ALL_PASS)
    validated = check(standard, data)
    assert [(d.severity, d.code, d.cell, d.message) for d in validated.diagnostics] == [
        ("warning", "answer.fail_zero_points", "H4",
         "检查结果为「不符合」但问题点数为 0，本条不扣分："
         "有问题请填写实际点数，没有问题请改选「符合」。"),
    ]  # fmt: skip
    assert validated.card.total == Decimal("7.00")  # full marks: nothing deducted


def test_inexact_inspection_veto_keeps_every_section_out_of_the_formula_check(tmp_path):
    from returns import MINI_YAML

    from audit_xls.standards.loader import load_standard
    from audit_xls.workbook.layout import Layout
    from audit_xls.workbook.template import load_template

    yaml = MINI_YAML.replace("{code: \"3.1.02\", text: 巡查记录}",
                             "{code: \"3.1.02\", text: 重大事故, rule: 否决项：出现即本次检查不得分}")  # fmt: skip
    (tmp_path / "veto.yaml").write_text(yaml, encoding="utf-8")
    standard = load_standard(tmp_path / "veto.yaml")
    plan = Layout(standard, load_template())
    data = fill(issue(standard), standard, {"3.1.02": ("不符合 ", None)}, default=ALL_PASS)
    # The workbook's formulas did not see the veto: every row deducts 0 after recalculation.
    cached = {
        f"I{r.index + 1}": 0 for r in plan.rows if not (r.criterion and r.criterion.rule.is_veto)
    }
    validated = check(standard, recalculated(data, cached))
    # a veto counts no problem points, so an empty count is no warning either
    assert [(d.code, d.cell) for d in validated.diagnostics] == [("answer.label_not_exact", "G15")]
    assert validated.card.inspection_vetoed and validated.card.total == Decimal("0.00")


USUAL_AND_UNUSUAL_ROWS = [
    ("符合", "", ""), ("符合", "", "备注"), ("不适用", "", ""), ("不符合", 2.0, "已拍照"),
    ("不符合", 99.0, ""), ("不符合", 100.0, ""), ("不符合", 0.0, ""), ("不符合", 1.5, ""),
    ("不符合", -1.0, ""), ("不符合", float("nan"), ""), ("不符合", float("inf"), ""),
    ("不符合", "", ""), ("不符合", 3, ""), ("不符合", True, ""), ("不符合", "2", ""),
    ("符合", 2.0, ""), ("符合", "2", ""), ("符合 ", "", ""), ("不适用", "", None),
    ("不适用", "", 5.0), ("", "", ""), ("", 2.0, ""), (None, "", ""), (3.0, "", ""),
]  # fmt: skip


@pytest.mark.parametrize("short", [False, True])
@pytest.mark.parametrize("typed", USUAL_AND_UNUSUAL_ROWS, ids=repr)
def test_usual_rows_read_as_the_general_path_reads_them(standard, issued, typed, short):
    """check_answers reads the usual row without the general path's calls: both must give
    the same answers, messages and score for every shape of row, usual or not."""
    from audit_xls.workbook.layout import Col, Layout
    from audit_xls.workbook.template import load_template

    raw = read_workbook(fill(issued, standard, {}, default=ALL_PASS))
    rows = Layout(standard, load_template("zh")).criterion_rows
    for row in rows[::2]:  # every other criterion: usual rows around the odd ones
        cells = raw.grid[row.index]
        cells[Col.RESULT], cells[Col.POINTS], cells[Col.NOTE] = typed
        if short:
            del cells[Col.NOTE :]
    checker = Checker([standard], lang="zh", standards_folder="standards")
    quick = checker.check(raw, "P001.xlsx")
    raw.input_formulas = {(0, 0)}  # a formula outside the input cells: the general path
    general = checker.check(raw, "P001.xlsx")

    def seen(v: Validated):
        messages = [(d.code, d.cell, d.message) for d in v.diagnostics]
        return messages, v.answers, v.card and (v.card.total, v.card.percent, v.card.grade)

    assert seen(quick) == seen(general)
    assert raw.input_formulas == {(0, 0)}
