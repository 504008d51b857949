"""Month-by-month pivots over the grading history: the sheets HQ used to build by hand.

The pivots are worked out here (MonthlyReport); monthly_workbook.py writes them as MONTHLY.xlsx
and monthly_exports.py as --json and --csv.

Only current results count: graded, not superseded by a resubmission (history.py). Every
average across sites is the plain mean of the sites' 得分率 (not weighted by points), computed
in exact decimals and rounded half up to 2 decimals, like the scorer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from audit_xls.history.store import UNTRUSTED_MANIFEST, HistoryFrames, load_history
from audit_xls.i18n import DEFAULT_LANG, Clauses, Ref, Said, join, t
from audit_xls.model.period import (
    Period,
    PeriodError,
    is_period,
    month_range,
    parse_period,
    stored_period,
)
from audit_xls.model.results import SENT_BACK
from audit_xls.model.score import FAIL, round2, section_rate
from audit_xls.model.standard import DEFAULT_GRADE_BANDS
from audit_xls.outputs.shared import competition_ranks
from audit_xls.rectify import summary as rectification

# The pivots (their sheet names come from the catalogue, monthly.sheets.<key>) and the name of
# each one's Excel Table (stable, ASCII).
SHEETS = {
    "site_rates": "SiteMonthly",
    "region_rates": "RegionMonthly",
    "section_rates": "SectionMonthly",
    "ranking": "MonthlyRanking",
    "repeats": "RepeatProblems",
    "returns": "ReturnsMonthly",
    "detail": "MonthlyDetail",
}
SITE_CHANGE_TABLE = "SiteMonthlyChange"
# The history keeps each result's 评级 but not its standard's bands: rates are coloured by the
# default bands (优秀 ≥90, 良好 ≥80, 合格 ≥70, 不合格 below), as docs/outputs.md says.
MONTHLY_BANDS = DEFAULT_GRADE_BANDS


# The pivots' columns by machine key (docs/outputs.md): a report's frames are headed with their
# words in the report's language (monthly.column.<key>); --json keys them by these keys.
COLUMN_KEYS = (
    "site_code", "site", "region", "change", "standard_id", "section_code", "section", "period",
    "rank", "percent", "previous_rank", "rank_change", "criterion_code", "criterion",
    "consecutive_months", "problem_points_by_month", "latest_note", "reported_fixed_before",
    "issued", "returned", "graded", "sent_back_not_graded", "not_returned", "standard_version",
    "score", "max_score", "grade", "inspector", "inspection_date", "graded_at", "file",
    "workbook_id", "versions",
)  # fmt: skip


def column(key: str, lang: str = DEFAULT_LANG) -> str:
    """A pivot column's header in `lang` (its machine key -> monthly.column.<key>)."""
    return t(f"monthly.column.{key}", lang)


@lru_cache(maxsize=8)
def _column_keys(lang: str) -> dict[str, str]:
    return {column(key, lang): key for key in COLUMN_KEYS}


def column_key(name: str, lang: str = DEFAULT_LANG) -> str | None:
    """The machine key of a header in `lang`, or None (a month, or a column of its own)."""
    return _column_keys(lang).get(name)


