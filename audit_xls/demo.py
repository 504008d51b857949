"""The whole product in one command: issue, fill, return, grade and summarise a few months.

Workbooks are built for every sample site and month, filled as supervisors would (input cells
only) and, when LibreOffice is installed, saved by it as a spreadsheet application would. A few
returns carry the mistakes real ones do. Each month is graded into a history, and the history
is summarised by month. Deterministic for a given seed.
"""

from __future__ import annotations

import io
import random
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from audit_xls import data, i18n, soffice
from audit_xls.grading import grade
from audit_xls.grading.register import read_issued, register_path
from audit_xls.grading.sites import Site, load_sites
from audit_xls.history import store as history
from audit_xls.history.monthly import monthly_report
from audit_xls.history.monthly_workbook import write_monthly
from audit_xls.i18n import DEFAULT_LANG, Clauses, Ref, Said, t
from audit_xls.model.period import Period, PeriodError, parse_period
from audit_xls.model.results import BatchResult, WorkbookResult
from audit_xls.model.score import FAIL, NA, PASS
from audit_xls.model.standard import Standard
from audit_xls.outputs.console import account_lines
from audit_xls.outputs.exports import write_csv
from audit_xls.outputs.summary import write_summary
from audit_xls.rectify import ledger, recheck
from audit_xls.rectify.collect import collect_replies
from audit_xls.rectify.notices import NCol, write_notices
from audit_xls.rectify.recheck import plan_rechecks
from audit_xls.rectify.report import write_report
from audit_xls.standards.loader import load_standard
from audit_xls.workbook import build
from audit_xls.workbook.layout import COVER_ROW, COVER_VALUE_COL, Col, Layout
from audit_xls.workbook.template import load_template

DEMO_STANDARD = data.shipped_standard()
DEMO_SITES = data.sample_sites()
MARKER = ".audit-xls-demo"
# The made-up people and notes a supervisor writes come from i18n (demo.fill.*), in --lang:
# demo.fill.inspectors, demo.fill.managers and demo.fill.follow_ups are lists of the same
# length in either language, so a seed gives the same choices in both.

# Quality over the months: (first month's failure rate, last month's).
PROFILES = {
    "steady": (0.03, 0.03),
    "good": (0.01, 0.01),
    "improving": (0.22, 0.04),
    "declining": (0.03, 0.20),
    "weak": (0.14, 0.12),
}

# The mistakes real returns carry: (month offset, site index, mistake).
MISTAKES = (
    (0, 5, "unanswered"),
    (0, 17, "missing"),
    (1, 2, "pass_with_points"),
    (1, 9, "typed_text"),
    (1, 13, "xls"),
    (2, 4, "edited_text"),
    (2, 11, "ods"),
    (2, 20, "missing"),
    (2, 7, "no_count"),
    (2, 0, "lock_file"),
)


class DemoError(Said, RuntimeError):
    """Raised when the demo's output folder is not one the demo may overwrite."""


@dataclass
class MonthRun:
    period: Period
    batch: BatchResult
    summary: Path
    csv: Path


@dataclass
class CycleRun:
    """The supervision cycle of one month: notices issued, replies collected."""

    period: Period
    notices: int
    problems: int
    replies: list[tuple[str, int, int]]  # (reply date, accepted, sent back) per collection
    silent: list[str]  # sites that did not reply


@dataclass
class DemoResult:
    out: Path
    months: list[MonthRun] = field(default_factory=list)
    monthly: Path | None = None
    history: Path | None = None
    used_soffice: bool = False
    cycles: list[CycleRun] = field(default_factory=list)


def month_periods(start: Period | str, count: int) -> list[Period]:
    """`count` consecutive months from `start` (a Period, or YYYY-MM text)."""
    months = [start if isinstance(start, Period) else parse_period(start)]
    while len(months) < count:
        months.append(months[-1].next())
    return months


class DemoStartError(DemoError):
    """A --start that is no month, or whose months would go past 9999-12: a usage error."""

    option = "--start"


