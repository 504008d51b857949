"""The optional 复查 rule (未整改的问题每项加扣X分，计入其一级指标，扣完为止): the live section
formulas agree with the scorer, recalculated by LibreOffice, and grade scores it the same.

The feature standard of test_formulas_soffice.py with `rectification: {recheck_deduction:
0.5}`; each filling gets 0-8 复查 rows on random criteria (any section), random 复查结果
(已整改 / 未整改), and random answers; every 得分汇总 value and 扣分 is compared with
score(standard, answers, not_fixed).
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from test_formulas_soffice import FEATURES, PERIOD, Case, _check, _fill, _random_answers

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.sites import Site
from audit_xls.model.period import Period
from audit_xls.model.score import score
from audit_xls.rectify.recheck import FIXED, NOT_FIXED, RecheckItem, first_row
from audit_xls.soffice import convert
from audit_xls.standards.loader import standard_from_mapping
from audit_xls.workbook.build import build_workbook
from audit_xls.workbook.layout import COVER_ROW, Col, Layout
from audit_xls.workbook.template import load_template

SEED = 20261203
FILLINGS = 30
RULE = {"days": 7, "recheck_deduction": 0.5}


def test_the_rule_is_off_unless_the_standard_says_so_and_counts_in_the_hash() -> None:
    plain = standard_from_mapping(FEATURES)
    ruled = standard_from_mapping(FEATURES | {"rectification": RULE})
    days_only = standard_from_mapping(FEATURES | {"rectification": {"days": 10}})
    assert ruled.rectification.recheck_deduction == Decimal("0.5")
    assert plain.content_hash == days_only.content_hash != ruled.content_hash
    answers = {c.code: _pass() for c in plain.criteria}
    assert score(plain, answers, {"1": 3}).total == score(plain, answers).total
    assert score(ruled, answers, {"1": 3}).total == score(ruled, answers).total - Decimal("1.5")
    # capped by the section: 10 points, 30 not fixed are worth 15
    assert score(ruled, answers, {"1": 30}).sections[0].score == 0


def _complete_answers(standard, rng: random.Random) -> dict:
    from audit_xls.model.score import FAIL, PASS, Answer

    return {
        c.code: Answer(FAIL, rng.choice([1, 2, 3])) if rng.random() < 0.3 and not c.rule.is_veto
        else Answer(PASS)
        for c in standard.criteria
    }  # fmt: skip


def _pass():
    from audit_xls.model.score import PASS, Answer

    return Answer(PASS)


@pytest.mark.soffice
def test_live_formulas_with_the_recheck_rule_agree_with_the_scorer(tmp_path: Path) -> None:
    standard = standard_from_mapping(FEATURES | {"rectification": RULE})
    layout = Layout(standard, load_template("zh"))
    verdict_labels = layout.template["recheck"]["verdicts"]
    sections = {c.code: s.code for s in standard.sections for c in s.criteria}
    rng = random.Random(SEED)
    site = Site("P001", "滨江花园", "华东")
    cases, cards = [], []
    grade_dir = tmp_path / "returns"
    grade_dir.mkdir()
    for i in range(FILLINGS):
        codes = [rng.choice(list(sections)) for _ in range(rng.choice([0, 1, 2, 3, 5, 8]))]
        items = tuple(
            RecheckItem(f"x:{code}:{n}", code, Period(2026, 10), "2026-10-19", "文本", "问题",
                        "已整改待复查", "")
            for n, code in enumerate(codes)
        )  # fmt: skip
        verdicts = [rng.choice([FIXED, NOT_FIXED, NOT_FIXED]) for _ in items]
        built = build_workbook(standard, site, PERIOD, issued_on=date(2026, 11, 1), recheck=items)
        # every third filling answers everything plainly, so that grade scores it too
        answers = _complete_answers(standard, rng) if i % 3 == 0 else _random_answers(standard, rng)
        path = tmp_path / "in" / f"recheck-{i:02d}.xlsx"
        path.parent.mkdir(exist_ok=True)
        _fill(built, layout, answers, path)
        book = openpyxl.load_workbook(path)
        cover = book[layout.cover_sheet]
        cover.cell(COVER_ROW["inspection_date"] + 1, 2, date(2026, 11, 12))
        cover.cell(COVER_ROW["inspector"] + 1, 2, "张督导")
        sheet = book[layout.checklist_sheet]
        start = first_row(layout.last_item_row) + 2
        for n, verdict in enumerate(verdicts):
            sheet.cell(start + n + 1, Col.RESULT + 1, verdict_labels[verdict])
        book.save(path)
        not_fixed: dict[str, int] = {}
        for item, verdict in zip(items, verdicts, strict=True):
            if verdict == NOT_FIXED:
                not_fixed[sections[item.code]] = not_fixed.get(sections[item.code], 0) + 1
        cases.append(Case(path.stem, standard, answers, path))
        cards.append(score(standard, answers, not_fixed))
    outputs = convert([c.path for c in cases], "xlsx", tmp_path / "out")
    problems = [
        p
        for case, out, card in zip(cases, outputs, cards, strict=True)
        for p in _check(case, out, card)
    ]
    assert problems == []
    # the rule did bite, and capped a section at least once
    plain = [score(standard, c.answers) for c in cases]
    assert sum(a.total != b.total for a, b in zip(cards, plain, strict=True)) >= FILLINGS // 3
    # grade scores the LibreOffice-saved returns the same (fully answered ones are graded)
    for out in outputs:
        (grade_dir / out.name).write_bytes(out.read_bytes())
    batch = grade_returns(grade_dir, [standard], None)
    by_name = {Path(w.file).stem: w for w in batch.workbooks}
    graded = 0
    for case, card in zip(cases, cards, strict=True):
        w = by_name[case.path.stem]
        if w.card is not None and not w.errors:
            graded += 1
            assert (w.card.total, w.card.percent) == (card.total, card.percent), case.name
    assert graded >= FILLINGS // 3