class MonthlyError(Said, ValueError):
    """Raised when the history holds nothing to summarise for the chosen filters, or a month
    option is wrong; worded in either language (`text(lang)`). A `filters` parameter (the
    filters dict) is described in the language asked for."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        ValueError.__init__(self, self.text(DEFAULT_LANG))

    def text(self, lang: str = DEFAULT_LANG) -> str:
        params = dict(self.params)
        if isinstance(params.get("filters"), dict):
            params["filters"] = _describe_filters(params["filters"], lang)  # type: ignore[arg-type]
        return t(self.key, lang, **params)


def check_month(text: str) -> Period:
    """The month `text` names (YYYY-MM), or MonthlyError (a ValueError) with a message naming
    what was typed."""
    if not is_period(text):
        raise MonthlyError("monthly.error.month_format", text=text)
    return parse_period(text)


class MonthOrderError(MonthlyError):
    """--from after --to: a usage error (the command line shows it so, exit 2)."""

    usage = True


def check_month_order(from_: Period | None, to: Period | None) -> None:
    """MonthOrderError (a ValueError) when --from is after --to."""
    if from_ is not None and to is not None and from_ > to:
        raise MonthOrderError("monthly.error.month_order", from_=str(from_), to=str(to))


def _month_of(value: Period | str | None) -> Period | None:
    """A month option as a Period: text from a library caller is checked like --from/--to."""
    return value if value is None or isinstance(value, Period) else check_month(value)


def _months(first: str, last: str) -> list[Period]:
    """Every month from the first to the last month text of the pivots."""
    return month_range(parse_period(first), parse_period(last))


@lru_cache(maxsize=4096)  # asked once per site and month: parsing was a tenth of the pivots
def _before(month: str) -> str:
    """The month before, or "" for 1900-01 (the first period: nothing can precede it)."""
    try:
        return str(parse_period(month).previous())
    except PeriodError:
        return ""


def _mean(values: Sequence[Decimal]) -> float | None:
    """Mean of exact decimals, rounded half up to 2 places (None for no values)."""
    if not values:
        return None
    return float(round2(sum(values, Decimal(0)) / len(values)))


def _rate(score: str, points: str) -> Decimal | None:
    return section_rate(Decimal(score), Decimal(points))


@dataclass
class MonthlyReport:
    """The pivots as DataFrames; every month column holds 得分率 as a number 0-100 or NaN.
    Headers, notes and the words in cells (全部项目, lists of months) are in `lang`."""

    months: list[Period]  # every month shown, first to last
    filters: dict[str, str | None]  # as the user gave them (months as YYYY-MM text)
    # headed in `lang`; by machine key (COLUMN_KEYS):
    site_rates: pd.DataFrame  # site_code, site, region, <months>, change
    site_changes: pd.DataFrame  # site_code, site, region, <months>: change vs previous month
    region_rates: pd.DataFrame  # region, <months>; last row 全部项目 (monthly.all_sites)
    section_rates: pd.DataFrame  # standard_id, section_code, section, <months>
    ranking: pd.DataFrame  # long: period, rank, site..., percent, previous_rank, rank_change
    repeats: pd.DataFrame  # criteria failed at a site in 2+ consecutive months
    returns: pd.DataFrame  # period, issued, returned, graded, sent_back_not_graded, ...
    detail: pd.DataFrame  # the current graded results, one row per workbook
    versions: pd.DataFrame  # period, standard_id, versions
    notes: list[str] = field(default_factory=list)
    latest_month: Period | None = None  # the last month with graded results: 较上月 compares it
    generated_from: datetime | None = None  # newest graded_at, fixes the workbook's created date
    # 整改台账, 整改完成率, 逾期未整改 (rectify/summary.py); None for a history without a ledger
    rectification: rectification.LedgerReport | None = None
    lang: str = DEFAULT_LANG

    @property
    def month_columns(self) -> list[str]:
        """The months as the pivots name their columns (YYYY-MM): inside the DataFrames months
        stay the history's text, as the status and result columns do."""
        return [str(m) for m in self.months]

    def frames(self) -> dict[str, pd.DataFrame]:
        return {key: getattr(self, key) for key in SHEETS} | {"site_changes": self.site_changes}


def _describe_filters(filters: dict[str, str | None], lang: str = DEFAULT_LANG) -> str:
    parts = []
    if filters.get("from") or filters.get("to"):
        first = filters.get("from") or t("monthly.filters.earliest", lang)
        last = filters.get("to") or t("monthly.filters.latest", lang)
        parts.append(t("monthly.filters.months", lang, first=first, last=last))
    if filters.get("standard"):
        parts.append(t("monthly.filters.standard", lang, standard=filters["standard"]))
    if filters.get("region"):
        parts.append(t("monthly.filters.region", lang, region=filters["region"]))
    return t("monthly.filters.separator", lang).join(parts)


