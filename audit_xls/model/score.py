"""The scorer: the single source of truth for every score audit-xls reports.

Pure functions over a Standard and validated answers, in exact decimal arithmetic.
The workbook's live formulas (layout.py) are a second rendering of these rules and are
proven equal to them by recalculating in LibreOffice (tests/test_formulas_soffice.py).

Rules (docs/scoring.md):
- criterion deduction = problem points x unit (per_point, per_person_point, per_place),
  or unit once (per_item), capped by the rule's cap; 不符合 with no count counts 1;
- a group with points of its own deducts at most those points;
- a section scores max(0, points - deductions) (扣完为止), 0 when a section veto fails;
- every section scores 0 when an inspection veto fails;
- a section whose criteria are all 不适用 is left out of the total and the maximum;
- percent = total / applicable maximum x 100, rounded half up to 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from audit_xls.model.codes import Result
from audit_xls.model.standard import Rule, Section, Standard

PASS, FAIL, NA = Result.PASS, Result.FAIL, Result.NA
CENT = Decimal("0.01")
ZERO = Decimal(0)


# Answer and CriterionScore are values nobody changes, yet not frozen: one of each is made
# per criterion per return, and a frozen dataclass's __init__ costs three times a plain one's.
@dataclass(slots=True)
class Answer:
    """One criterion as the supervisor answered it, after validation."""

    result: Result | None  # PASS / FAIL / NA, None when unanswered
    problem_points: int | None = None
    note: str = ""


@dataclass(slots=True)
class CriterionScore:
    code: str
    result: Result | None
    problem_points: int
    deduction: Decimal


@dataclass(frozen=True, slots=True)
class SectionScore:
    code: str
    name: str
    points: Decimal
    deducted: Decimal
    score: Decimal
    applicable: bool
    vetoed: bool
    # each group's deduction, capped at the group's points, in the standard's order: what the
    # workbook's group rows show (the grader compares them with the cached values)
    group_deducted: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreCard:
    total: Decimal
    max_score: Decimal
    percent: Decimal | None  # None when no section applied
    grade: str | None
    sections: tuple[SectionScore, ...]
    criteria: tuple[CriterionScore, ...]
    inspection_vetoed: bool
    unanswered: tuple[str, ...]


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def section_rate(score: Decimal, points: Decimal) -> Decimal | None:
    """A section's 得分率 (0-100), exact: rounded half up to 2 decimals only where it is shown,
    so an average of sections (monthly's 分项月度) is of the exact rates, rounded once."""
    return score / points * 100 if points else None


def counted_points(answer: Answer) -> int:
    """Problem points that count: a 不符合 with no count counts as one."""
    if answer.result != FAIL:
        return 0
    return 1 if answer.problem_points is None else answer.problem_points


def criterion_deduction(rule: Rule, answer: Answer) -> Decimal:
    if answer.result != FAIL or rule.is_veto:
        return ZERO
    assert rule.unit is not None
    deduction = rule.unit if rule.kind == "per_item" else rule.unit * counted_points(answer)
    if rule.cap is not None:
        deduction = min(deduction, rule.cap)
    return deduction


_BLANK = Answer(None)


def score_section(
    section: Section,
    answers: Mapping[str, Answer],
    inspection_vetoed: bool,
    extra: Decimal = ZERO,
) -> tuple[SectionScore, list[CriterionScore]]:
    """`extra`: the optional 复查 rule's deduction for problems found not fixed (score())."""
    criterion_scores: list[CriterionScore] = []
    add = criterion_scores.append
    deducted = ZERO
    groups: list[Decimal] = []
    applicable = False  # any criterion not 不适用 (unanswered counts as applicable)
    section_veto = False  # a failed veto of this section's scope
    get = answers.get
    for group in section.groups:
        group_deducted = ZERO
        for criterion in group.criteria:
            answer = get(criterion.code, _BLANK)
            result = answer.result
            if result != NA:
                applicable = True
            if result == FAIL:
                rule = criterion.rule
                if rule.kind == "veto" and rule.scope == "section":
                    section_veto = True
                deduction = criterion_deduction(rule, answer)
                group_deducted += deduction
                points = 1 if answer.problem_points is None else answer.problem_points
            else:
                deduction, points = ZERO, 0
            add(CriterionScore(criterion.code, result, points, deduction))
        if group.points is not None:
            group_deducted = min(group_deducted, group.points)
        groups.append(group_deducted)
        deducted += group_deducted
    # a section without criteria is not applicable (any() of nothing), as before
    vetoed = applicable and (inspection_vetoed or section_veto)
    deducted = section.points if vetoed else min(deducted + extra, section.points)
    score = section.points - deducted if applicable else ZERO
    return (
        SectionScore(
            section.code,
            section.name,
            section.points,
            deducted,
            score,
            applicable,
            vetoed,
            tuple(groups),
        ),
        criterion_scores,
    )


def score(
    standard: Standard, answers: Mapping[str, Answer], not_fixed: Mapping[str, int] | None = None
) -> ScoreCard:
    """Score one inspection. Unanswered criteria deduct nothing and are listed.

    `not_fixed`: section code -> problems found not fixed at 复查 (rectify/recheck.py); each
    adds the standard's `rectification.recheck_deduction` to its section, capped by the
    section (nothing when the standard has no such rule)."""
    inspection_vetoed = any(
        answers.get(code, _BLANK).result == FAIL for code in standard.inspection_vetoes
    )
    sections: list[SectionScore] = []
    criteria: list[CriterionScore] = []
    unit = standard.rectification.recheck_deduction if standard.rectification else None
    for section in standard.sections:
        count = (not_fixed or {}).get(section.code, 0)
        extra = unit * count if unit is not None else ZERO
        section_score, criterion_scores = score_section(section, answers, inspection_vetoed, extra)
        sections.append(section_score)
        criteria.extend(criterion_scores)
    earned = sum((s.score for s in sections if s.applicable), ZERO)
    max_score = sum((s.points for s in sections if s.applicable), ZERO)
    # from the exact sum, not the rounded total: rounding twice can move the last digit
    percent = round2(earned / max_score * 100) if max_score else None
    total = round2(earned)
    return ScoreCard(
        total=total,
        max_score=max_score,
        percent=percent,
        grade=standard.grade_for(percent) if percent is not None else None,
        sections=tuple(sections),
        criteria=tuple(criteria),
        inspection_vetoed=inspection_vetoed,
        unanswered=tuple(
            c.code
            for c in standard.criteria
            if c.code not in answers or answers[c.code].result is None
        ),
    )
