"""Where everything sits in an inspection workbook: one description shared by build and read.

build.py writes cells where this module says; read.py and validate.py look for them in the
same places and compare the locked content with what this module says it should be.
Rows and columns are 0-based here (as in xlsxwriter); `cell()` gives the A1 name a person sees.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from functools import cached_property
from json.encoder import encode_basestring as _json_text  # what dumps uses for str

from audit_xls.model.standard import Criterion, Group, Section, Standard, dec_str
from audit_xls.workbook.template import Template

MANIFEST_SHEET = "_manifest"
LISTS_SHEET = "_lists"
RESULT_LIST_NAME = "ResultList"

# 基本信息 (cover): labels in column A, values in column B.
COVER_TITLE_ROW = 0
COVER_FIELDS = (
    "site_code",
    "site_name",
    "region",
    "city_company",
    "project_type",
    "period",
    "inspection_date",
    "inspector",
    "site_manager",
    "remarks",
)
COVER_INPUTS = ("inspection_date", "inspector", "site_manager", "remarks")
COVER_FIRST_ROW = 2
COVER_ROW = {name: COVER_FIRST_ROW + i for i, name in enumerate(COVER_FIELDS)}
COVER_LABEL_COL, COVER_VALUE_COL = 0, 1
COVER_INSTRUCTIONS_ROW = COVER_FIRST_ROW + len(COVER_FIELDS) + 1

# 检查表 (checklist)
CHECKLIST_TITLE_ROW = 0
HEADER_ROW = 1
FIRST_ITEM_ROW = 2


class Col(IntEnum):
    CODE = 0
    SECTION = 1
    GROUP = 2
    TEXT = 3
    METHOD = 4
    RULE = 5
    RESULT = 6
    POINTS = 7
    DEDUCTION = 8
    NOTE = 9
    PHOTO = 10


# The answers a supervisor types: read, judged, and scanned for typed formulas.
INPUT_COLS = (Col.RESULT, Col.POINTS, Col.NOTE)
# 问题点数 is a whole number 0..MAX_PROBLEM_POINTS: the workbook's validation, the grader and
# the instructions say the same (templates and messages write it out as 0-99).
MAX_PROBLEM_POINTS = 99
# Unlocked too, but holds pictures, not answers: its values are never read, and WPS's
# =DISPIMG(...) cell pictures are allowed here only (workbook/pictures.py reads them).
PHOTO_COL = Col.PHOTO
PHOTO_HEADER = (HEADER_ROW, int(Col.PHOTO))  # absent from workbooks issued before the column
LOCKED_TEXT_COLS = (Col.CODE, Col.SECTION, Col.GROUP, Col.TEXT, Col.METHOD, Col.RULE)
COLUMN_WIDTHS = {
    Col.CODE: 8,
    Col.SECTION: 10,
    Col.GROUP: 12,
    Col.TEXT: 38,
    Col.METHOD: 13,
    Col.RULE: 15,
    Col.RESULT: 9,
    Col.POINTS: 8,
    Col.DEDUCTION: 7,
    Col.NOTE: 22,
    Col.PHOTO: 12,  # about 90 pixels: a picture placed in the cell shows; prints at 69 %
}

# 得分汇总 (summary)
SUMMARY_HEADER_ROW = 1
SUMMARY_FIRST_ROW = 2


class SumCol(IntEnum):
    NAME = 0
    POINTS = 1
    DEDUCTED = 2
    SCORE = 3
    APPLIES = 4
    APPLICABLE_POINTS = 5


def recheck_first_row(last_item_row: int) -> int:
    """The 复查 section's heading row (rectify/recheck.py): one blank row under the checklist;
    its column headers follow, then one row per problem."""
    return last_item_row + 2


def cell(row: int, col: int) -> str:
    """A1-style name of a 0-based cell, as a person sees it in Excel: xlsxwriter's
    xl_rowcol_to_cell, step for step, without importing xlsxwriter into every reader process."""
    if row < 0 or col < 0:  # xlsxwriter's warning and ""
        from xlsxwriter.utility import xl_rowcol_to_cell

        return xl_rowcol_to_cell(row, col)
    number = col + 1
    letters = ""
    while number:
        remainder = number % 26 or 26
        letters = chr(64 + remainder) + letters
        number = int((number - 1) / 26)
    return f"{letters}{row + 1}"


def sheet_ref(sheet: str, row: int, col: int) -> str:
    return f"'{sheet}'!{cell(row, col)}"


def num(value: Decimal) -> str:
    return dec_str(value)


@dataclass(frozen=True)
class Row:
    """One checklist row: a section heading, a group heading, or a criterion."""

    index: int
    kind: str  # "section" | "group" | "criterion"
    section: Section
    group: Group | None = None
    criterion: Criterion | None = None
    code: str = ""


def has_group_row(section: Section, group: Group) -> bool:
    return group.name is not None or len(section.groups) > 1


class Layout:
    """The cell plan of one standard's inspection workbook in one template."""

    def __init__(self, standard: Standard, template: Template, rule_lang: str | None = None):
        self.standard = standard
        self.template = template
        # the 扣分标准 cells' language: the template's; "zh" is how workbooks of any template
        # said them before Rule.phrase spoke English (validate.py grades those as they are)
        self.rule_lang = rule_lang or template.name
        self.cover_sheet = template.sheets["cover"]
        self.checklist_sheet = template.sheets["checklist"]
        self.summary_sheet = template.sheets["summary"]
        rows: list[Row] = []
        index = FIRST_ITEM_ROW
        for section in standard.sections:
            rows.append(Row(index, "section", section, code=section.code))
            index += 1
            for g, group in enumerate(section.groups, 1):
                if has_group_row(section, group):
                    rows.append(Row(index, "group", section, group, code=f"{section.code}.{g}"))
                    index += 1
                for criterion in group.criteria:
                    rows.append(Row(index, "criterion", section, group, criterion, criterion.code))
                    index += 1
        self.rows: tuple[Row, ...] = tuple(rows)
        self.last_item_row = index - 1
        self.criterion_row = {r.code: r.index for r in rows if r.kind == "criterion"}
        self.section_row = {r.code: r.index for r in rows if r.kind == "section"}
        self.group_row = {id(r.group): r.index for r in rows if r.kind == "group"}

    # --- texts -------------------------------------------------------------------------

    def result_label(self, code: str) -> str:
        return self.template.results[code]

    def points_label(self, points: Decimal) -> str:
        return self.template["checklist"]["section_points"].format(points=num(points))

    @cached_property
    def criterion_rows(self) -> list[Row]:
        """The criterion rows, in order."""
        return [r for r in self.rows if r.kind == "criterion"]

    @cached_property
    def manifest_rows(self) -> tuple[tuple[int, str], ...]:
        """(0-based checklist row, criterion code) of each criterion: what the manifest lists
        and its checksum covers."""
        return tuple((r.index, r.code) for r in self.criterion_rows)

    @cached_property
    def deduction_rows(self) -> list[int]:
        """Every row whose 扣分 cell holds a formula (criteria, groups, sections), in order."""
        rows = {*self.criterion_row.values(), *self.section_row.values()}
        return sorted(rows.union(self.group_row.values()))

    @cached_property
    def locked_cells(self) -> dict[tuple[int, int], str]:
        """Every locked text of the checklist's header and item rows, as written and read."""
        cells: dict[tuple[int, int], str] = {}
        for col, label in enumerate(self.template.columns):
            cells[(HEADER_ROW, col)] = label
        for row in self.rows:
            values = [""] * len(LOCKED_TEXT_COLS)
            values[Col.CODE] = row.code
            if row.kind == "section":
                values[Col.SECTION] = row.section.name
                values[Col.TEXT] = self.points_label(row.section.points)
            elif row.kind == "group":
                assert row.group is not None
                values[Col.GROUP] = row.group.name or ""
                if row.group.points is not None:
                    values[Col.TEXT] = self.points_label(row.group.points)
            else:
                assert row.group is not None and row.criterion is not None
                values[Col.SECTION] = row.section.name
                values[Col.GROUP] = row.group.name or ""
                values[Col.TEXT] = row.criterion.text
                values[Col.METHOD] = row.group.method
                values[Col.RULE] = row.criterion.rule.phrase(self.rule_lang)
            for col, value in zip(LOCKED_TEXT_COLS, values, strict=True):
                cells[(row.index, col)] = value
        return cells

    # --- formulas (a second rendering of score.py; proven equal in LibreOffice) ---------

    def _range(self, col: int, first: int, last: int) -> str:
        return f"{cell(first, col)}:{cell(last, col)}"

    def criterion_formula(self, row: Row) -> str:
        assert row.criterion is not None
        rule = row.criterion.rule
        result, points = cell(row.index, Col.RESULT), cell(row.index, Col.POINTS)
        fail = f'{result}="{self.result_label("fail")}"'
        if rule.is_veto:
            mark = self.template["checklist"]["veto_mark"]
            return f'=IF({fail},"{mark}","")'
        assert rule.unit is not None
        if rule.kind == "per_item":
            deduction = num(rule.unit)
        else:
            deduction = f'IF({points}="",1,{points})*{num(rule.unit)}'
        if rule.cap is not None:
            deduction = f"MIN({num(rule.cap)},{deduction})"
        return f"=IF({fail},{deduction},0)"

    def _group_expression(self, section: Section, group: Group) -> str:
        indexes = [self.criterion_row[c.code] for c in group.criteria]
        total = f"SUM({self._range(Col.DEDUCTION, indexes[0], indexes[-1])})"
        if group.points is not None:
            total = f"MIN({num(group.points)},{total})"
        return total

    def group_formula(self, row: Row) -> str:
        assert row.group is not None
        return "=" + self._group_expression(row.section, row.group)

    def section_span(self, section: Section) -> tuple[int, int]:
        indexes = [self.criterion_row[c.code] for c in section.criteria]
        return indexes[0], indexes[-1]

    def _veto_condition(self, criteria: tuple[Criterion, ...], scope: str) -> list[str]:
        fail = self.result_label("fail")
        return [
            f'{cell(self.criterion_row[c.code], Col.RESULT)}="{fail}"'
            for c in criteria
            if c.rule.is_veto and c.rule.scope == scope
        ]

    def section_formula(self, row: Row) -> str:
        """The section's deduction: capped at its points, all of them when a veto fails."""
        section = row.section
        parts = [
            f"{cell(self.group_row[id(g)], Col.DEDUCTION)}"
            if id(g) in self.group_row
            else self._group_expression(section, g)
            for g in section.groups
        ]
        parts += self._recheck_extra(section)
        deducted = f"MIN({num(section.points)},{'+'.join(parts)})"
        vetoes = self._veto_condition(section.criteria, "section")
        vetoes += self._veto_condition(self.standard.criteria, "inspection")
        if vetoes:
            deducted = f"IF(OR({','.join(vetoes)}),{num(section.points)},{deducted})"
        return "=" + deducted

    def _recheck_extra(self, section: Section) -> list[str]:
        """The optional 复查 rule (rectify/policy.py): each 复查 row of this section's criteria
        answered 未整改 adds the rule's deduction; counted over the rows a workbook can hold."""
        rule = self.standard.rectification
        if rule is None or rule.recheck_deduction is None:
            return []
        from audit_xls.rectify.policy import MAX_RECHECK_ROWS

        first = recheck_first_row(self.last_item_row) + 2
        last = first + MAX_RECHECK_ROWS - 1
        codes = f"{cell(first, Col.CODE)}:{cell(last, Col.CODE)}"
        results = f"{cell(first, Col.RESULT)}:{cell(last, Col.RESULT)}"
        prefix = f"{section.code}."
        label = self.template["recheck"]["verdicts"]["not_fixed"]
        count = f'SUMPRODUCT((LEFT({codes},{len(prefix)})="{prefix}")*({results}="{label}"))'
        return [f"{count}*{num(rule.recheck_deduction)}"]

    def na_count(self, section: Section) -> str:
        first, last = self.section_span(section)
        rng = f"'{self.checklist_sheet}'!{self._range(Col.RESULT, first, last)}"
        return f'COUNTIF({rng},"{self.result_label("na")}")'

    @cached_property
    def summary_rows(self) -> dict[str, int]:
        return {s.code: SUMMARY_FIRST_ROW + i for i, s in enumerate(self.standard.sections)}

    @cached_property
    def summary_total_rows(self) -> dict[str, int]:
        first = SUMMARY_FIRST_ROW + len(self.standard.sections) + 1
        keys = ("total", "max_score", "percent", "grade", "unanswered")
        return {key: first + i for i, key in enumerate(keys)}

    def summary_formulas(self) -> dict[tuple[int, int], str]:
        """得分汇总: per-section and total formulas, keyed by cell."""
        yes, no = self.template["yes_label"], self.template["no_label"]
        formulas: dict[tuple[int, int], str] = {}
        for section in self.standard.sections:
            r = self.summary_rows[section.code]
            applies = cell(r, SumCol.APPLIES)
            section_cell = sheet_ref(
                self.checklist_sheet, self.section_row[section.code], Col.DEDUCTION
            )
            n = len(section.criteria)
            formulas[(r, SumCol.DEDUCTED)] = f'=IF({applies}="{yes}",{section_cell},0)'
            deducted = cell(r, SumCol.DEDUCTED)
            formulas[(r, SumCol.SCORE)] = (
                f'=IF({applies}="{yes}",ROUND({num(section.points)}-{deducted},2),0)'
            )
            formulas[(r, SumCol.APPLIES)] = f'=IF({self.na_count(section)}<{n},"{yes}","{no}")'
            formulas[(r, SumCol.APPLICABLE_POINTS)] = (
                f'=IF({applies}="{yes}",{num(section.points)},0)'
            )
        first = SUMMARY_FIRST_ROW
        last = SUMMARY_FIRST_ROW + len(self.standard.sections) - 1
        t = self.summary_total_rows
        max_score, percent = (cell(t[k], 1) for k in ("max_score", "percent"))
        deducted = f"SUM({self._range(SumCol.DEDUCTED, first, last)})"
        # totals from the exact deductions, as score.py does: rounded parts would round twice
        formulas[(t["total"], 1)] = f"=ROUND({max_score}-{deducted},2)"
        formulas[(t["max_score"], 1)] = (
            f"=SUM({self._range(SumCol.APPLICABLE_POINTS, first, last)})"
        )
        formulas[(t["percent"], 1)] = (
            f'=IF({max_score}>0,ROUND(({max_score}-{deducted})/{max_score}*100,2),"")'
        )
        formulas[(t["grade"], 1)] = "=" + self._grade_formula(percent)
        results = self._range(Col.RESULT, FIRST_ITEM_ROW, self.last_item_row)
        rng = f"'{self.checklist_sheet}'!{results}"
        answered = "+".join(
            f'COUNTIF({rng},"{self.result_label(code)}")' for code in ("pass", "fail", "na")
        )
        formulas[(t["unanswered"], 1)] = f"={len(self.standard.criteria)}-({answered})"
        return formulas

    def _grade_formula(self, percent: str) -> str:
        bands = sorted(self.standard.grade_bands, key=lambda band: band[1], reverse=True)
        expression = f'"{bands[-1][0]}"'
        for name, minimum in reversed(bands[:-1]):
            expression = f'IF({percent}>={num(minimum)},"{name}",{expression})'
        return f'IF({percent}="","",{expression})'

    def checklist_formulas(self) -> dict[tuple[int, int], str]:
        formulas: dict[tuple[int, int], str] = {}
        for row in self.rows:
            if row.kind == "criterion":
                formulas[(row.index, Col.DEDUCTION)] = self.criterion_formula(row)
            elif row.kind == "group":
                formulas[(row.index, Col.DEDUCTION)] = self.group_formula(row)
            else:
                formulas[(row.index, Col.DEDUCTION)] = self.section_formula(row)
        return formulas

    # --- fingerprint of the locked content, kept in the manifest -----------------------

    @cached_property
    def fingerprint(self) -> str:
        return self._fingerprint(self.locked_cells)

    @cached_property
    def fingerprint_before_photos(self) -> str:
        """The fingerprint this standard's workbooks had before the 照片 column: its header is
        the one locked cell they lack. validate.py grades them as they are."""
        return self._fingerprint({k: v for k, v in self.locked_cells.items() if k != PHOTO_HEADER})

    def _fingerprint(self, locked_cells: dict[tuple[int, int], str]) -> str:
        payload = {
            "cells": sorted([r, c, v] for (r, c), v in locked_cells.items()),
            "formulas": sorted([r, c, f] for (r, c), f in self.checklist_formulas().items()),
            "summary": sorted([r, c, f] for (r, c), f in self.summary_formulas().items()),
            "standard": self.standard.content_hash,
        }
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the manifest: a very hidden sheet of key/value rows, then one row per criterion ------