def monthly_report(
    history_path: str | Path,
    from_: Period | str | None = None,
    to: Period | str | None = None,
    standard: str | None = None,
    region: str | None = None,
    as_of: date | None = None,
    lang: str = DEFAULT_LANG,
) -> MonthlyReport:
    """Build the pivots from the history; MonthlyError when nothing graded matches.
    `from_`/`to`: the first and last month (Periods; YYYY-MM text is checked as the CLI
    checks it). `as_of` (default today) is the day deadlines and overdue days are counted to;
    `lang` the language of the headers, notes and words in cells."""
    from_, to = _month_of(from_), _month_of(to)
    check_month_order(from_, to)
    filters = {
        "from": None if from_ is None else str(from_),
        "to": None if to is None else str(to),
        "standard": standard,
        "region": region,
    }
    # Only failed criteria are used (反复问题): a tenth of the largest table.
    history = load_history(history_path, from_, to, standard, region, criteria_result=FAIL)
    frames, notes = _clean_periods(history, lang)
    # Two current rows can meet in one month once "2026-02 " reads as 2026-02: keep the newer.
    current = frames.current.sort_values("id").drop_duplicates(
        ["site_code", "period", "standard_id"], keep="last"
    )
    if current.empty:
        if any(filters.values()):
            everything = load_history(history_path, criteria_result=FAIL)
            if not everything.current.empty:
                known = everything.current
                raise MonthlyError(
                    "monthly.error.no_match",
                    history=history_path,
                    filters=filters,
                    first=min(known["period"]),
                    last=max(known["period"]),
                    regions=sorted(set(known["region"])),
                    standards=sorted(set(known["standard_id"])),
                )
        raise MonthlyError("monthly.error.empty", history=history_path)
    report, repeat_months = _build(frames, current, filters, lang)
    report.notes[:0] = notes
    report.rectification = rectification.ledger_report(
        history_path, from_, to, standard, region, as_of or date.today(), lang
    )
    # 反复问题 knows whether a repeat followed a fix the site claimed (before 最近问题描述)
    claimed = rectification.claimed_before(report.rectification, report.repeats, repeat_months)
    report.repeats.insert(
        len(report.repeats.columns) - 1,
        column("reported_fixed_before", lang),
        [join(months, lang) for months in claimed],
    )
    return report


def _clean_periods(frames: HistoryFrames, lang: str) -> tuple[HistoryFrames, list[str]]:
    """Only YYYY-MM periods count; sent-back rows with an untrusted manifest name no month.

    The history can hold "2026-02 " (an older build), or whatever a tampered manifest said:
    spaces and full-width characters are normalised, the rest is left out, each with a note.
    """
    untrusted_ids = set(
        frames.diagnostics[frames.diagnostics["code"].isin(list(UNTRUSTED_MANIFEST))]["workbook"]
    )
    workbooks = frames.workbooks
    untrusted = (workbooks["status"] == SENT_BACK) & workbooks["id"].isin(untrusted_ids)
    workbooks = workbooks[~untrusted]
    written = [*workbooks["period"], *frames.issued["period"]]
    clean = {p: unicodedata.normalize("NFKC", p).strip() for p in set(written)}
    fixed = sorted({p for p in written if p != clean[p] and is_period(clean[p])})
    odd = [p for p in written if p and not is_period(clean[p])]
    notes = []
    if fixed:
        count = sum(1 for p in written if p in fixed)
        notes.append(t("monthly.data_note.month_cleaned", lang, count=count, months=_quoted(fixed)))
    if odd:
        months = _quoted(sorted(set(odd)))
        notes.append(t("monthly.data_note.month_dropped", lang, count=len(odd), months=months))
    if untrusted.any():
        notes.append(t("monthly.data_note.untrusted", lang, count=int(untrusted.sum())))

    usable = {p: is_period(c) for p, c in clean.items()}

    def months_only(frame: pd.DataFrame) -> pd.DataFrame:
        periods = frame["period"].tolist()
        frame = frame.assign(period=[clean[p] for p in periods])
        keep = [usable[p] for p in periods]
        return frame[pd.Series(keep, index=frame.index, dtype=bool)]

    cleaned = HistoryFrames(
        months_only(workbooks),
        frames.criteria,
        frames.sections,
        frames.diagnostics,
        months_only(frames.issued),
    )
    return cleaned, notes


def _quoted(texts: Sequence[str]) -> list[Ref]:
    """Texts as typed, each in the language's quotes (「」 / "")."""
    return [Ref.to("monthly.data_note.quoted", text=text) for text in texts]


