"""The machine-readable outputs of `grade`: the long results CSV (RESULTS.csv) and the --json
document. Their keys are English and stable (docs/outputs.md).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from audit_xls.atomic import atomic_open
from audit_xls.model.codes import Result
from audit_xls.model.results import GRADED, BatchResult, WorkbookResult
from audit_xls.model.score import FAIL, Answer, round2
from audit_xls.outputs.shared import csv_text, report_labels, write_error

# --- results CSV ------------------------------------------------------------------------

CSV_COLUMNS = (
    "file",
    "workbook_id",
    "period",
    "region",
    "site_code",
    "site",
    "status",
    "standard_id",
    "standard_version",
    "section_code",
    "criterion_code",
    "result",
    "problem_points",
    "deduction",
    "note",
    "workbook_score",
    "workbook_percent",
    "grade",
    "superseded_by",
)


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


_UNANSWERED = Answer(None)

# a criterion's result field: the three results as csv_field writes them (a Result and its
# text alike; None, unanswered, empty); any other value is quoted as it comes
_RESULT_FIELD: dict[str | None, str] = {None: "", **{str(r): str(r) for r in Result}}

_DEDUCTIONS_KEPT = 4096  # the deduction texts a CsvLines remembers (_deduction_field)


def csv_field(text: str) -> str:
    """One field as csv.writer writes it (the excel dialect, QUOTE_MINIMAL): in quotes, any
    quote doubled, when it holds the delimiter, a quote or a line break; else as it is."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


class CsvLines:
    """RESULTS.csv's text one workbook at a time: one row per criterion (one row for a
    workbook with no known standard), quoted as csv.writer quotes (csv_field). grade makes it
    while the readers still read (grading/run.py); write_csv makes what was not made then. The
    fields every row of a workbook repeats, and each standard's code pair, are put in CSV form
    once, not once per row."""

    def __init__(self) -> None:
        # by id() of each standard met (the batch holds it): its "section,criterion" fields
        self._codes: dict[int, list[tuple[str, str]]] = {}
        self._deductions: dict[tuple[Decimal, bool], str] = {}

    def of(self, w: WorkbookResult) -> str:
        start, middles, end = self._rows(w)
        return f"{start}{(end + start).join(middles)}{end}"

    def utf8(self, w: WorkbookResult) -> bytes:
        """of(w) encoded as UTF-8: the fields every row repeats encoded once, not per row."""
        start, middles, end = self._rows(w)
        start_utf8, end_utf8 = start.encode(), end.encode()
        return start_utf8 + (end_utf8 + start_utf8).join(map(str.encode, middles)) + end_utf8

    def _rows(self, w: WorkbookResult) -> tuple[str, list[str], str]:
        """The workbook's rows as `start`, then each of `middles` between `start` and `end`:
        the fields every row repeats (head, tail) apart from each row's own."""
        graded = w.status == GRADED and w.card is not None
        card = w.card if graded else None
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
                _num(card.total) if card else "",
                _num(card.percent) if card else "",
                csv_field(card.grade or "") if card else "",
                csv_field(csv_text(w.duplicate_of)),
            ]
        )
        start, end = f"{head},", f",{tail}\r\n"
        if standard is None:
            return start, [",,,,,"], end  # the six criterion fields empty
        codes = self._codes.get(id(standard))
        if codes is None:
            codes = self._codes[id(standard)] = [
                (criterion.code, f"{csv_field(section.code)},{csv_field(criterion.code)}")
                for section in standard.sections
                for criterion in section.criteria
            ]
        scored = {cs.code: cs for cs in card.criteria} if card else {}
        get_answer, get_score, results = w.answers.get, scored.get, _RESULT_FIELD
        deduction_field = self._deduction_field
        last, last_field = None, ""  # a deduction and its text (a result's zeros are one)
        notes: dict[str, str] = {}  # this workbook's notes as fields (one note often recurs)
        middles = []
        add = middles.append
        for code, pair in codes:
            answer = get_answer(code, _UNANSWERED)
            cs = get_score(code)
            if cs is not None:
                points = str(cs.problem_points) if cs.result == FAIL else ""
                deduction = cs.deduction
                if deduction is not last:
                    last, last_field = deduction, deduction_field(deduction)
                deduction = last_field
            else:
                # sent back: what was typed, no score
                points = "" if answer.problem_points is None else str(answer.problem_points)
                deduction = ""
            result = answer.result
            field = results.get(result)
            if field is None:
                field = csv_field(result) if result else ""
            note = answer.note
            if note:
                note = notes.get(note) or notes.setdefault(note, csv_field(csv_text(note)))
            add(f"{pair},{field},{points},{deduction},{note}")
        return start, middles, end

    def _deduction_field(self, value: Decimal) -> str:
        """_num(value), remembered by value: few values recur (the rules' units times a few
        points). The key holds the sign (-0 is not written 0); what is not a Decimal, or does
        not hash (a signalling NaN), is formatted each time. Emptied past _DEDUCTIONS_KEPT."""
        try:
            key = (value, value.is_signed())
            text = self._deductions.get(key)
        except (AttributeError, TypeError):
            return _num(value)
        if text is None:
            if len(self._deductions) >= _DEDUCTIONS_KEPT:
                self._deductions.clear()
            text = self._deductions[key] = _num(value)
        return text