MANIFEST_TOOL = "audit-xls"
MANIFEST_KEYS = (
    "tool",
    "tool_version",
    "template",
    "standard_id",
    "standard_version",
    "standard_hash",
    "workbook_id",
    "site_code",
    "site_name",
    "region",
    "period",
    "issued_on",
    "fingerprint",
)
MANIFEST_CHECKSUM_ROW = len(MANIFEST_KEYS)
MANIFEST_ROWS_HEADER = MANIFEST_CHECKSUM_ROW + 1
MANIFEST_FIRST_CRITERION = MANIFEST_ROWS_HEADER + 1


@dataclass(frozen=True)
class Manifest:
    values: dict[str, str]
    criterion_rows: tuple[tuple[int, str], ...]  # (0-based checklist row, criterion code)
    checksum: str
    # rows after the criteria whose first cell is not a row number: the 复查 list
    # (rectify/recheck.py), with a checksum of its own
    extra: tuple[tuple[str, ...], ...] = ()

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    @property
    def expected_checksum(self) -> str:
        return manifest_checksum(self.values, self.criterion_rows)


def manifest_checksum(values: dict[str, str], criterion_rows: tuple[tuple[int, str], ...]) -> str:
    """sha256 of the JSON text json.dumps([[key, value], ..., [row, code], ...],
    ensure_ascii=False) writes, spelled here with json's own string encoder: half the time
    of json.dumps, and grade checks one for every return."""
    text = ", ".join(
        [f"{key}{_json_text(values.get(k, ''))}]" for k, key in _KEY_TEXTS]
        + [f"[{int(r)}, {_json_text(code)}]" for r, code in criterion_rows]
    )
    return hashlib.sha256(f"[{text}]".encode()).hexdigest()


