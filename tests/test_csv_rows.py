"""exports.CsvLines (each workbook's RESULTS.csv rows, made as results arrive) against the
plain row-by-row making it replaced: the same text, byte for byte, over every shape a row
takes, and its UTF-8 form (CsvLines.utf8) the text encoded."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from test_report import HYPERLINK, MINI, answers, graded, mini_batch

from audit_xls.model.results import GRADED, SENT_BACK, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS, Answer, CriterionScore, score
from audit_xls.outputs import exports
from audit_xls.outputs.exports import CsvLines, csv_field
from audit_xls.outputs.shared import csv_text


def plain_rows(w: WorkbookResult) -> str:
    """CsvLines.of as it was: each row's every field put in CSV form, row by row."""
    graded_card = w.status == GRADED and w.card is not None
    card = w.card if graded_card else None
    standard = w.standard
    head = ",".join(
        [
            csv_field(csv_text(w.file)), csv_field(csv_text(w.workbook_id)),
            csv_field(csv_text(w.period_text)), csv_field(csv_text(w.region)),
            csv_field(csv_text(w.site_code)), csv_field(csv_text(w.site_name)),
            csv_field(w.outcome),
            csv_field(csv_text(standard.id)) if standard else "",
            csv_field(csv_text(standard.version)) if standard else "",
        ]
    )  # fmt: skip
    tail = ",".join(
        [
            exports._num(card.total) if card else "",
            exports._num(card.percent) if card else "",
            csv_field(card.grade or "") if card else "",
            csv_field(csv_text(w.duplicate_of)),
        ]
    )
    if standard is None:
        return f"{head},,,,,,,{tail}\r\n"
    scored = {cs.code: cs for cs in card.criteria} if card else {}
    lines = []
    for section in standard.sections:
        for criterion in section.criteria:
            pair = f"{csv_field(section.code)},{csv_field(criterion.code)}"
            answer = w.answers.get(criterion.code, Answer(None))
            cs = scored.get(criterion.code)
            if cs is not None:
                points = str(cs.problem_points) if cs.result == FAIL else ""
                deduction = exports._num(cs.deduction)
            else:
                points = "" if answer.problem_points is None else str(answer.problem_points)
                deduction = ""
            result, note = answer.result, answer.note
            lines.append(
                f"{head},{pair},{csv_field(result) if result else ''},{points},"
                f"{deduction},{csv_field(csv_text(note)) if note else ''},{tail}\r\n"
            )
    return "".join(lines)


def with_deductions(w: WorkbookResult, *deductions: object) -> WorkbookResult:
    """`w` with its criteria's deductions replaced, in order (values no rule makes too)."""
    assert w.card is not None
    criteria = list(w.card.criteria)
    for i, deduction in enumerate(deductions):
        criteria[i] = dataclasses.replace(criteria[i], deduction=deduction)
    return dataclasses.replace(w, card=dataclasses.replace(w.card, criteria=tuple(criteria)))


def shapes() -> list[WorkbookResult]:
    odd = ['he said "no", twice', "a,b", "line\nbreak", "=1+1", "-2", "\tx", "ok", "华\r\n北"]
    out = list(mini_batch().workbooks)
    out.append(graded("q,\"1\".xlsx", "=S9", "+项目", "-华北",
                      answers(A_1_01=(FAIL, 2, odd[0]), A_1_02=(FAIL, None, odd[1]),
                              B_1_01=(NA, None, odd[3]), B_1_02=(PASS, None, odd[2])),
                      duplicate_of='older "one".xlsx'))  # fmt: skip
    same_note = answers(A_1_01=(FAIL, 1, HYPERLINK), A_1_02=(FAIL, 5, HYPERLINK),
                        B_1_01=(FAIL, 0, HYPERLINK), B_1_02=(NA, None, HYPERLINK))  # fmt: skip
    out.append(graded("same-note.xlsx", "S7", "七", "华东", same_note))
    # unanswered: absent, or present without a result; results as plain text, not Result
    partial = {"A.1.01": Answer("fail", 3, odd[4]), "B.1.01": Answer(None), "B.1.02": Answer("na")}
    out.append(graded("partial.xlsx", "S8", "八", "华东", partial))
    # sent back with a score card (an error after scoring) and typed points
    typed = answers(A_1_01=(FAIL, 7, odd[5]), B_1_02=(FAIL, None, odd[7]))
    out.append(dataclasses.replace(graded("back.xlsx", "S9", "九", "华东", typed),
                                   status=SENT_BACK))  # fmt: skip
    out.append(WorkbookResult("t,x.xlsx", "2" * 64, status=SENT_BACK, standard=MINI,
                              answers={"A.1.01": Answer(FAIL, 7, 'x"y'),
                                       "B.1.01": Answer("odd", None, "")}))  # fmt: skip
    out.append(WorkbookResult("unknown.xlsx", "", workbook_id="=id", duplicate_of="a\nb"))
    # a result no reader makes: an unknown result's text quoted, odd deductions formatted
    strange = graded("strange.xlsx", "S10", "十", "华东",
                     answers(A_1_01=("a,b", 2, ""), B_1_01=(FAIL, 4, "")))  # fmt: skip
    out.append(with_deductions(strange, Decimal("-0"), Decimal("0E-5"), Decimal("0.125"),
                               Decimal("-0.001")))  # fmt: skip
    weird = graded("weird.xlsx", "S11", "十一", "华东", answers(A_1_02=(FAIL, 1, "")))
    out.append(with_deductions(weird, Decimal("NaN"), Decimal("sNaN"), 1, 0.5))
    again = graded("again.xlsx", "S12", "十二", "华东", answers(A_1_01=(FAIL, 1, "")))
    out.append(with_deductions(again, Decimal("0"), Decimal("-0"), Decimal("1.005")))
    scored = graded("criteria.xlsx", "S13", "十三", "华东", answers(A_1_02=(FAIL, 2, "")))
    assert scored.card is not None  # a criterion scored that nothing answered
    extra = CriterionScore("A.1.01", NA, 0, Decimal("0.00"))
    out.append(dataclasses.replace(scored, answers={}, card=dataclasses.replace(
        scored.card, criteria=(extra, *scored.card.criteria[1:]))))  # fmt: skip
    return out


def test_rows_are_the_plain_rows_byte_for_byte():
    workbooks = shapes()
    lines = CsvLines()  # one for all, as grade uses it: what it remembers does not leak
    for _ in range(2):
        for w in workbooks:
            expected = plain_rows(w)
            assert lines.of(w) == expected, w.file
            assert lines.utf8(w) == expected.encode("utf-8"), w.file
            assert CsvLines().utf8(w) == expected.encode("utf-8"), w.file


def test_deductions_remembered_are_bounded(monkeypatch):
    monkeypatch.setattr(exports, "_DEDUCTIONS_KEPT", 3)
    lines = CsvLines()
    for points in range(1, 12):
        w = graded("n.xlsx", "S1", "一", "华东", answers(A_1_01=(FAIL, points, "")))
        w = with_deductions(w, Decimal(points) / 8)
        assert lines.of(w) == plain_rows(w)
        assert len(lines._deductions) <= 3
    assert score(MINI, answers()).criteria  # the standard scores as the rows assume
