"""The workbook's live formulas agree with the Python scorer, recalculated by LibreOffice.

Random fillings (fixed seed) of a small standard with every scoring feature (group points,
caps, per_item, section and inspection vetoes, floors, 不适用 sections) and of the shipped
standard are written into built workbooks, recalculated in ONE soffice batch, and every
得分汇总 value and every criterion 扣分 is compared with audit_xls.model.score.score().
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from audit_xls.grading.sites import Site
from audit_xls.model.score import FAIL, NA, PASS, Answer, ScoreCard, score
from audit_xls.model.standard import Standard
from audit_xls.soffice import convert
from audit_xls.standards.loader import standard_from_mapping
from audit_xls.workbook.build import build_workbook
from audit_xls.workbook.layout import Col, Layout, SumCol
from audit_xls.workbook.template import load_template

SEED = 20261128
FILLINGS = 40
SHIPPED_FILLINGS = 12
PERIOD = "2026-11"

FEATURES = {
    "id": "features",
    "name": "评分特性测试标准",
    "version": "1",
    "sections": [
        {
            "code": "1",
            "name": "安全管理",
            "points": 10,
            "groups": [
                {
                    "name": "消防",
                    "points": 4,
                    "method": "现场查看",
                    "rule": "一个问题点扣0.5分，最高扣2分",
                    "criteria": [
                        {"code": "1.1.01", "text": "消防通道畅通。"},
                        {"code": "1.1.02", "text": "灭火器在有效期内。"},
                        {"code": "1.1.03", "text": "消防控制室有人值守。"},
                    ],
                },
                {
                    "name": "安防",
                    "method": "查看记录",
                    "rule": "每项扣1分",
                    "criteria": [
                        {"code": "1.2.01", "text": "监控录像保存30天。"},
                        {"code": "1.2.02", "text": "巡逻记录完整。"},
                        {
                            "code": "1.2.03",
                            "text": "无重大安全事故。",
                            "rule": "否决项：出现即本一级指标不得分",
                        },
                    ],
                },
            ],
        },
        {
            "code": "2",
            "name": "环境卫生",
            "points": 5,
            "groups": [
                {
                    "method": "现场抽查",
                    "rule": "每处扣0.3分",
                    "criteria": [
                        {"code": "2.1.01", "text": "大堂地面干净。"},
                        {"code": "2.1.02", "text": "垃圾日产日清。"},
                        {
                            "code": "2.1.03",
                            "text": "无群体性投诉。",
                            "rule": "否决项：出现即本次检查不得分",
                        },
                    ],
                }
            ],
        },
        {
            "code": "3",
            "name": "客户服务",
            "points": 5,
            "groups": [
                {
                    "method": "现场抽查各类人员",
                    "rule": "一人一个问题点扣0.3分，最高扣1分",
                    "criteria": [
                        {"code": "3.1.01", "text": "着装规范。"},
                        {"code": "3.1.02", "text": "主动问好。"},
                    ],
                }
            ],
        },
    ],
}


@dataclass
class Case:
    name: str
    standard: Standard
    answers: dict[str, Answer]
    path: Path


def _random_answers(standard: Standard, rng: random.Random) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    all_na = {s.code for s in standard.sections if rng.random() < 0.25}
    heavy = rng.random() < 0.3  # many problem points: caps and floors (扣完为止) bite
    for section in standard.sections:
        for criterion in section.criteria:
            if section.code in all_na:
                answers[criterion.code] = Answer(NA)
                continue
            if criterion.rule.is_veto:
                result = FAIL if rng.random() < 0.12 else rng.choice([PASS, PASS, NA, None])
            else:
                result = rng.choice([PASS, PASS, FAIL, FAIL, FAIL, NA, None])
            if result is None and rng.random() < 0.5:
                continue  # unanswered: the criterion is missing from the answers
            points = rng.choice([None, 0, 1, 2, 3, 7, 99] if heavy else [None, 0, 1, 2, 3])
            if result == PASS and rng.random() < 0.8:
                points = None
            answers[criterion.code] = Answer(result, points)
    return answers


def _fill(built: bytes, layout: Layout, answers: dict[str, Answer], path: Path) -> None:
    """Type the answers into the input cells, as a supervisor would (openpyxl: tests only)."""
    source = path.with_suffix(".built.xlsx")
    source.write_bytes(built)
    book = openpyxl.load_workbook(source)
    sheet = book[layout.checklist_sheet]
    for code, answer in answers.items():
        row = layout.criterion_row[code] + 1
        if answer.result is not None:
            sheet.cell(row, Col.RESULT + 1, layout.result_label(answer.result))
        if answer.problem_points is not None:
            sheet.cell(row, Col.POINTS + 1, answer.problem_points)
    book.save(path)
    source.unlink()


def _cases(tmp: Path, shipped: Standard) -> list[Case]:
    rng = random.Random(SEED)
    features = standard_from_mapping(FEATURES)
    plan = [(features, FILLINGS), (shipped, SHIPPED_FILLINGS)]
    cases: list[Case] = []
    site = Site("P001", "滨江花园", "华东")
    for standard, count in plan:
        layout = Layout(standard, load_template("zh"))
        built = build_workbook(standard, site, PERIOD, issued_on=date(2026, 11, 1))
        for i in range(count):
            answers = _random_answers(standard, rng)
            path = tmp / "in" / f"{standard.id}-{i:02d}.xlsx"
            path.parent.mkdir(exist_ok=True)
            _fill(built, layout, answers, path)
            cases.append(Case(path.stem, standard, answers, path))
    # The corner cases must be there whatever the seed gives.
    for name, answers in _corner_answers(features).items():
        path = tmp / "in" / f"corner-{name}.xlsx"
        layout = Layout(features, load_template("zh"))
        built = build_workbook(features, site, PERIOD, issued_on=date(2026, 11, 1))
        _fill(built, layout, answers, path)
        cases.append(Case(path.stem, features, answers, path))
    return cases


def _corner_answers(standard: Standard) -> dict[str, dict[str, Answer]]:
    every = [c.code for c in standard.criteria]
    fail99 = {c: Answer(FAIL, 99) for c in every}
    return {
        "all-na": {c: Answer(NA) for c in every},
        "empty": {},
        "all-fail-99": fail99,
        "inspection-veto": {c: Answer(PASS) for c in every} | {"2.1.03": Answer(FAIL)},
        "section-veto": {c: Answer(PASS) for c in every} | {"1.2.03": Answer(FAIL)},
        "section1-na-veto": {c: Answer(NA) for c in every if c.startswith("1.")}
        | {"2.1.03": Answer(FAIL), "3.1.01": Answer(FAIL, 2)},
        "fail-no-count": {c: Answer(FAIL) for c in every if not c.endswith("03")},
        "group-floor": {"1.1.01": Answer(FAIL, 4), "1.1.02": Answer(FAIL, 4)},
        "thirds": {"2.1.01": Answer(FAIL, 1), "3.1.01": Answer(FAIL, 3)}
        | {c: Answer(PASS) for c in every if c.startswith("1.")},
    }


def _close(value: object, expected: Decimal) -> bool:
    return isinstance(value, float) and abs(Decimal(repr(value)) - expected) < Decimal("1e-9")


def _check(case: Case, recalculated: Path, card: ScoreCard | None = None) -> list[str]:
    """Every 得分汇总 value and 扣分 of the recalculated file against the scorer's card
    (`card`: one scored with more than the answers, e.g. 复查 verdicts)."""
    layout = Layout(case.standard, load_template("zh"))
    card = card or score(case.standard, case.answers)
    book = CalamineWorkbook.from_path(str(recalculated))
    checklist = book.get_sheet_by_name(layout.checklist_sheet).to_python(skip_empty_area=False)
    summary = book.get_sheet_by_name(layout.summary_sheet).to_python(skip_empty_area=False)
    yes, no = load_template("zh")["yes_label"], load_template("zh")["no_label"]
    problems: list[str] = []

    def expect(where: str, got: object, want: Decimal | str | int | None) -> None:
        if isinstance(want, Decimal):
            ok = _close(got, want)
        elif want is None:
            ok = got == ""
        elif isinstance(want, int) and not isinstance(want, bool):
            ok = isinstance(got, float) and got == want
        else:
            ok = got == want
        if not ok:
            problems.append(f"{case.name} {where}: sheet {got!r}, scorer {want!r}")

    for criterion in card.criteria:
        r = layout.criterion_row[criterion.code]
        rule = next(c for c in case.standard.criteria if c.code == criterion.code).rule
        got = checklist[r][Col.DEDUCTION]
        if rule.is_veto:
            mark = "否决" if criterion.result == FAIL else ""
            expect(f"扣分 {criterion.code}", got, mark)
        else:
            expect(f"扣分 {criterion.code}", got, criterion.deduction)
    for section in card.sections:
        r = layout.summary_rows[section.code]
        row = summary[r]
        expect(f"{section.code} 是否适用", row[SumCol.APPLIES], yes if section.applicable else no)
        expect(
            f"{section.code} 扣分",
            row[SumCol.DEDUCTED],
            section.deducted if section.applicable else Decimal(0),
        )
        expect(f"{section.code} 得分", row[SumCol.SCORE], section.score)
        expect(
            f"{section.code} 应得分",
            row[SumCol.APPLICABLE_POINTS],
            section.points if section.applicable else Decimal(0),
        )
    t = layout.summary_total_rows
    expect("合计得分", summary[t["total"]][1], card.total)
    expect("应得分合计", summary[t["max_score"]][1], card.max_score)
    expect("得分率", summary[t["percent"]][1], card.percent)
    expect("评级", summary[t["grade"]][1], card.grade if card.grade is not None else "")
    expect("未填写条数", summary[t["unanswered"]][1], len(card.unanswered))
    return problems


@pytest.mark.soffice
def test_live_formulas_agree_with_the_scorer(tmp_path: Path, shipped_standard: Standard) -> None:
    cases = _cases(tmp_path, shipped_standard)
    outputs = convert([c.path for c in cases], "xlsx", tmp_path / "out")
    problems = [p for case, out in zip(cases, outputs, strict=True) for p in _check(case, out)]
    assert problems == []
    # The fillings did exercise every feature.
    cards = [score(c.standard, c.answers) for c in cases]
    assert any(c.inspection_vetoed for c in cards)
    assert any(s.vetoed and not c.inspection_vetoed for c in cards for s in c.sections)
    assert any(not s.applicable for c in cards for s in c.sections)
    assert any(c.percent is None for c in cards)
    assert any(s.applicable and s.score == 0 and not s.vetoed for c in cards for s in c.sections)
    assert len({c.grade for c in cards}) >= 3