def _build(
    frames: HistoryFrames, current: pd.DataFrame, filters: dict[str, str | None], lang: str
) -> tuple[MonthlyReport, list[list[Period]]]:
    """The report, and the months of each row of 反复问题 (for the ledger's column)."""
    periods = [*frames.workbooks["period"], *frames.issued["period"]]
    shown = _months(min(periods), max(periods))
    months = [str(m) for m in shown]  # the pivots' month columns and keys: YYYY-MM text
    current = current.sort_values("id")
    sites = _site_labels(frames.workbooks, current)
    site_month = _site_month_rates(current)
    latest = max(current["period"])
    site_rates, site_changes = _site_tables(sites, site_month, months, latest)
    versions, notes = _versions(current, months, lang)
    repeats, repeat_months = _repeats(frames, current, sites, lang)
    report = MonthlyReport(
        months=shown,
        filters=filters,
        site_rates=_labelled(site_rates, lang),
        site_changes=_labelled(site_changes, lang),
        region_rates=_labelled(_region_table(sites, site_month, months, lang), lang),
        section_rates=_labelled(_section_table(frames.sections, current, months), lang),
        ranking=_labelled(_ranking(sites, site_month, months), lang),
        repeats=_labelled(repeats, lang),
        returns=_labelled(_returns(frames, current, months), lang),
        detail=_labelled(_detail(current), lang),
        versions=_labelled(versions, lang),
        notes=notes,
        latest_month=parse_period(latest),
        generated_from=datetime.fromisoformat(max(current["graded_at"])),
        lang=lang,
    )
    return report, repeat_months


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A pivot built with machine keys, headed in `lang` (months keep their YYYY-MM)."""
    return frame.rename(columns=lambda key: column(key, lang) if key in COLUMN_KEYS else key)


def _site_labels(workbooks: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Name and region per site code, from its latest current result."""
    latest = current.drop_duplicates("site_code", keep="last")
    return (
        latest.set_index("site_code")[["site_name", "region"]]
        .sort_index()
        .rename(columns={"site_name": "site"})
    )


def _site_month_rates(current: pd.DataFrame) -> dict[tuple[str, str], Decimal]:
    """One 得分率 per site and month: the mean when several standards were inspected."""
    grouped: dict[tuple[str, str], list[Decimal]] = {}
    for code, period, percent in zip(
        current["site_code"], current["period"], current["percent"], strict=True
    ):
        if isinstance(percent, str):  # None (NaN) when nothing applied: no rate to show
            grouped.setdefault((code, period), []).append(Decimal(percent))
    return {key: round2(sum(values, Decimal(0)) / len(values)) for key, values in grouped.items()}


