"""Judge one returned workbook: manifest, standard, register, locked content, cover and answers.

Input is what read.py extracted; output is diagnostics pointing at sheet and cell, the
validated answers and the scorer's card. Nothing is fixed silently: a 不符合 with no count
is the only answer taken with an assumption (1 problem point), and it is a warning.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from audit_xls.i18n import Clauses, Ref
from audit_xls.model.diagnostics import ERROR, Diagnostic, make
from audit_xls.model.period import cleaned_month, is_period, parse_period
from audit_xls.model.score import FAIL, NA, PASS, Answer, ScoreCard, score
from audit_xls.model.standard import Standard
from audit_xls.rectify.policy import NOTICE_TEMPLATE_PREFIX
from audit_xls.workbook import layout
from audit_xls.workbook.layout import MAX_PROBLEM_POINTS, Col, Layout, cell
from audit_xls.workbook.read import RawWorkbook, ReadFailure, as_date
from audit_xls.workbook.template import Template

MAX_EXAMPLES = 5  # changed cells named in one message
MAX_LISTED = 20  # unanswered criteria named in one message
EXAMPLE_CHARS = 16  # locked texts quoted in a message are cut to this many characters
DEDUCTION_TOLERANCE = Decimal("0.005")  # a spreadsheet's binary floats: 0.3*3 = 0.8999...
MAX_CACHED_NUMBER = 1e15  # a cached deduction past this is not a deduction (checked first)
MAX_POINTS_DIGITS = 12  # 问题点数 typed with more digits is refused before int() reads it

_WHOLE = re.compile(r"^\d+(?:\.0*)?$")
_RESULT, _POINTS, _NOTE, _DEDUCTION = (
    int(Col.RESULT),
    int(Col.POINTS),
    int(Col.NOTE),
    int(Col.DEDUCTION),
)
_SPACES = re.compile(r"\s+")


@dataclass
class Validated:
    """A returned workbook after checking: diagnostics, answers and (when scorable) the card."""

    diagnostics: list[Diagnostic]
    standard: Standard | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    inspector: str = ""
    inspection_date: date | None = None
    card: ScoreCard | None = None
    rechecks: list[Any] = field(default_factory=list)  # rectify.recheck.Verdict per 复查 row
    manifest_intact: bool = False  # its checksum matches its content (worked out once)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self.diagnostics)


class _LockedRow:
    """One row's locked cells: (column, text) in order, and the span of columns they fill
    when they fill one without a gap (then a slice of the row is compared at once)."""

    __slots__ = ("cells", "expected", "first", "past", "row")

    def __init__(self, row: int, cells: list[tuple[int, str]]):
        self.row = row
        self.cells = cells
        columns = [c for c, _ in cells]
        contiguous = columns == list(range(columns[0], columns[0] + len(columns)))
        # past == 0: not one span (each cell compared)
        self.first, self.past = (columns[0], columns[-1] + 1) if contiguous else (0, 0)
        self.expected = [text for _, text in cells]


class Checker:
    """Validates returned workbooks against the standards on disk and the issued register.

    Built once per batch; `check` is safe to call from several threads at once.
    """

    def __init__(
        self,
        standards: Iterable[Standard],
        issued: Sequence[Any] | None = None,
        *,
        lang: str = "zh",
        standards_folder: str = "",
        photo_spool: str = "",
    ):
        self.standards = list(standards)
        self.by_hash: dict[str, list[Standard]] = {}
        for standard in self.standards:
            self.by_hash.setdefault(standard.content_hash, []).append(standard)
        self.issued = {entry.workbook_id: entry for entry in issued} if issued is not None else None
        self.issued_periods = sorted({str(e.period) for e in issued}) if issued else []
        self.lang = lang
        self.standards_folder = standards_folder
        self.photo_spool = photo_spool  # where readers leave kept pictures (outputs/photos.py)
        self._layouts: dict[tuple[str, str, str], Layout] = {}
        self._lock = threading.Lock()
        self._locked_rows: dict[int, list[_LockedRow]] = {}
        self._choices: dict[str, Choices[Any]] = {}

    # --- helpers -----------------------------------------------------------------------

    def layout(
        self, standard: Standard, template: Template, rule_lang: str | None = None
    ) -> Layout:
        """The cell plan of a standard, worked out once per batch (locked cells, fingerprint);
        `rule_lang` the language of its 扣分标准 cells when not the template's."""
        key = (standard.content_hash, template.name, rule_lang or template.name)
        found = self._layouts.get(key)
        if found is None:
            with self._lock:
                found = self._layouts.get(key)
                if found is None:
                    found = Layout(standard, template, rule_lang)
                    # computed once, outside threads
                    _ = found.locked_cells, found.fingerprint, found.fingerprint_before_photos
                    _ = found.manifest_rows, found.deduction_rows
                    self._layouts[key] = found
        return found

    def locked_rows(self, plan: Layout) -> list[_LockedRow]:
        """The layout's locked cells grouped by row, in reading order (worked out once)."""
        key = id(plan)
        found = self._locked_rows.get(key)
        if found is None:
            rows: dict[int, list[tuple[int, str]]] = {}
            for (r, c), expected in sorted(plan.locked_cells.items()):
                rows.setdefault(r, []).append((c, expected))
            found = self._locked_rows[key] = [
                _LockedRow(r, cells) for r, cells in sorted(rows.items())
            ]
        return found

    def choices(self, template: Template) -> Choices[Any]:
        """The 检查结果 dropdown of a template (worked out once)."""
        found = self._choices.get(template.name)
        if found is None:
            labels = template.results
            found = Choices({label: code for code, label in labels.items()})
            self._choices[template.name] = found
        return found

    def find_standard(self, values: dict[str, str]) -> Standard | None:
        candidates = self.by_hash.get(values.get("standard_hash", ""), [])
        for standard in candidates:
            if (standard.id, standard.version) == (
                values.get("standard_id"),
                values.get("standard_version"),
            ):
                return standard
        return candidates[0] if candidates else None

    def failure(self, failure: ReadFailure, file: str) -> Diagnostic:
        """The diagnostic of a file read.py could not read as one of ours."""
        return make(
            failure.code, self.lang, file=file, sheet=failure.sheet, cell=failure.cell,
            **failure.params,
        )  # fmt: skip

    # --- the checks --------------------------------------------------------------------

    def check(self, raw: RawWorkbook, file: str) -> Validated:
        out = _Run(self, raw, file)
        return out.run()


