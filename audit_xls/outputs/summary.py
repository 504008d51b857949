"""HQ's summary workbook of `grade` (SUMMARY.xlsx), in the user's language.

It renders a BatchResult and recomputes nothing but counts and averages: every score comes
from the scorer (model/score.py). Sheets and columns are described in docs/outputs.md; the CSV
and --json are outputs/exports.py, the printed account outputs/console.py.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook

from audit_xls.i18n import join, namespace
from audit_xls.model.diagnostics import ERROR
from audit_xls.model.results import SENT_BACK, BatchResult, Photo, WorkbookResult
from audit_xls.model.score import (
    FAIL,
    ZERO,
    Answer,
    ScoreCard,
    SectionScore,
    round2,
    section_rate,
)
from audit_xls.model.standard import DEFAULT_GRADE_BANDS, Criterion, Standard
from audit_xls.outputs.shared import (
    NOT_APPLICABLE,
    competition_ranks,
    mean_percent,
    report_labels,
    write_error,
)
from audit_xls.outputs.xlsx import (
    BandColours,
    Column,
    Formats,
    add_table_sheet,
    setup_print,
    table_header_row,
    write_text,
    write_value,
    write_workbook,
)

# Score-distribution bins on 得分率 (0-100): [low, high), labels say the exact edges.
BINS: tuple[tuple[Decimal, Decimal | None, str], ...] = (
    (Decimal(0), Decimal(60), "<60"),
    (Decimal(60), Decimal(70), "60-69.99"),
    (Decimal(70), Decimal(80), "70-79.99"),
    (Decimal(80), Decimal(90), "80-89.99"),
    (Decimal(90), None, "≥90"),
)

TABLE_NAMES = {
    "ranking": "Ranking",
    "sections": "SectionRates",
    "problems": "Problems",
    "frequent": "FrequentProblems",
    "regions": "Regions",
    "diagnostics": "Diagnostics",
    "warnings": "Warnings",
    "missing": "NotReturned",
    "skipped": "Skipped",
}


# --- what the sheets show, computed once ------------------------------------------------


@dataclass(frozen=True)
class SectionKey:
    code: str
    name: str

    @property
    def header(self) -> str:
        return f"{self.code} {self.name}"


def _percent(w: WorkbookResult) -> Decimal | None:
    return w.card.percent if w.card else None


def _ranked(graded: list[WorkbookResult]) -> list[tuple[int | None, WorkbookResult]]:
    """Graded workbooks with their rank within their period, in report order."""
    by_period: dict[str, list[WorkbookResult]] = defaultdict(list)
    for w in graded:
        by_period[w.period_text].append(w)  # YYYY-MM: text order is month order
    ranked: list[tuple[int | None, WorkbookResult]] = []
    for period in sorted(by_period):
        group = by_period[period]
        ranks = competition_ranks([_percent(w) for w in group])
        pairs = sorted(
            zip(ranks, group, strict=True),
            key=lambda p: (p[0] is None, p[0] or 0, p[1].region, p[1].site_code, p[1].file),
        )
        ranked.extend(pairs)
    return ranked


def _section_keys(workbooks: Iterable[WorkbookResult]) -> list[SectionKey]:
    keys: dict[SectionKey, None] = {}
    for w in workbooks:
        if w.card:
            for s in w.card.sections:
                keys.setdefault(SectionKey(s.code, s.name), None)
    return list(keys)


def _grade_names(workbooks: Iterable[WorkbookResult]) -> list[str]:
    names: dict[str, None] = {}
    for standard in _standards(workbooks):
        for name, _minimum in sorted(standard.grade_bands, key=lambda b: b[1], reverse=True):
            names.setdefault(name, None)
    return list(names)


def _standards(workbooks: Iterable[WorkbookResult]) -> list[Standard]:
    seen: dict[tuple[str, str], Standard] = {}
    for w in workbooks:
        if w.standard is not None:
            seen.setdefault((w.standard.id, w.standard.version), w.standard)
    return list(seen.values())


def _criteria_index(standard: Standard) -> dict[str, tuple[int, Criterion, str]]:
    """code -> (order, criterion, section name), cached per standard object."""
    cached = _CRITERIA_CACHE.get(id(standard))
    if cached is not None and cached[0] is standard:
        return cached[1]
    table: dict[str, tuple[int, Criterion, str]] = {}
    for section in standard.sections:
        for criterion in section.criteria:
            table[criterion.code] = (len(table), criterion, section.name)
    _CRITERIA_CACHE[id(standard)] = (standard, table)
    return table


_CRITERIA_CACHE: dict[int, tuple[Standard, dict[str, tuple[int, Criterion, str]]]] = {}


def _check_text(checks: dict[str, Any], code: str) -> str:
    """What HQ checks for a warning `code` (catalogue summary.check.<code>, nested by dots)."""
    node: Any = checks
    for part in code.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) else checks["default"]


def batch_bands(batch: BatchResult) -> tuple[tuple[str, Decimal], ...]:
    """The grade bands the colours follow: the graded workbooks' standard's (the first one's
    when a batch mixes standards with different bands), else the default bands."""
    for standard in _standards(batch.graded):
        return standard.grade_bands
    return DEFAULT_GRADE_BANDS


def _shown(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else round2(rate)


def _bin_label(percent: Decimal) -> str:
    for low, high, label in BINS:
        if percent >= low and (high is None or percent < high):
            return label
    return BINS[0][2]


def _failures(w: WorkbookResult) -> list[tuple[Criterion, str, int, Decimal, str]]:
    """(criterion, section name, counted problem points, deduction, note) of each failure."""
    if w.card is None or w.standard is None:
        return []
    index = _criteria_index(w.standard)
    answers = w.answers
    no_answer = Answer(None)
    return [
        (*index[cs.code][1:], cs.problem_points, cs.deduction, answers.get(cs.code, no_answer).note)
        for cs in w.card.criteria
        if cs.result == FAIL
    ]


# --- SUMMARY.xlsx -----------------------------------------------------------------------


def write_summary(batch: BatchResult, path: str | Path, *, lang: str = "zh") -> None:
    """Write HQ's summary workbook to `path`, atomically (a crash keeps the previous file)."""
    labels = report_labels(lang)  # an unknown language is refused before anything is written
    standards = _standards(batch.workbooks)
    names = join((s.name for s in standards), lang)
    title = labels["title"].format(standard=names or "audit-xls")

    def build(book: Workbook, formats: Formats) -> None:
        _SummaryWriter(batch, lang, book, formats, title).write()

    try:
        write_workbook(path, build, created=batch.graded_at, title=title)
    except OSError as error:
        raise write_error(path, error, lang) from error