def demo_months(start: str, count: int) -> list[Period]:
    """The demo's `count` months from `start` (YYYY-MM text), or DemoStartError saying why
    not (period's own words for a bad month)."""
    try:
        first = parse_period(start)
    except PeriodError as error:
        raise DemoStartError(error.key, **error.params) from None
    try:
        return month_periods(first, count)
    except PeriodError:  # the last month must exist too (after 9999-12 none does)
        raise DemoStartError("cli.demo.past_9999", start=start, months=count) from None


def _prepare(out: Path) -> None:
    """Empty a previous demo's folder; refuse any other non-empty folder."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise DemoError("demo.not_demo_folder", out=out)
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("audit-xls demo output; safe to delete\n", encoding="utf-8")


def _short(text: str) -> str:
    for stop in "，,。;；:：":
        text = text.split(stop, 1)[0]
    return text[:24]


@dataclass(frozen=True)
class Filling:
    results: dict[str, tuple[str, int | None, str]]  # code -> (result, points, note)
    inspection_day: int
    inspector: str
    manager: str


def _fill_plan(
    standard: Standard,
    site_index: int,
    month_index: int,
    months: int,
    rng: random.Random,
    lang: str = DEFAULT_LANG,
) -> Filling:
    profile = list(PROFILES)[site_index % len(PROFILES)]
    first, last = PROFILES[profile]
    progress = month_index / (months - 1) if months > 1 else 0.0
    rate = first + (last - first) * progress
    # Two thirds of the projects are past delivery: 房屋交付 does not apply to them.
    mature = site_index % 3 != 0
    results: dict[str, tuple[str, int | None, str]] = {}
    for section in standard.sections:
        for criterion in section.criteria:
            if mature and section.name == "房屋交付":
                results[criterion.code] = (NA, None, "")
            elif rng.random() < rate:
                points = rng.choice((1, 1, 1, 2, 2, 3))
                follow_up = rng.choice(i18n.entry("demo.fill.follow_ups", lang))
                short = _short(criterion.text)  # the standard's words: data, not translated
                note = t("demo.fill.note", lang, text=short, count=points, follow_up=follow_up)
                results[criterion.code] = (FAIL, points, note)
            else:
                results[criterion.code] = (PASS, None, "")
    return Filling(
        results,
        inspection_day=rng.randint(3, 25),
        inspector=rng.choice(i18n.entry("demo.fill.inspectors", lang)),
        manager=rng.choice(i18n.entry("demo.fill.managers", lang)),
    )


def fill_workbook(
    data: bytes,
    layout: Layout,
    filling: Filling,
    period: Period,
    mistake: str | None,
    lang: str = DEFAULT_LANG,
) -> bytes:
    """Write a supervisor's answers into the input cells of an issued workbook."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    labels = layout.template.results
    cover = book[layout.cover_sheet]
    inspected = period.first_day.replace(day=filling.inspection_day)
    cover.cell(COVER_ROW["inspection_date"] + 1, COVER_VALUE_COL + 1).value = inspected
    cover.cell(COVER_ROW["inspector"] + 1, COVER_VALUE_COL + 1).value = filling.inspector
    cover.cell(COVER_ROW["site_manager"] + 1, COVER_VALUE_COL + 1).value = filling.manager
    sheet = book[layout.checklist_sheet]
    codes = list(filling.results)
    for code, (result, points, note) in filling.results.items():
        row = layout.criterion_row[code] + 1
        sheet.cell(row, Col.RESULT + 1).value = labels[result]
        if points is not None:
            sheet.cell(row, Col.POINTS + 1).value = points
        if note:
            sheet.cell(row, Col.NOTE + 1).value = note
    if mistake == "unanswered":
        for code in codes[3:5]:
            sheet.cell(layout.criterion_row[code] + 1, Col.RESULT + 1).value = None
    elif mistake == "pass_with_points":
        code = next(c for c in codes if filling.results[c][0] == PASS)
        sheet.cell(layout.criterion_row[code] + 1, Col.POINTS + 1).value = 2
    elif mistake == "typed_text":
        code = codes[1]
        row = layout.criterion_row[code] + 1
        sheet.cell(row, Col.RESULT + 1).value = labels[FAIL]
        sheet.cell(row, Col.POINTS + 1).value = t("demo.fill.typed_points", lang)
    elif mistake == "edited_text":
        row = layout.criterion_row[codes[5]] + 1
        cell = sheet.cell(row, Col.TEXT + 1)
        cell.value = str(cell.value).replace("三响内", "五响内")
    elif mistake == "no_count":
        row = layout.criterion_row[codes[0]] + 1
        sheet.cell(row, Col.RESULT + 1).value = labels[FAIL]
        sheet.cell(row, Col.POINTS + 1).value = None
        sheet.cell(row, Col.NOTE + 1).value = t("demo.fill.no_count_note", lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _resave(files: list[Path], to: str, extension: str) -> list[Path]:
    """Save files through LibreOffice as a supervisor's application would, in place."""
    with tempfile.TemporaryDirectory(prefix="audit-xls-demo-") as tmp:
        outputs = soffice.convert(files, to, Path(tmp))
        final = []
        for source, output in zip(files, outputs, strict=True):
            target = source.with_suffix(f".{extension}")
            shutil.move(output, target)
            if target != source:
                source.unlink()
            final.append(target)
    return final


def run_demo(
    out: Path,
    *,
    months: int = 3,
    seed: int = 7,
    start: Period | str = "2026-09",
    use_soffice: bool = True,
    echo: Callable[[str], None] = print,
    lang: str = DEFAULT_LANG,
) -> DemoResult:
    """The demo in `lang`: workbooks built with that language's template, summaries, CSVs,
    replies reports, the monthly workbook and their file names, and what is echoed. (The
    sample sites and the shipped standard are HQ's data: their words stay as written.)"""
    out = Path(out)
    _prepare(out)
    standard = load_standard(DEMO_STANDARD)
    sites = load_sites(DEMO_SITES)
    layout = Layout(standard, load_template(lang))
    rng = random.Random(seed)
    result = DemoResult(out, history=out / "history.sqlite")
    result.used_soffice = use_soffice and soffice.find_soffice() is not None
    periods = month_periods(start, months)
    for month_index, period in enumerate(periods):
        echo(t("demo.progress", lang, period=str(period), count=len(sites)))
        issued_dir = out / "issued" / str(period)
        rechecks = (
            plan_rechecks(result.history, standard.id, period, [s.code for s in sites], lang)
            if month_index
            else {}
        )
        entries = build.build_all(
            standard,
            sites,
            period,
            issued_dir,
            issued_on=period.first_day,
            rechecks=rechecks,
            template=lang,
        )
        mistakes = {
            site_index: mistake
            for offset, site_index, mistake in MISTAKES
            if offset % months == month_index and site_index < len(sites)
        }
        returns = out / "returns" / str(period)
        returns.mkdir(parents=True)
        written: dict[str, list[Path]] = {"xlsx": [], "xls": [], "ods": []}
        for site_index, entry in enumerate(entries):
            filling = _fill_plan(standard, site_index, month_index, months, rng, lang)
            mistake = mistakes.get(site_index)
            if mistake == "missing":
                continue
            data = (issued_dir / entry.file).read_bytes()
            target = returns / entry.file
            filled = fill_workbook(data, layout, filling, period, mistake, lang)
            if entry.site_code in rechecks:
                items = rechecks[entry.site_code]
                filled = recheck_workbook(filled, layout, items, site_index, lang)
            target.write_bytes(filled)
            written.get(mistake or "xlsx", written["xlsx"]).append(target)
            if mistake == "lock_file":
                (returns / f"~${entry.file}").write_bytes(b"\x00" * 165)
        if result.used_soffice:
            _resave(written["xlsx"], "xlsx", "xlsx")
            _resave(written["xls"], "xls:MS Excel 97", "xls")
            _resave(written["ods"], "ods", "ods")
        result.months.append(_grade_month(out, period, standard, returns, issued_dir, result, lang))
        result.cycles.append(_rectify_month(out, period, standard, sites, result, lang))
    result.monthly = out / "reports" / t("demo.file.monthly", lang)
    as_of = periods[-1].last_day
    write_monthly(monthly_report(result.history, as_of=as_of, lang=lang), result.monthly, lang)
    return result


# --- the supervision cycle (整改 → 复查, docs/rectification.md) ------------------------------
# Most sites reply to their notice at the month's end; a few reply late (the 2nd of the next
# month), a few never; LIAR claims every fix and the next inspection finds them not fixed.
SILENT = (3, 10, 19)
LATE = (2, 14)
LIAR = 12  # HB001


def recheck_workbook(
    data: bytes, layout: Layout, items: Sequence[Any], site_index: int, lang: str = DEFAULT_LANG
) -> bytes:
    """The supervisor's 复查结果: a fix the site reported (已整改待复查, 整改中) is found fixed,
    except at LIAR; a problem nobody answered for is found not fixed."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[layout.checklist_sheet]
    first = recheck.first_row(layout.last_item_row) + 2
    claimed = (ledger.status_label(ledger.CLAIMED), ledger.status_label(ledger.IN_PROGRESS))
    words = layout.template["recheck"]["verdicts"]
    for i, item in enumerate(items):
        fixed = item.reply.startswith(claimed) and site_index != LIAR
        verdict = recheck.FIXED if fixed else recheck.NOT_FIXED
        sheet.cell(first + i + 1, Col.RESULT + 1).value = words[verdict]
        if not fixed:
            sheet.cell(first + i + 1, Col.NOTE + 1).value = t("demo.fill.not_fixed_note", lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _reply(
    data: bytes, notice: Any, today: date, inspected: date, lang: str = DEFAULT_LANG
) -> bytes:
    """A site's answers on its notice, in `lang`: every fourth problem still in progress."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    labels = load_template(notice.template)
    cover = book[labels.sheets["cover"]]
    cover.cell(COVER_ROW["site_manager"] + 1, COVER_VALUE_COL + 1).value = t(
        "demo.reply.manager", lang
    )
    sheet = book[labels.sheets["checklist"]]
    statuses = labels["statuses"]
    for i, item in enumerate(notice.items):
        row = item.row_index + 1
        if i % 4 == 3:
            sheet.cell(row, NCol.STATUS + 1).value = statuses[ledger.IN_PROGRESS]
            sheet.cell(row, NCol.DONE + 1).value = today + timedelta(days=10)
        else:
            sheet.cell(row, NCol.STATUS + 1).value = statuses[ledger.CLAIMED]
            sheet.cell(row, NCol.MEASURE + 1).value = t("demo.reply.measure", lang)
            done = max(inspected, date.fromisoformat(item.inspection_date or inspected.isoformat()))
            sheet.cell(row, NCol.DONE + 1).value = min(today, done + timedelta(days=2))
        sheet.cell(row, NCol.OWNER + 1).value = t("demo.reply.owner", lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rectify_month(
    out: Path,
    period: Period,
    standard: Standard,
    sites: Sequence[Site],
    result: DemoResult,
    lang: str = DEFAULT_LANG,
) -> CycleRun:
    assert result.history is not None
    month = period
    issued_on = month.last_day - timedelta(days=3)
    folder = out / "notices" / str(period)
    written = write_notices(result.history, period, folder, [standard], issued_on, lang=lang)
    index = {s.code: i for i, s in enumerate(sites)}
    batches: dict[date, dict[str, bytes]] = {}
    silent = []
    for notice in written.notices:
        i = index.get(notice.site.code, 0)
        if i in SILENT:
            silent.append(notice.site.code)
            continue
        today = month.last_day if i not in LATE else month.last_day + timedelta(days=2)
        data = (folder / notice.file).read_bytes()
        batches.setdefault(today, {})[notice.file] = _reply(data, notice, today, issued_on, lang)
    replies = []
    for today, files in sorted(batches.items()):
        where = out / "replies" / f"{period}-{today.isoformat()}"
        where.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (where / name).write_bytes(data)
        collected = collect_replies(where, result.history, today=today, lang=lang)
        report = out / "reports" / t("demo.file.replies", lang, day=today.isoformat())
        write_report(report, collected, lang)
        replies.append((today.isoformat(), len(collected.accepted), len(collected.sent_back)))
    problems = sum(len(n.items) for n in written.notices)
    return CycleRun(period, len(written.notices), problems, replies, silent)


def _grade_month(
    out: Path,
    period: Period,
    standard: Standard,
    returns: Path,
    issued_dir: Path,
    result: DemoResult,
    lang: str = DEFAULT_LANG,
) -> MonthRun:
    issued = read_issued(register_path(issued_dir, period))
    batch = grade.grade_returns(returns, [standard], issued, lang=lang)
    reports = out / "reports"
    reports.mkdir(exist_ok=True)
    run = MonthRun(
        period,
        batch,
        reports / t("demo.file.summary", lang, period=str(period)),
        reports / t("demo.file.details", lang, period=str(period)),
    )
    write_summary(batch, run.summary, lang=lang)
    write_csv(batch, run.csv, lang=lang)
    assert result.history is not None
    history.record_batch(result.history, batch)
    return run


def account(result: DemoResult, lang: str = DEFAULT_LANG) -> list[str]:
    """A short, readable account of what the demo did, for the terminal, in `lang`."""
    lines = []
    for run in result.months:
        month = account_lines(run.batch, lang)
        b = run.batch
        lines.append(
            t("demo.month", lang, period=str(run.period), issued=b.issued_count, first=month[0])
        )
        lines += month[1:]
    last = result.months[-1].batch
    ranked = sorted(
        (w for w in last.graded if w.card and w.card.percent is not None),
        key=lambda w: w.card.percent,  # type: ignore[union-attr]
    )
    if ranked:

        def show(w: WorkbookResult) -> Ref:
            assert w.card is not None
            return Ref.to(
                "demo.site", name=w.site_name, region=w.region, percent=w.card.percent,
                grade=w.card.grade,
            )  # fmt: skip

        period = str(result.months[-1].period)
        best = Clauses(show(w) for w in ranked[-3:][::-1])
        lines.append(t("demo.best", lang, period=period, sites=best))
        lines.append(
            t("demo.worst", lang, period=period, sites=Clauses(show(w) for w in ranked[:3]))
        )
    for cycle in result.cycles:
        replied = t("demo.replied_separator", lang).join(
            t("demo.replied", lang, day=day, count=ok) for day, ok, _ in cycle.replies
        )
        lines.append(
            t(
                "demo.cycle",
                lang,
                period=str(cycle.period),
                notices=Ref.to("demo.notices", count=cycle.notices),
                problems=Ref.to("demo.problems", count=cycle.problems),
                replied=replied or Ref.to("demo.replied_none"),
                silent=Ref.to("demo.silent", count=len(cycle.silent)),
            )
        )
    lines.append(t("demo.outputs", lang))
    lines.append(t("demo.out.issued", lang, path=result.out / "issued"))
    lines.append(t("demo.out.returns", lang, path=result.out / "returns"))
    for run in result.months:
        lines.append(f"  {run.summary}")
        lines.append(f"  {run.csv}")
    lines.append(t("demo.out.history", lang, path=result.history))
    lines.append(
        t("demo.out.notices", lang, notices=result.out / "notices", replies=result.out / "replies")
    )
    lines.append(t("demo.out.monthly", lang, path=result.monthly))
    if not result.used_soffice:
        lines.append(t("demo.no_soffice", lang))
    return lines


__all__ = ["DemoError", "DemoResult", "Site", "account", "fill_workbook", "run_demo"]