def write_csv(
    batch: BatchResult,
    path: str | Path,
    *,
    lang: str = "zh",
    made: Mapping[int, str] | None = None,
) -> None:
    """Write the long results table as UTF-8 with BOM (Excel reads it), atomically.

    `made` holds workbooks' text made earlier by CsvLines.of (by id() of the workbook), for
    those whose rows have not changed since; the others are made here."""
    report_labels(lang)  # an unknown language is refused before anything is written
    made = made or {}
    try:
        with atomic_open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerow(CSV_COLUMNS)
            lines = CsvLines()
            for w in batch.workbooks:  # one workbook's text at a time: memory stays flat
                text = made.get(id(w))
                handle.write(lines.of(w) if text is None else text)
    except OSError as error:
        raise write_error(path, error, lang) from error


# --- the --json document ----------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(round2(value))


def workbook_to_json(result: WorkbookResult) -> dict[str, Any]:
    card = result.card if result.status == GRADED else None
    standard = result.standard
    return {
        "file": result.file,
        "workbook_id": result.workbook_id,
        "site_code": result.site_code,
        "site": result.site_name,
        "region": result.region,
        "period": result.period_text,
        "standard": standard.label if standard else None,
        "status": result.status,
        "score": _number(card.total) if card else None,
        "max_score": _number(card.max_score) if card else None,
        "percent": _number(card.percent) if card else None,
        "grade": card.grade if card else None,
        "sections": [
            {
                "code": s.code,
                "name": s.name,
                "points": _number(s.points),
                "deducted": _number(s.deducted),
                "score": _number(s.score),
                "applicable": s.applicable,
            }
            for s in (card.sections if card else ())
        ],
        "diagnostics": [d.to_json() for d in result.diagnostics],
        "file_hash": result.file_hash,
        "inspector": result.inspector,
        "inspection_date": result.inspection_date.isoformat() if result.inspection_date else None,
        "duplicate_of": result.duplicate_of or None,
        "photos": _photos_json(result),
    }


def _photos_json(result: WorkbookResult) -> dict[str, list[dict[str, Any]]]:
    """Kept photos per criterion code: hash, where it was in the workbook, where it was put."""
    by_criterion: dict[str, list[dict[str, Any]]] = {}
    for p in result.photos:
        by_criterion.setdefault(p.criterion, []).append(
            {"sha256": p.sha256, "type": p.ext, "cell": p.cell, "stored_as": p.how,
             "width": p.width, "height": p.height, "path": p.path or None}
        )  # fmt: skip
    return by_criterion


def batch_to_json(batch: BatchResult) -> dict[str, Any]:
    """The --json document: workbooks, skipped and missing, numbers rounded to 2 decimals."""
    return {
        "workbooks": [workbook_to_json(w) for w in batch.workbooks],
        "skipped": [{"file": s.file, "reason": s.reason} for s in batch.skipped],
        "missing": [
            {
                "site_code": m.site_code,
                "site": m.site_name,
                "period": str(m.period),
                "region": m.region,
                "workbook_id": m.workbook_id,
            }
            for m in batch.missing
        ],
    }


class _Fixed2:
    """A float to print with exactly 2 decimals (json prints 34.0 for 34.00)."""

    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value


def _mark_floats(node: Any) -> Any:
    if isinstance(node, float):
        return _Fixed2(node)
    if isinstance(node, dict):
        return {key: _mark_floats(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_mark_floats(value) for value in node]
    return node


_FIXED = re.compile(r'"\\u0000(-?[0-9]+\.[0-9]{2})\\u0000"')


def json_text(document: dict[str, Any]) -> str:
    """The --json text: every number in the document printed with 2 decimals (87.50, 34.00)."""
    text = json.dumps(
        _mark_floats(document),
        ensure_ascii=False,
        indent=2,
        default=lambda fixed: f"\0{fixed.value:.2f}\0",
    )
    return _FIXED.sub(r"\1", text)