_KEY_TEXTS = tuple((k, f"[{_json_text(k)}, ") for k in MANIFEST_KEYS)  # each pair's fixed half


def manifest_grid(values: dict[str, str], layout: Layout) -> list[list[str]]:
    """The manifest sheet's cells, row by row (column A key, column B value)."""
    grid = [[key, values[key]] for key in MANIFEST_KEYS]
    grid.append(["checksum", manifest_checksum(values, layout.manifest_rows)])
    grid.append(["row", "criterion"])
    grid.extend([cell(index, Col.RESULT)[1:], code] for index, code in layout.manifest_rows)
    return grid


def _manifest_text(value: object) -> str:
    if type(value) is str:  # the usual cell, first
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def parse_manifest(grid: list[list[object]]) -> Manifest | None:
    """Read the manifest back from a sheet's values; None when it is not one of ours."""
    text = _manifest_text
    rows = []
    for row in grid:
        if len(row) > 1:
            key, value = row[0], row[1]
            # the usual cell a str, read without the call
            rows.append((key if type(key) is str else text(key),
                         value if type(value) is str else text(value)))  # fmt: skip
        else:
            rows.append((text(row[0]) if row else "", ""))
    values = dict(rows[:MANIFEST_CHECKSUM_ROW])
    if values.get("tool") != MANIFEST_TOOL or len(rows) <= MANIFEST_ROWS_HEADER:
        return None
    criterion_rows = []
    extra = []  # rows whose first cell is text, not a row number
    for index in range(MANIFEST_FIRST_CRITERION, len(rows)):
        number, code = rows[index]
        if number.isdigit():
            if number.isascii() and len(number) <= 9 and code:
                criterion_rows.append((int(number) - 1, code))
        elif number:
            extra.append(tuple(map(text, grid[index])))
    return Manifest(values, tuple(criterion_rows), rows[MANIFEST_CHECKSUM_ROW][1], tuple(extra))