class _SummaryWriter:
    def __init__(
        self,
        batch: BatchResult,
        lang: str,
        book: Workbook,
        formats: Formats,
        title: str,
    ) -> None:
        self.batch = batch
        self.lang = lang
        self.t = namespace("summary", lang)
        self.book = book
        self.f = formats
        self.title = title
        self.graded = batch.graded
        self.sections = _section_keys(self.graded)
        self.section_pairs = [(key.code, key.name) for key in self.sections]
        self.grade_names = _grade_names(self.graded)
        self.bands = BandColours(book, batch_bands(batch), legend_label=self.t["legend"])
        # each graded workbook's failures, for 问题清单 and 高频问题
        self.failures = {id(w): _failures(w) for w in self.graded}

    def sheet_name(self, key: str) -> str:
        return self.t["sheets"][key]

    def region(self, w: WorkbookResult | Any) -> str:
        return w.region or self.t["unknown_region"]

    def table(
        self, key: str, columns: list[Column], rows: list[list[object]], note: str, **kw: Any
    ) -> Any:
        return add_table_sheet(
            self.book,
            self.f,
            self.sheet_name(key),
            TABLE_NAMES[key],
            columns,
            rows,
            title=self.sheet_name(key),
            note=note,
            footer=self.t["footer"],
            bands=self.bands,
            **kw,
        )

    def write(self) -> None:
        # Overview first so it opens first; its region chart points at the 区域汇总 sheet.
        overview = self.book.add_worksheet(self.sheet_name("overview"))
        self.write_ranking()
        self.write_section_rates()
        self.write_problems()
        self.write_frequent()
        region_rows = self.write_regions()
        self.write_diagnostics()
        self.write_warnings()
        self.write_missing()
        self.write_skipped()
        self.write_overview(overview, region_rows)

    # 总览
    def write_overview(self, sheet: Any, region_rows: int) -> None:
        t, f, batch = self.t, self.f, self.batch
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, 1, 22)
        sheet.write_string(0, 0, self.title, f.title)
        periods = sorted(
            {w.period_text for w in batch.workbooks if w.period_text}  # as found
            | {str(m.period) for m in batch.missing}
        )
        rates = [w.card.percent for w in self.graded if w.card and w.card.percent is not None]
        rows: list[tuple[str, object, Any]] = [
            (t["period"], join(periods, self.lang), f.text),
            (
                t["standard"],
                join((s.label for s in _standards(batch.workbooks)), self.lang),
                f.text,
            ),
            (t["graded_at"], batch.graded_at, f.datetime),
            ("", None, None),
            (t["counts"], t["count"], f.label),
            (
                t["issued"],
                batch.issued_count if batch.issued_count is not None else t["no_register"],
                f.int,
            ),
            (t["returned"], len(batch.workbooks), f.int),
            (t["graded"], len(self.graded), f.int),
            (t["sent_back"], len(batch.sent_back), f.int),
            (t["superseded"], len(batch.superseded), f.int),
            (t["skipped"], len(batch.skipped), f.int),
            (t["missing"], len(batch.missing), f.int),
            ("", None, None),
            (t["average"], mean_percent(self.graded), f.pct),
            (t["rule_label"], t["average_rule"], f.text),
            (t["highest"], max(rates) if rates else None, f.pct),
            (t["lowest"], min(rates) if rates else None, f.pct),
            ("", None, None),
            (t["grades"], t["sites"], f.label),
        ]
        grade_counts = {name: 0 for name in self.grade_names}
        no_rate = 0
        for w in self.graded:
            if w.card and w.card.grade is not None:
                grade_counts[w.card.grade] = grade_counts.get(w.card.grade, 0) + 1
            else:
                no_rate += 1
        first_grade_row = 2 + len(rows)
        rows += [(name, count, f.int) for name, count in grade_counts.items()]
        if no_rate:
            rows.append((t["no_rate"], no_rate, f.int))
        rows += [("", None, None), (t["band"], t["sites"], f.label)]
        bins = {label: 0 for _low, _high, label in BINS}
        for rate in rates:
            bins[_bin_label(rate)] += 1
        rows += [(label, count, f.int) for label, count in bins.items()]
        rows += [("", None, None), (t["na_note"], None, f.note)]

        self.bands.legend(sheet, 1, 0)
        for offset, (label, value, fmt) in enumerate(rows, start=2):
            if label in (t["average"], t["highest"], t["lowest"]):
                self.bands.rates(sheet, offset, 1, offset, 1)
            if not label:
                continue
            is_heading = fmt is f.label
            if fmt is f.note:
                write_text(sheet, offset, 0, label, f.note)
                continue
            write_text(sheet, offset, 0, label, f.label if is_heading else f.text)
            if isinstance(value, str):
                write_text(sheet, offset, 1, value, f.label if is_heading else f.text)
            else:
                write_value(sheet, offset, 1, value, fmt)

        self.bands.names(sheet, first_grade_row, 0, first_grade_row + len(grade_counts) - 1)
        name = self.sheet_name("overview")
        # the sites per grade band, each column in its band's colour
        chart = self.book.add_chart({"type": "column"})
        last_grade_row = first_grade_row + len(grade_counts) - 1
        chart.add_series(
            {
                "name": t["chart_grades"],
                "categories": [name, first_grade_row, 0, last_grade_row, 0],
                "values": [name, first_grade_row, 1, last_grade_row, 1],
                "data_labels": {"value": True},
                "gap": 60,
                "points": [
                    {"fill": {"color": self.bands.name_colour(grade) or "#A6A6A6"}}
                    for grade in grade_counts
                ],
            }
        )
        chart.set_title({"name": t["chart_grades"]})
        chart.set_legend({"none": True})
        # whole-number ticks: a count axis of 0, 0.5, 1 ... reads as nonsense
        tick = max(1, -(-max(grade_counts.values(), default=0) // 8))
        chart.set_y_axis({"min": 0, "major_unit": tick, "major_gridlines": {"visible": True}})
        sheet.insert_chart(2, 3, chart, {"x_scale": 1.3, "y_scale": 1.1})

        if region_rows:
            averages = self.region_averages
            regions = self.sheet_name("regions")
            header = table_header_row(regions, self.t["region_note"])
            first, last = header + 1, header + region_rows
            average_col = 4
            region_chart = self.book.add_chart({"type": "bar"})
            region_chart.add_series(
                {
                    "name": t["chart_regions"],
                    "categories": [regions, first, 0, last, 0],
                    "values": [regions, first, average_col, last, average_col],
                    "data_labels": {"value": True, "num_format": "0.00"},
                    "gap": 60,
                    "points": [
                        {"fill": {"color": self.bands.chart_colour(rate) or "#A6A6A6"}}
                        for rate in averages
                    ],
                }
            )
            region_chart.set_title({"name": t["chart_regions"]})
            region_chart.set_legend({"none": True})
            region_chart.set_x_axis({"min": 0, "max": 100})
            region_chart.set_y_axis({"reverse": True})
            sheet.insert_chart(20, 3, region_chart, {"x_scale": 1.3, "y_scale": 1.1})
        sheet.freeze_panes(1, 0)
        setup_print(sheet, footer=t["footer"])

    def section_cells(
        self, card: ScoreCard, value: Callable[[SectionScore], object]
    ) -> list[object]:
        """One cell per section column: blank where the workbook's standard has no such
        section, NOT_APPLICABLE where none of its criteria applied, else value(section)."""
        by_key = {(s.code, s.name): s for s in card.sections}
        cells: list[object] = []
        for key in self.section_pairs:
            section = by_key.get(key)
            if section is None:
                cells.append(None)
            else:
                cells.append(value(section) if section.applicable else NOT_APPLICABLE)
        return cells

    # 项目排名
    def write_ranking(self) -> None:
        t = self.t
        columns = [
            Column(t["rank"], "int", 6),
            Column(t["period"], "text", 10),
            Column(t["region"], "text", 12),
            Column(t["site_code"], "text", 12),
            Column(t["site"], "wrap", 16),
            Column(t["score"], "num", 9),
            Column(t["max_score"], "num", 9),
            Column(t["percent"], "pct", 10),
            Column(t["grade"], "text", 8),
            Column(t["veto"], "text", 6),
            *[Column(key.header, "num", 11) for key in self.sections],
            Column(t["file"], "text", 30),
        ]
        rows: list[list[object]] = []
        for rank, w in _ranked(self.graded):
            card = w.card
            assert card is not None
            section_cells = self.section_cells(card, lambda s: s.score)
            vetoed = card.inspection_vetoed or any(s.vetoed for s in card.sections)
            rows.append(
                [
                    rank,
                    w.period_text,
                    self.region(w),
                    w.site_code,
                    w.site_name,
                    card.total,
                    card.max_score,
                    card.percent,
                    card.grade or "",
                    t["yes"] if vetoed else "",
                    *section_cells,
                    w.file,
                ]
            )
        self.table(
            "ranking", columns, rows, t["ranking_note"], band_cols=(7,), band_name_cols=(8,),
            print_cols=len(columns) - 1,  # 文件 stays on screen: the rest prints readable
        )  # fmt: skip

    # 分项得分
    def write_section_rates(self) -> None:
        t = self.t
        columns = [
            Column(t["period"], "text", 10),
            Column(t["region"], "text", 12),
            Column(t["site_code"], "text", 12),
            Column(t["site"], "text", 22),
            *[Column(f"{key.header}(%)", "pct", 12) for key in self.sections],
            Column(t["percent"], "pct", 10),
        ]
        rows: list[list[object]] = []
        for _rank, w in _ranked(self.graded):
            card = w.card
            assert card is not None
            cells = self.section_cells(card, lambda s: _shown(section_rate(s.score, s.points)))
            rows.append(
                [w.period_text, self.region(w), w.site_code, w.site_name, *cells, card.percent]
            )
        rates = tuple(range(4, 5 + len(self.sections)))
        self.table("sections", columns, rows, t["sections_note"] + t["na_note"], band_cols=rates)

    # 问题清单
    def write_problems(self) -> None:
        t = self.t
        columns = [
            Column(t["period"], "text", 8),
            Column(t["region"], "text", 10),
            Column(t["site_code"], "text", 9),
            Column(t["site"], "wrap", 12),
            Column(t["code"], "text", 7),
            Column(t["section"], "wrap", 9),
            Column(t["criterion"], "wrap", 32),
            Column(t["rule"], "wrap", 14),
            Column(t["problem_points"], "int", 8),
            Column(t["deduction"], "num", 7),
            Column(t["note"], "wrap", 28),
            Column(t["photo_count"], "int", 7),
            Column(t["photo"], "text", 36),
        ]
        rows: list[list[object]] = []
        photos: list[list[Photo]] = []
        for w in sorted(
            self.graded, key=lambda w: (self.region(w), w.site_code, w.period_text, w.file)
        ):
            for criterion, section_name, points, deduction, note in self.failures[id(w)]:
                shown = [p for p in w.photos if p.criterion == criterion.code and p.path]
                photos.append(shown)
                rows.append(
                    [
                        w.period_text,
                        self.region(w),
                        w.site_code,
                        w.site_name,
                        criterion.code,
                        section_name,
                        criterion.text,
                        criterion.rule.phrase(self.lang),
                        points,
                        deduction,
                        note,
                        len(shown),
                        "",
                    ]
                )
        count = sum(1 for shown in photos if shown)
        thumbnails = 0 < count <= MAX_THUMBNAILS
        if thumbnails:
            columns.append(Column(t["thumbnail"], "text", THUMB_COLUMN_WIDTH))
            for row in rows:
                row.append("")
        note = t["problems_note"]
        if count:
            note += (
                t["photos_note"]
                if thumbnails
                else t["photos_no_thumbnails"].format(limit=MAX_THUMBNAILS)
            )
        link_col = len(columns) - (2 if thumbnails else 1)
        # the link (and thumbnail) stay on screen: the printed page keeps a readable size
        sheet = self.table("problems", columns, rows, note, print_cols=link_col)
        first = table_header_row(self.sheet_name("problems"), note) + 1
        for offset, shown in enumerate(photos):
            if shown:
                _photo_cells(sheet, first + offset, link_col, shown[0], self.f, thumbnails)

    # 高频问题
    def write_frequent(self) -> None:
        t = self.t
        # keyed by standard id and code: two standards may reuse a code for another criterion
        stats: dict[tuple[str, str], list[Any]] = {}
        for w in self.graded:
            assert w.standard is not None
            index = _criteria_index(w.standard)
            for criterion, section_name, points, deduction, _note in self.failures[id(w)]:
                key = (w.standard.id, criterion.code)
                entry = stats.get(key)
                if entry is None:
                    order = index[criterion.code][0]
                    entry = stats[key] = [order, criterion, section_name, set(), 0, ZERO]
                entry[3].add((w.site_code, w.period_text, w.file))
                entry[4] += points
                entry[5] += deduction
        graded_count = len(self.graded)
        ordered = sorted(
            stats.items(), key=lambda kv: (-len(kv[1][3]), -kv[1][5], kv[0][0], kv[1][0])
        )
        rows: list[list[object]] = [
            [
                criterion.code,
                section_name,
                criterion.text,
                len(sites),
                round2(Decimal(len(sites)) * 100 / graded_count),
                points,
                deduction,
            ]
            for _key, (_order, criterion, section_name, sites, points, deduction) in ordered
        ]
        columns = [
            Column(t["code"], "text", 8),
            Column(t["section"], "text", 12),
            Column(t["criterion"], "wrap", 60),
            Column(t["sites_failing"], "int", 10),
            Column(t["share"], "pct", 12),
            Column(t["points_total"], "int", 10),
            Column(t["deduction_total"], "num", 10),
        ]
        self.table("frequent", columns, rows, t["frequent_note"])

    # 区域汇总; returns the number of region rows (the overview chart reads them)
    def write_regions(self) -> int:
        t = self.t
        graded: dict[str, list[WorkbookResult]] = defaultdict(list)
        sent_back: dict[str, int] = defaultdict(int)
        missing: dict[str, int] = defaultdict(int)
        for w in self.graded:
            graded[self.region(w)].append(w)
        for w in self.batch.sent_back:
            sent_back[self.region(w)] += 1
        for m in self.batch.missing:
            missing[self.region(m)] += 1
        regions = set(graded) | set(sent_back) | set(missing)
        rows: list[list[object]] = []
        for region in regions:
            sites = graded.get(region, [])
            rates = [w.card.percent for w in sites if w.card and w.card.percent is not None]
            counts = dict.fromkeys(self.grade_names, 0)
            for w in sites:
                if w.card and w.card.grade is not None:
                    counts[w.card.grade] = counts.get(w.card.grade, 0) + 1
            rows.append(
                [
                    region,
                    len(sites),
                    sent_back.get(region, 0),
                    missing.get(region, 0),
                    mean_percent(sites),
                    min(rates) if rates else None,
                    max(rates) if rates else None,
                    *[counts[name] for name in self.grade_names],
                ]
            )
        # best average first; regions with nothing graded last, then by name
        rows.sort(key=lambda r: (r[4] is None, -(r[4] or 0), str(r[0])))
        self.region_averages = [r[4] for r in rows]
        columns = [
            Column(t["region"], "text", 14),
            Column(t["graded"], "int", 8),
            Column(t["sent_back"], "int", 8),
            Column(t["missing"], "int", 8),
            Column(t["average_short"], "pct", 12),
            Column(t["min"], "pct", 10),
            Column(t["max"], "pct", 10),
            *[Column(name, "int", 8) for name in self.grade_names],
        ]
        self.table("regions", columns, rows, t["region_note"], band_cols=(4, 5, 6))
        return len(rows)

    # 退回清单
    def write_diagnostics(self) -> None:
        """Only what goes back to the sites: every diagnostic of every sent-back file."""
        severity_labels = self.t["severity_labels"]
        found = [
            (w, severity_labels.get(d.severity, d.severity), d)
            for w in sorted(self.batch.sent_back, key=lambda w: w.file)
            for d in w.diagnostics
        ]
        self.diagnostics_table("diagnostics", "severity", (22, 9, 12, 6, 8, 7, 18, 60), found)

    # 警告清单
    def write_warnings(self) -> None:
        """Warnings of graded files and older resubmissions: scored, and what HQ should check."""
        status_labels = self.t["status_labels"]
        found = [
            # an older return of a resubmitted workbook is not graded: its status says so
            (w, status_labels[w.outcome], d)
            for w in sorted(
                (w for w in self.batch.workbooks if w.status != SENT_BACK), key=lambda w: w.file
            )
            for d in w.diagnostics
            if d.severity != ERROR
        ]
        self.diagnostics_table(
            "warnings", "status", (20, 9, 10, 8, 8, 6, 16, 42), found, check_width=28
        )

    def diagnostics_table(
        self,
        key: str,
        label: str,
        widths: tuple[float, ...],
        found: list[tuple[WorkbookResult, str, Any]],
        check_width: float | None = None,
    ) -> None:
        """退回清单 and 警告清单: one row per (workbook, its `label` column's text, diagnostic),
        with what HQ checks for it when `check_width` gives that column a width."""
        t = self.t
        names = ("file", "site_code", "site", label, "sheet", "cell", "diag_code", "message")
        kinds = ("wrap", "text", "wrap", "text", "text", "text", "wrap", "wrap")
        columns = [Column(t[n], k, w) for n, k, w in zip(names, kinds, widths, strict=True)]
        rows: list[list[object]] = [
            [w.file, w.site_code, w.site_name, text, d.sheet, d.cell, d.code, d.render(self.lang)]
            for w, text, d in found
        ]
        if check_width is not None:
            columns.append(Column(t["check_header"], "wrap", check_width))
            for row, (_w, _text, d) in zip(rows, found, strict=True):
                row.append(_check_text(t["check"], d.code))
        self.table(key, columns, rows, t[f"{key}_note"])

    # 未交清单
    def write_missing(self) -> None:
        t = self.t
        rows: list[list[object]] = [
            [str(m.period), self.region(m), m.site_code, m.site_name, m.workbook_id]
            for m in sorted(
                self.batch.missing, key=lambda m: (m.period, self.region(m), m.site_code)
            )
        ]
        columns = [
            Column(t["period"], "text", 10),
            Column(t["region"], "text", 12),
            Column(t["site_code"], "text", 12),
            Column(t["site"], "text", 24),
            Column(t["workbook_id"], "text", 36),
        ]
        self.table("missing", columns, rows, t["missing_note"])

    # 跳过文件
    def write_skipped(self) -> None:
        t = self.t
        rows: list[list[object]] = [[s.file, s.reason] for s in self.batch.skipped]
        rows += [
            [w.file, t["superseded_reason"].format(newer=w.duplicate_of)]
            for w in self.batch.superseded
        ]
        rows.sort(key=lambda r: str(r[0]))
        columns = [Column(t["file"], "text", 40), Column(t["reason"], "wrap", 70)]
        self.table("skipped", columns, rows, t["skipped_note"])


MAX_THUMBNAILS = 500  # problems with photos: above this, the 问题清单 has links only
THUMB_BOX = (80, 60)  # pixels a thumbnail is shown in
THUMB_COLUMN_WIDTH = 12
THUMB_ROW_POINTS = 50


def _photo_cells(
    sheet: Any, row: int, col: int, photo: Photo, formats: Formats, thumbnail: bool
) -> None:
    """The link to a problem's first photo (relative to the summary), and its thumbnail.

    The link is ours, built from the photo folder's file name; nothing a supervisor typed or
    named (picture names, alt text) is written.
    """
    sheet.write_url(row, col, "external:" + photo.path, None, Path(photo.path).name)
    if not thumbnail or not photo.thumbnail:
        return
    try:
        from PIL import Image

        width, height = Image.open(io.BytesIO(photo.thumbnail)).size
    except Exception:  # a thumbnail we made ourselves; never worth failing the summary
        return
    scale = min(THUMB_BOX[0] / max(width, 1), THUMB_BOX[1] / max(height, 1), 1.0)
    sheet.set_row(row, THUMB_ROW_POINTS)
    sheet.insert_image(
        row, col + 1, "thumbnail.jpg",
        {"image_data": io.BytesIO(photo.thumbnail), "x_scale": scale, "y_scale": scale,
         "x_offset": 2, "y_offset": 2, "object_position": 1, "url": "external:" + photo.path,
         "description": Path(photo.path).name, "decorative": False},
    )  # fmt: skip