class _Run:
    """One workbook's checks, collecting diagnostics in reading order."""

    def __init__(self, checker: Checker, raw: RawWorkbook, file: str):
        self.checker = checker
        self.raw = raw
        self.file = file
        self.lang = checker.lang
        self.template = raw.template
        self.checklist = raw.template.sheets["checklist"]
        self.cover_sheet = raw.template.sheets["cover"]
        self.result = Validated([])

    def add(self, code: str, *, sheet: str = "", cell_name: str = "", **params: Any) -> None:
        self.result.diagnostics.append(
            make(code, self.lang, file=self.file, sheet=sheet, cell=cell_name, **params)
        )

    def run(self) -> Validated:
        manifest = self.raw.manifest
        values = manifest.values
        self.result.manifest_intact = manifest.checksum == manifest.expected_checksum
        if not self.result.manifest_intact:
            self.add("manifest.tampered", sheet=layout.MANIFEST_SHEET)
            return self.result
        if values.get("template", "").startswith(NOTICE_TEMPLATE_PREFIX):
            self.add("manifest.notice", sheet=layout.MANIFEST_SHEET)  # rectify collect reads it
            return self.result
        month = values.get("period", "")
        if not is_period(cleaned_month(month)):  # checksummed, not signed: forged by hand
            where = cell(layout.MANIFEST_KEYS.index("period"), 1)
            self.add("manifest.period", sheet=layout.MANIFEST_SHEET, cell_name=where, found=month)
            return self.result
        if self.raw.manifest_visibility == "visible":
            self.add("manifest.visible", sheet=layout.MANIFEST_SHEET)
        for name in (self.template.sheets["summary"], layout.LISTS_SHEET):
            if name not in self.raw.sheet_names:
                sheets = list(self.raw.sheet_names)
                self.add("sheet.missing_unscored", sheet=name, name=name, sheets=sheets)
        self.check_issued(values)
        standard = self.checker.find_standard(values)
        if standard is None:
            self.add(
                "standard.unknown",
                sheet=layout.MANIFEST_SHEET,
                standard_id=values.get("standard_id", ""),
                version=values.get("standard_version", ""),
                hash=values.get("standard_hash", "")[:12],
                folder=self.checker.standards_folder or "-",
            )
            return self.result
        self.result.standard = standard
        plan = self.checker.layout(standard, self.template)
        expected_rows = plan.manifest_rows
        same_layout = values.get("fingerprint") == plan.fingerprint
        if not same_layout and plan.rule_lang != "zh":
            # issued before Rule.phrase spoke the template's language: 扣分标准 in Chinese
            chinese_rules = self.checker.layout(standard, self.template, "zh")
            if values.get("fingerprint") in (
                chinese_rules.fingerprint,
                chinese_rules.fingerprint_before_photos,
            ):
                plan = chinese_rules
                same_layout = values.get("fingerprint") == plan.fingerprint
        # issued before the 照片 column: the same workbook without its header (photos hook)
        before_photos = not same_layout and values.get("fingerprint") == (
            plan.fingerprint_before_photos
        )
        if not (same_layout or before_photos) or manifest.criterion_rows != expected_rows:
            self.add(
                "manifest.layout",
                sheet=layout.MANIFEST_SHEET,
                standard=standard.label,
                tool_version=values.get("tool_version", "?"),
            )
            return self.result
        self.check_cover(values)
        rows_intact = self.check_rows(plan)
        if rows_intact:
            self.check_locked(plan, blank=layout.PHOTO_HEADER if before_photos else None)
        self.check_layout_extras(plan)
        if rows_intact:
            # 复查 rows below the checklist (build --history): rectify/recheck.py; read first,
            # since the standard's optional 复查 rule deducts for problems found not fixed.
            # Only a manifest with rows past the criteria can hold them (rare): the module,
            # and the ledger below it, are imported when met, not in every reader
            if getattr(self.raw.manifest, "extra", ()):
                from audit_xls.rectify.recheck import check_section

                self.result.rechecks = check_section(self, plan)
            self.check_answers(plan)
        return self.result

    # --- manifest vs register and cover ------------------------------------------------

    def check_issued(self, values: dict[str, str]) -> None:
        issued = self.checker.issued
        if issued is None:
            return
        entry = issued.get(values.get("workbook_id", ""))
        if entry is None:
            self.add(
                "issued.not_issued",
                sheet=layout.MANIFEST_SHEET,
                site_code=values.get("site_code", ""),
                period=values.get("period", ""),
                workbook_id=values.get("workbook_id", ""),
                periods=list(self.checker.issued_periods) or "-",
            )
            return
        labels = self.template["cover"]
        for key, label in (("site_code", labels["site_code"]), ("period", labels["period"])):
            expected = str(getattr(entry, key))  # the register's period: a Period
            if values.get(key, "") != expected:
                self.add(
                    "issued.mismatch",
                    sheet=layout.MANIFEST_SHEET,
                    field=label,
                    found=values.get(key, ""),
                    expected=expected,
                )

    def cover_cell(self, name: str) -> str:
        return cell(layout.COVER_ROW[name], layout.COVER_VALUE_COL)

    def check_cover(self, values: dict[str, str]) -> None:
        cover = self.raw.cover
        labels = self.template["cover"]
        for name in ("site_code", "site_name", "period"):
            found = text_of(cover.get(name, ""))
            if found != values.get(name, ""):
                self.add(
                    "cover.changed",
                    sheet=self.cover_sheet,
                    cell_name=self.cover_cell(name),
                    field=labels[name],
                    found=found,
                    expected=values.get(name, ""),
                )
        inspector = _SPACES.sub(" ", unicodedata.normalize("NFKC", text_of(cover["inspector"])))
        inspector = inspector.strip()
        if not inspector:
            self.add(
                "cover.inspector_missing",
                sheet=self.cover_sheet,
                cell_name=self.cover_cell("inspector"),
            )
        self.result.inspector = inspector
        start, end = _period_bounds(values.get("period", ""))
        typed = cover.get("inspection_date", "")
        where = {"sheet": self.cover_sheet, "cell_name": self.cover_cell("inspection_date")}
        when = as_date(typed)
        if when is None:
            if text_of(typed).strip() == "":
                self.add("cover.date_missing", **where, start=start or "", end=end or "")
            else:
                self.add("cover.date_invalid", **where, found=text_of(typed), start=start or "-")
            return
        self.result.inspection_date = when
        if start is not None and end is not None and not start <= when <= end:
            self.add(
                "cover.date_outside",
                **where,
                found=when.isoformat(),
                period=values.get("period", ""),
                start=start.isoformat(),
                end=end.isoformat(),
            )

    # --- locked content ----------------------------------------------------------------

    def check_rows(self, plan: Layout) -> bool:
        """Every section, group and criterion code where the manifest says; False if moved."""
        moved = []
        grid = self.raw.grid
        height = len(grid)
        for row in plan.rows:
            r = row.index
            found = grid[r][Col.CODE] if r < height and grid[r] else ""
            if found != row.code and (found := text_of(found)) != row.code:
                moved.append((r, row.code, found))
        if not moved:
            return True
        examples = Clauses(
            expected_found(cell(r, Col.CODE), code, found)
            for r, code, found in moved[:MAX_EXAMPLES]
        )
        first = moved[0][0]
        self.add(
            "locked.rows_changed",
            sheet=self.checklist,
            cell_name=cell(first, Col.CODE),
            examples=examples,
        )
        return False

    def check_locked(self, plan: Layout, blank: tuple[int, int] | None = None) -> None:
        """Every locked text as the layout says (the `blank` cell empty instead)."""
        grid = self.raw.grid
        height = len(grid)
        changed = []
        for locked in self.checker.locked_rows(plan):
            r = locked.row
            values = grid[r] if r < height else []
            # the common case, an unchanged row: one comparison of its slice
            if (
                locked.past
                and blank is None
                and values[locked.first : locked.past] == locked.expected
            ):
                continue
            for c, expected in locked.cells:
                if (r, c) == blank:
                    expected = ""
                found = values[c] if c < len(values) else ""
                if found != expected and (found := text_of(found)) != expected:
                    changed.append((r, c, expected, found))
        if not changed:
            return
        examples = Clauses(
            expected_found(cell(r, c), expected, found)
            for r, c, expected, found in changed[:MAX_EXAMPLES]
        )
        self.add(
            "locked.changed",
            sheet=self.checklist,
            cell_name=cell(changed[0][0], changed[0][1]),
            count=len(changed),
            examples=examples,
        )

    def check_layout_extras(self, plan: Layout) -> None:
        first, last = layout.FIRST_ITEM_ROW, plan.last_item_row
        inputs = {int(c) for c in layout.INPUT_COLS}
        for (r1, c1), (r2, c2) in self.raw.merged:
            if r2 < first or r1 > last or not any(c1 <= c <= c2 for c in inputs):
                continue
            self.add(
                "checklist.merged",
                sheet=self.checklist,
                cell_name=cell(r1, c1),
                range=f"{cell(r1, c1)}:{cell(r2, c2)}",
            )
        criterion_rows = set(plan.criterion_row.values())
        hidden = sorted(r for r in self.raw.hidden_rows if r in criterion_rows)
        if hidden:
            self.add(
                "checklist.hidden_rows",
                sheet=self.checklist,
                cell_name=cell(hidden[0], Col.CODE),
                rows=[str(r + 1) for r in hidden[:MAX_LISTED]],
            )

    # --- answers -----------------------------------------------------------------------

    def check_answers(self, plan: Layout) -> None:
        labels = self.template.results
        choices = self.checker.choices(self.template)
        label_list = [labels[c] for c in (PASS, FAIL, NA)]
        formulas = self.raw.input_formulas or set()
        if self.raw.input_formulas is None:  # the sheet's structure could not be scanned
            self.add("checklist.formulas_unchecked", sheet=self.checklist, kind=self.raw.kind)
        answers: dict[str, Answer] = {}
        inexact: set[int] = set()  # rows whose label the workbook formulas read differently
        unanswered: list[tuple[str, str]] = []
        invalid: set[str] = set()
        grid = self.raw.grid
        height = len(grid)
        exact = choices.exact
        for row in plan.criterion_rows:
            r = row.index
            values = grid[r] if r < height else ()
            if not formulas and len(values) > _NOTE:
                # the usual row, read as below reads it without its calls: a label as listed,
                # a text note, and no 问题点数 or (with 不符合) a whole number of them
                typed_result, typed_points, note = values[_RESULT], values[_POINTS], values[_NOTE]
                result = exact.get(typed_result) if type(typed_result) is str else None
                if result is not None and type(note) is str:
                    if result != FAIL and typed_points == "":
                        answers[row.code] = Answer(result, None, note)
                        continue
                    if (
                        result == FAIL
                        and type(typed_points) is float
                        and typed_points.is_integer()
                        and 0 < typed_points <= MAX_PROBLEM_POINTS
                    ):
                        answers[row.code] = Answer(FAIL, int(typed_points), note)
                        continue
            bad = False
            for col in layout.INPUT_COLS if formulas else ():
                if (r, int(col)) in formulas:
                    self.add("answer.formula", sheet=self.checklist, cell_name=cell(r, col))
                    bad = True
            width = len(values)
            typed_result = values[_RESULT] if width > _RESULT else ""
            result, how = choices.read(typed_result)
            if how == "loose":
                assert result is not None
                # Excel/LibreOffice formulas compare exactly: their 扣分 is not ours here
                inexact.add(r)
                self.add(
                    "answer.label_not_exact",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.RESULT),
                    found=clip(text_of(typed_result), 40),
                    label=labels[result],
                )
            elif how == "invalid":
                bad = True
                self.add(
                    "answer.invalid_result",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.RESULT),
                    found=clip(text_of(typed_result), 40),
                    labels=label_list,
                )
            typed_points = values[_POINTS] if width > _POINTS else ""
            points, points_ok = parse_points(typed_points)
            if not points_ok:
                bad = True
                self.add(
                    "answer.invalid_points",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.POINTS),
                    found=clip(text_of(typed_points), 40),
                )
            note = text_of(values[_NOTE] if width > _NOTE else "")
            if bad:
                invalid.add(row.code)
                continue
            if result is None:
                if points is not None:
                    self.add(
                        "answer.points_without_result",
                        sheet=self.checklist,
                        cell_name=cell(r, Col.POINTS),
                        points=points,
                    )
                    invalid.add(row.code)
                else:
                    unanswered.append((row.code, cell(r, Col.RESULT)))
                continue
            if result in (PASS, NA) and points:
                self.add(
                    "answer.contradictory",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.POINTS),
                    result=labels[result],
                    points=points,
                    fail=labels[FAIL],
                )
                invalid.add(row.code)
                continue
            if result == FAIL and points is None and row.criterion.rule.counts_points:
                self.add(
                    "answer.fail_without_points",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.POINTS),
                    fail=labels[FAIL],
                )
            elif result == FAIL and points == 0 and row.criterion.rule.counts_points:
                self.add(
                    "answer.fail_zero_points",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.POINTS),
                    fail=labels[FAIL],
                    pass_=labels[PASS],
                )
            answers[row.code] = Answer(result, points if result == FAIL else None, note)
        if unanswered:
            listed = [
                Ref.to("format.code_at", code=code, where=where)
                for code, where in unanswered[:MAX_LISTED]
            ]

            self.add(
                "answer.unanswered",
                sheet=self.checklist,
                cell_name=unanswered[0][1],
                count=len(unanswered),
                cells=listed,
                more=" …" if len(unanswered) > MAX_LISTED else "",
            )
        self.result.answers = answers
        standard = self.result.standard
        assert standard is not None
        not_fixed: dict[str, int] = {}  # what not_fixed_by_section gives for no verdicts
        if self.result.rechecks:
            from audit_xls.rectify.recheck import not_fixed_by_section

            not_fixed = not_fixed_by_section(standard, self.result.rechecks)
        card = score(standard, answers, not_fixed)
        self.result.card = card
        if not invalid:
            self.check_cached_deductions(plan, card, inexact)

    def check_cached_deductions(self, plan: Layout, card: ScoreCard, inexact: set[int]) -> None:
        """A cached 扣分 (saved by Excel/LibreOffice) must equal the scorer's deduction.

        Criterion, group and section rows are compared; rows holding (or summing) an answer
        whose label the formulas read differently from the scorer are left out.
        """
        grid = self.raw.grid
        height = len(grid)
        if not any(
            r < height
            and len(grid[r]) > _DEDUCTION
            and isinstance(grid[r][_DEDUCTION], (int, float))
            and not isinstance(grid[r][_DEDUCTION], bool)
            for r in plan.deduction_rows
        ):
            return  # no cached 扣分 (never recalculated, as issued): nothing to compare
        deductions = {c.code: c.deduction for c in card.criteria}
        answered = {c.code for c in card.criteria if c.result is not None}
        # an inspection veto the formulas did not see changes every section's sums
        everywhere = any(
            plan.criterion_row[c.code] in inexact
            for c in plan.standard.criteria
            if c.rule.is_veto and c.rule.scope == "inspection"
        )
        expected: dict[int, Decimal] = {}
        for section, section_score in zip(plan.standard.sections, card.sections, strict=True):
            rows = {plan.criterion_row[c.code] for c in section.criteria}
            if everywhere or rows & inexact:
                expected.update(
                    (plan.criterion_row[c.code], deductions[c.code])
                    for c in section.criteria
                    if c.code in answered and plan.criterion_row[c.code] not in inexact
                )
                continue
            if section_score.applicable:
                expected[plan.section_row[section.code]] = section_score.deducted
            for group, total in zip(section.groups, section_score.group_deducted, strict=True):
                if id(group) in plan.group_row:
                    expected[plan.group_row[id(group)]] = total
            expected.update(
                (plan.criterion_row[c.code], deductions[c.code])
                for c in section.criteria
                if c.code in answered
            )
        for r in sorted(expected):
            found = self.raw.value(r, Col.DEDUCTION)
            if isinstance(found, bool) or not isinstance(found, (int, float)):
                continue  # not recalculated yet (xlsxwriter writes ""), or a veto mark
            # NaN, an infinity or a number past any deduction: edited, and never subtracted
            if (
                not math.isfinite(found)
                or abs(found) > MAX_CACHED_NUMBER
                or abs(Decimal(repr(float(found))) - expected[r]) > DEDUCTION_TOLERANCE
            ):
                self.add(
                    "locked.formula_edited",
                    sheet=self.checklist,
                    cell_name=cell(r, Col.DEDUCTION),
                    found=format_number(found),
                    expected=layout.num(expected[r]),
                )