def _num(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


def _site_tables(
    sites: pd.DataFrame,
    rates: dict[tuple[str, str], Decimal],
    months: list[str],
    latest: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rate_rows, change_rows = [], []
    for code, label in sites.iterrows():
        head = {"site_code": code, "site": label["site"], "region": label["region"]}
        rate = {m: rates.get((code, m)) for m in months}
        change = {
            m: (rate[m] - rates[(code, _before(m))])
            if rate[m] is not None and (code, _before(m)) in rates
            else None
            for m in months
        }
        rate_rows.append(
            head | {m: _num(rate[m]) for m in months} | {"change": _num(change[latest])}
        )
        change_rows.append(head | {m: _num(change[m]) for m in months})
    return pd.DataFrame(rate_rows), pd.DataFrame(change_rows)


def _region_table(
    sites: pd.DataFrame, rates: dict[tuple[str, str], Decimal], months: list[str], lang: str
) -> pd.DataFrame:
    rows = []
    groups = [(region, list(codes.index)) for region, codes in sites.groupby("region", sort=True)]
    for region, codes in [*groups, (t("monthly.all_sites", lang), list(sites.index))]:
        row: dict[str, Any] = {"region": region}
        for m in months:
            values = [rates[(c, m)] for c in codes if (c, m) in rates]
            mean = _mean(values)
            row[m] = math.nan if mean is None else mean
        rows.append(row)
    return pd.DataFrame(rows)


def _section_table(
    sections: pd.DataFrame, current: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    merged = sections.merge(
        current[["id", "period", "standard_id"]], left_on="workbook", right_on="id"
    )
    merged = merged[merged["applicable"] == 1]
    # A revised standard keeps codes; the name shown is the latest one.
    names = merged.sort_values("workbook").drop_duplicates(["standard_id", "code"], keep="last")
    rates: dict[tuple[str, str, str], list[Decimal]] = {}
    columns = [merged[c].tolist() for c in ("standard_id", "code", "period", "score", "points")]
    for standard_id, code, period, score, points in zip(*columns, strict=True):
        rate = _rate(score, points)
        values = rates.setdefault((standard_id, code, period), [])
        if rate is not None:
            values.append(rate)
    rows = []
    for name_row in names.sort_values(["standard_id", "code"]).itertuples():
        row: dict[str, Any] = {
            "standard_id": name_row.standard_id,
            "section_code": name_row.code,
            "section": name_row.name,
        }
        for m in months:
            mean = _mean(rates.get((name_row.standard_id, name_row.code, m), []))
            row[m] = math.nan if mean is None else mean
        rows.append(row)
    return pd.DataFrame(rows, columns=["standard_id", "section_code", "section", *months])


RANK_COLUMNS = [
    "period", "rank", "site_code", "site", "region", "percent", "previous_rank", "rank_change"
]  # fmt: skip


def _ranking(
    sites: pd.DataFrame, rates: dict[tuple[str, str], Decimal], months: list[str]
) -> pd.DataFrame:
    """Competition ranking (1, 2, 2, 4) by 得分率, highest first; 排名变化 > 0 means moved up."""
    ranks: dict[tuple[str, str], int] = {}
    names, regions = sites["site"].to_dict(), sites["region"].to_dict()
    rows = []
    for m in months:
        scored = sorted(
            ((rate, code) for (code, month), rate in rates.items() if month == m),
            key=lambda item: (-item[0], item[1]),
        )
        month_ranks = competition_ranks([rate for rate, _ in scored])
        for rank, (rate, code) in zip(month_ranks, scored, strict=True):
            assert rank is not None
            ranks[(code, m)] = rank
            before = ranks.get((code, _before(m)))
            rows.append(
                {
                    "period": m,
                    "rank": rank,
                    "site_code": code,
                    "site": names[code],
                    "region": regions[code],
                    "percent": float(rate),
                    "previous_rank": before,
                    "rank_change": None if before is None else before - rank,
                }
            )
    frame = pd.DataFrame(rows, columns=RANK_COLUMNS)
    for name in ("rank", "previous_rank", "rank_change"):
        frame[name] = frame[name].astype("Int64")
    return frame


REPEAT_COLUMNS = [
    "site_code", "site", "region", "standard_id", "criterion_code", "section", "criterion",
    "consecutive_months", "period", "problem_points_by_month", "latest_note",
]  # fmt: skip


_Failure = namedtuple(
    "_Failure",
    "site_code standard_id code period workbook section_code text problem_points note",
)


def _repeats(
    frames: HistoryFrames, current: pd.DataFrame, sites: pd.DataFrame, lang: str
) -> tuple[pd.DataFrame, list[list[Period]]]:
    """Runs of 2+ consecutive calendar months in which a site failed the same criterion, and
    the months of each run."""
    failed = frames.criteria[frames.criteria["result"] == FAIL].merge(
        current[["id", "site_code", "period", "standard_id"]], left_on="workbook", right_on="id"
    )
    sections = frames.sections
    section_names = dict(
        zip(zip(sections["workbook"], sections["code"], strict=True), sections["name"], strict=True)
    )
    names = sites["site"].to_dict()
    regions = sites["region"].to_dict()
    keys = ["site_code", "standard_id", "code"]
    # One pass over the failures sorted by site, criterion and month: cheap on 100k rows
    # (read column by column: pandas rows of string columns cost a call a cell).
    ordered = failed.sort_values([*keys, "period"])
    runs: list[list[Any]] = []
    columns = [ordered[f].tolist() for f in _Failure._fields]
    for row in map(_Failure._make, zip(*columns, strict=True)):
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and (last.site_code, last.standard_id, last.code)
            == (row.site_code, row.standard_id, row.code)
            and _before(row.period) == last.period
        ):
            runs[-1].append(row)
        else:
            runs.append([row])
    rows, run_months = [], []
    for run in runs:
        if len(run) < 2:
            continue
        last = run[-1]
        run_months.append([stored_period(r.period) for r in run])
        rows.append(
            {
                "site_code": last.site_code,
                "site": names[last.site_code],
                "region": regions[last.site_code],
                "standard_id": last.standard_id,
                "criterion_code": last.code,
                "section": section_names.get((last.workbook, last.section_code), ""),
                "criterion": last.text,
                "consecutive_months": len(run),
                "period": join(run_months[-1], lang),
                "problem_points_by_month": join([r.problem_points for r in run], lang),
                "latest_note": last.note,
            }
        )
    return pd.DataFrame(rows, columns=REPEAT_COLUMNS), run_months


RETURN_COLUMNS = [
    "period", "issued", "returned", "graded", "sent_back_not_graded", "not_returned"
]  # fmt: skip


def _by_month(frame: pd.DataFrame, *columns: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows' `columns` grouped by period, in one pass over plain lists."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    values = [frame[c].tolist() for c in ("period", *columns)]
    for period, *rest in zip(*values, strict=True):
        grouped.setdefault(period, []).append(tuple(rest))
    return grouped


def _returns(frames: HistoryFrames, current: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Counted per site and standard: a resubmitted workbook is returned once.

    退回未评 = returned but with no graded result (yet); 下发 and 未回收 need the issued
    register and are blank for months graded without one.
    """
    books = frames.workbooks
    # a sent-back file graded later (say, against the right standards folder) is one return
    regraded = (books["status"] == SENT_BACK) & (books["superseded"].astype(int) == 1)
    returned = books[(books["site_code"] != "") & ~regraded]
    back_by = _by_month(returned, "site_code", "standard_id")
    graded_by = _by_month(current, "site_code", "standard_id")
    issued_by = _by_month(frames.issued, "workbook_id", "site_code", "standard_id")
    ids_by = _by_month(books, "workbook_id")
    rows = []
    for m in months:
        back = set(back_by.get(m, ()))
        graded = set(graded_by.get(m, ()))
        issued = issued_by.get(m, [])
        ids_back = {workbook_id for (workbook_id,) in ids_by.get(m, ())}
        sites_back = {site for site, _ in back}
        missing = sum(
            1
            for workbook_id, site_code, standard_id in issued
            if workbook_id not in ids_back
            and (site_code, standard_id) not in back
            and not (standard_id == "" and site_code in sites_back)
        )
        known = bool(issued)
        rows.append(
            {
                "period": m,
                "issued": len(issued) if known else None,
                "returned": len(back),
                "graded": len(graded),
                "sent_back_not_graded": len(back - graded),
                "not_returned": missing if known else None,
            }
        )
    frame = pd.DataFrame(rows, columns=RETURN_COLUMNS)
    for name in RETURN_COLUMNS[1:]:
        frame[name] = frame[name].astype("Int64")
    return frame


# The history's columns shown in 明细, by their machine keys.
DETAIL_COLUMNS = {
    "period": "period",
    "site_code": "site_code",
    "site_name": "site",
    "region": "region",
    "standard_id": "standard_id",
    "standard_version": "standard_version",
    "score": "score",
    "max_score": "max_score",
    "percent": "percent",
    "grade": "grade",
    "inspector": "inspector",
    "inspection_date": "inspection_date",
    "graded_at": "graded_at",
    "file": "file",
    "workbook_id": "workbook_id",
}


def _detail(current: pd.DataFrame) -> pd.DataFrame:
    detail = current.sort_values(["period", "site_code", "standard_id"])[list(DETAIL_COLUMNS)]
    detail = detail.rename(columns=DETAIL_COLUMNS).reset_index(drop=True)
    for name in ("score", "max_score", "percent"):
        detail[name] = [float(Decimal(v)) if isinstance(v, str) else None for v in detail[name]]
    detail["inspection_date"] = [
        date.fromisoformat(v) if v else None for v in detail["inspection_date"]
    ]
    detail["graded_at"] = [datetime.fromisoformat(v) for v in detail["graded_at"]]
    return detail


def _versions(
    current: pd.DataFrame, months: list[str], lang: str
) -> tuple[pd.DataFrame, list[str]]:
    rows, notes = [], []
    for standard_id, group in current.groupby("standard_id", sort=True):
        by_month = {
            m: sorted(set(group[group["period"] == m]["standard_version"]), key=_version_key)
            for m in months
        }
        for m, versions in by_month.items():
            if versions:
                rows.append(
                    {"period": m, "standard_id": standard_id, "versions": join(versions, lang)}
                )
        every = sorted(set(group["standard_version"]), key=_version_key)
        if len(every) > 1:
            spans = Clauses(
                Ref.to(
                    "monthly.data_note.version_months",
                    version=v,
                    months=[m for m, vs in by_month.items() if v in vs],
                )
                for v in every
            )
            notes.append(
                t(
                    "monthly.data_note.versions",
                    lang,
                    standard=standard_id,
                    count=len(every),
                    spans=spans,
                    detail=t("monthly.sheets.detail", lang),
                    column=column("standard_version", lang),
                )
            )
    return pd.DataFrame(rows, columns=["period", "standard_id", "versions"]), notes


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-]", version))


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


__all__ = [
    "MonthlyError",
    "MonthlyReport",
    "check_month",
    "check_month_order",
    "monthly_report",
]
