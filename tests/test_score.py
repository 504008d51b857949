"""The scorer against hand-computed inspections."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from audit_xls.model.score import FAIL, NA, PASS, Answer, criterion_deduction, score
from audit_xls.model.standard import Rule
from audit_xls.standards.loader import standard_from_mapping

TINY = {
    "id": "tiny",
    "name": "测试标准",
    "version": "1",
    "sections": [
        {
            "code": "A",
            "name": "行为",
            "points": 2,
            "groups": [
                {
                    "method": "现场抽查",
                    "rule": "一人一个问题点扣0.3分",
                    "criteria": [
                        {"code": "A1", "text": "着装"},
                        {"code": "A2", "text": "礼仪", "rule": "一个问题点扣0.5分，最高扣1分"},
                        {"code": "A3", "text": "红线", "rule": "否决项：出现即本一级指标不得分"},
                    ],
                }
            ],
        },
        {
            "code": "B",
            "name": "交付",
            "points": 10,
            "groups": [
                {
                    "name": "准备",
                    "points": 3,
                    "method": "查资料",
                    "rule": "一个问题点扣0.5分",
                    "criteria": [{"code": "B1", "text": "计划"}, {"code": "B2", "text": "培训"}],
                },
                {
                    "name": "办理",
                    "method": "查现场",
                    "rule": "每项扣2分",
                    "criteria": [{"code": "B3", "text": "秩序"}],
                },
            ],
        },
        {
            "code": "C",
            "name": "装修",
            "points": 5,
            "groups": [
                {
                    "name": "准备",
                    "method": "查资料",
                    "rule": "一个问题点扣0.5分",
                    "criteria": [
                        {"code": "C1", "text": "责任人"},
                        {"code": "C2", "text": "重大事故", "rule": "否决项：出现即本次检查不得分"},
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def tiny():
    return standard_from_mapping(TINY)


def answers(**by_code: tuple) -> dict[str, Answer]:
    return {code: Answer(*value) for code, value in by_code.items()}


def all_pass(standard) -> dict[str, Answer]:
    return {c.code: Answer(PASS) for c in standard.criteria}


def test_all_pass_scores_full_marks(tiny):
    card = score(tiny, all_pass(tiny))
    assert (card.total, card.max_score, card.percent, card.grade) == (
        D(17),
        D(17),
        D("100.00"),
        "优秀",
    )
    assert card.unanswered == ()


def test_per_person_points_are_exact_decimals(tiny):
    card = score(tiny, all_pass(tiny) | answers(A1=(FAIL, 3)))
    assert card.criteria[0].deduction == D("0.9")  # never 0.8999...
    assert card.sections[0].score == D("1.1")
    assert card.total == D("16.10")
    assert card.percent == D("94.71")  # 16.1 / 17 = 94.7058... rounded half up


def test_cap_limits_one_criterion(tiny):
    card = score(tiny, all_pass(tiny) | answers(A2=(FAIL, 5)))
    assert card.criteria[1].deduction == D(1)  # 5 x 0.5 = 2.5, capped at 1


def test_section_floors_at_zero(tiny):
    card = score(tiny, all_pass(tiny) | answers(A1=(FAIL, 9), A2=(FAIL, 2)))
    section = card.sections[0]
    assert (section.deducted, section.score) == (D(2), D(0))  # 2.7 + 1 deducted from 2 points


def test_group_points_floor_on_their_own(tiny):
    # B1+B2 = 4 problem points x 0.5 = 2... then 10 more: group capped at its 3 points
    card = score(tiny, all_pass(tiny) | answers(B1=(FAIL, 10), B2=(FAIL, 4), B3=(FAIL, 1)))
    section = card.sections[1]
    assert section.deducted == D(5)  # min(3, 7) + 2 (per item)
    assert section.score == D(5)


def test_per_item_deducts_once_whatever_the_count(tiny):
    card = score(tiny, all_pass(tiny) | answers(B3=(FAIL, 7)))
    assert card.sections[1].deducted == D(2)


def test_fail_without_count_counts_one(tiny):
    card = score(tiny, all_pass(tiny) | answers(B1=(FAIL, None)))
    assert card.criteria[3].problem_points == 1
    assert card.sections[1].deducted == D("0.5")


def test_section_veto_zeroes_only_its_section(tiny):
    card = score(tiny, all_pass(tiny) | answers(A3=(FAIL, 1)))
    assert [s.score for s in card.sections] == [D(0), D(10), D(5)]
    assert card.sections[0].vetoed and not card.inspection_vetoed
    assert card.total == D(15)


def test_inspection_veto_zeroes_everything(tiny):
    card = score(tiny, all_pass(tiny) | answers(C2=(FAIL, None)))
    assert card.inspection_vetoed
    assert [s.score for s in card.sections] == [D(0), D(0), D(0)]
    assert (card.total, card.max_score, card.percent, card.grade) == (D(0), D(17), D(0), "不合格")


def test_not_applicable_section_leaves_the_maximum(tiny):
    na_b = {c: Answer(NA) for c in ("B1", "B2", "B3")}
    card = score(tiny, all_pass(tiny) | na_b | answers(A1=(FAIL, 1)))
    assert not card.sections[1].applicable
    assert (card.total, card.max_score) == (D("6.70"), D(7))
    assert card.percent == D("95.71")


def test_partly_not_applicable_section_still_applies(tiny):
    card = score(tiny, all_pass(tiny) | answers(B1=(NA,), B2=(NA,)))
    assert card.sections[1].applicable and card.max_score == D(17)


def test_everything_not_applicable_has_no_percent(tiny):
    card = score(tiny, {c.code: Answer(NA) for c in tiny.criteria})
    assert (card.total, card.max_score, card.percent, card.grade) == (D(0), D(0), None, None)


def test_unanswered_criteria_are_listed_and_deduct_nothing(tiny):
    partial = all_pass(tiny)
    del partial["B2"]
    partial["C1"] = Answer(None)
    card = score(tiny, partial)
    assert card.unanswered == ("B2", "C1")
    assert card.total == D(17)


@pytest.mark.parametrize(
    ("percent", "grade"),
    [("90", "优秀"), ("89.99", "良好"), ("80", "良好"), ("70", "合格"), ("69.99", "不合格")],
)
def test_default_grade_bands(tiny, percent, grade):
    assert tiny.grade_for(D(percent)) == grade


def test_criterion_deduction_ignores_pass_and_na():
    rule = Rule("per_point", unit=D("0.5"))
    assert criterion_deduction(rule, Answer(PASS, 3)) == 0
    assert criterion_deduction(rule, Answer(NA, 3)) == 0
    assert criterion_deduction(rule, Answer(FAIL, 3)) == D("1.5")


def test_shipped_standard_worst_case_floors_each_section(shipped_standard):
    worst = {c.code: Answer(FAIL, 99) for c in shipped_standard.criteria}
    card = score(shipped_standard, worst)
    assert [s.score for s in card.sections] == [D(0), D(0), D(0)]
    assert (card.total, card.max_score, card.percent, card.grade) == (D(0), D(34), D(0), "不合格")


def test_docs_worked_example(shipped_standard):
    """The example in docs/scoring.md."""
    filled = {c.code: Answer(PASS) for c in shipped_standard.criteria}
    filled |= {c.code: Answer(NA) for c in shipped_standard.sections[1].criteria}
    filled |= answers(**{"1.1.02": (FAIL, 3), "3.1.02": (FAIL, None)})
    card = score(shipped_standard, filled)
    assert [s.score for s in card.sections] == [D("9.1"), D(0), D("13.5")]
    assert [s.applicable for s in card.sections] == [True, False, True]
    assert (card.total, card.max_score, card.percent, card.grade) == (
        D("22.60"),
        D(24),
        D("94.17"),
        "优秀",
    )


def test_percent_is_rounded_once_from_the_exact_total():
    eighths = standard_from_mapping(
        {
            "id": "eighths", "name": "八分之一", "version": "1",
            "sections": [{"code": "A", "name": "甲", "points": 10, "groups": [{
                "method": "查", "rule": "一个问题点扣0.125分",
                "criteria": [{"code": "A1", "text": "一"}, {"code": "A2", "text": "二"}],
            }]}],
        }
    )  # fmt: skip
    card = score(eighths, {"A1": Answer(FAIL, 1), "A2": Answer(FAIL, 2)})
    assert card.sections[0].score == D("9.625")
    assert card.total == D("9.63")  # 9.625 rounded half up
    assert card.percent == D("96.25")  # 9.625 / 10; from the rounded total it would be 96.30