V = TypeVar("V")

# --- value helpers -------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """A cell value as the text a person sees: 2.0 -> '2', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def format_number(value: float | int) -> str:
    """A number as a person reads it; huge, infinite and NaN floats shown, never converted."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def normal(text: str) -> str:
    """NFKC, outer spaces stripped: how a typed label is compared."""
    return unicodedata.normalize("NFKC", text).strip()


class Choices(Generic[V]):
    """A dropdown's list (label -> value) and the one rule for reading a typed cell against
    it: the label as listed ("exact"); else the same label but for case, width or outer spaces
    ("loose": read, with a warning, since the workbook's own formulas compare exactly); else
    text that is none of them ("invalid"); or nothing typed ("empty")."""

    def __init__(self, labels: Mapping[str, V]) -> None:
        self.exact = dict(labels)
        self.loose = {normal(label).casefold(): value for label, value in labels.items()}

    def read(self, typed: Any) -> tuple[V | None, str]:
        value = self.exact.get(typed) if isinstance(typed, str) else None
        if value is not None:
            return value, "exact"
        text = normal(text_of(typed))
        if not text:
            return None, "empty"
        value = self.loose.get(text.casefold())
        return value, "invalid" if value is None else "loose"


def parse_points(value: Any) -> tuple[int | None, bool]:
    """问题点数 as typed -> (whole number or None when empty, accepted)."""
    if value is None or value == "":
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        # NaN and infinities are not whole; a huge int is compared, never converted
        finite = isinstance(value, int) or math.isfinite(value)
        if finite and 0 <= value <= MAX_PROBLEM_POINTS and float(value).is_integer():
            return int(value), True
        return None, False
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))
    if text == "":
        return None, True
    if len(text) <= MAX_POINTS_DIGITS and _WHOLE.match(text):
        number = int(text.split(".")[0])
        if number <= MAX_PROBLEM_POINTS:
            return number, True
    return None, False


def expected_found(where: str, expected: str, found: str) -> Ref:
    """One example of edited locked content: where, what it should read, what it reads."""
    return Ref.to("format.expected_found", where=where, expected=clip(expected), found=clip(found))


def clip(text: str, limit: int = EXAMPLE_CHARS) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _period_bounds(text: str) -> tuple[date | None, date | None]:
    """First and last day of the manifest's period; None, None when it names no period."""
    if not is_period(text):
        return None, None
    month = parse_period(text)
    return month.first_day, month.last_day
