"""What `monthly` shows of the supervision cycle: 整改台账, 整改完成率, 逾期未整改.

Built from the ledger's replay (every problem with its whole story), filtered like the other
pivots (months, standard, region). Definitions (docs/rectification.md):
- 整改完成率 of a month: of the problems found that month whose deadline has passed by the
  as-of date (应整改), the share closed at a re-check (已整改, verified) by then; per site, per
  region and for all sites, each a ratio of counts (not a mean of rates), rounded half up to 2;
- 逾期未整改: problems 待整改 or 整改中 whose deadline is before the as-of date, most days first.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd

from audit_xls.i18n import DEFAULT_LANG, entry, t
from audit_xls.model.codes import EventKind
from audit_xls.model.period import Period
from audit_xls.model.score import round2
from audit_xls.rectify import ledger
from audit_xls.rectify.ledger import CLAIMED, CLOSED, WITHDRAWN, ProblemState


@dataclass
class LedgerReport:
    as_of: date
    ledger: pd.DataFrame  # 整改台账: one row per problem, its whole story
    completion: pd.DataFrame  # 整改完成率: month x (site | region | all)
    overdue: pd.DataFrame  # 逾期未整改
    states: dict[str, ProblemState]
    lang: str = DEFAULT_LANG  # of the headers and the words in cells
    # per 整改台账 row: (the finding's photo files, the after-photo files), as recorded
    photos: list[tuple[list[str], list[str]]] = field(default_factory=list)
    # where the workbook goes: its photo links are relative to it (None: absolute)
    link_folder: Path | None = None


def _columns(key: str, lang: str) -> list[str]:
    return list(entry(f"rectify.monthly.columns.{key}", lang))


def ledger_report(
    history: str | Path,
    from_: Period | None,
    to: Period | None,
    standard: str | None,
    region: str | None,
    as_of: date,
    lang: str = DEFAULT_LANG,
) -> LedgerReport | None:
    """The ledger's part of the monthly report (for a history older than the ledger, the
    problems its upgrade would record), worded in `lang`."""
    from audit_xls.history.store import conditions, has_ledger, read_connection

    where, params = conditions(
        ("p.period >= ?", from_),
        ("p.period <= ?", to),
        ("p.standard_id = ?", standard),
        ("p.region = ?", region),
    )
    with read_connection(history) as conn:
        if has_ledger(conn):
            states = ledger.replay(conn, where=where, params=params)
        else:  # an older history, read as it is: what its upgrade would record
            states = {
                pid: state
                for pid, state in ledger.implied_states(conn).items()
                if (from_ is None or state.period >= from_)
                and (to is None or state.period <= to)
                and (standard is None or state.standard_id == standard)
                and (region is None or state.region == region)
            }
        problems = [s for s in states.values() if s.status != WITHDRAWN]
        found = ledger.problem_photos(conn, {p.id: p for p in problems})
    photos = [found.get(p.id, ([], [])) for p in problems]
    return LedgerReport(
        as_of,
        _ledger(problems, as_of, lang, photos),
        _completion(problems, as_of, lang),
        _overdue(problems, as_of, lang),
        states,
        lang,
        photos,
    )


def _ledger(
    problems: list[ProblemState],
    as_of: date,
    lang: str,
    photos: list[tuple[list[str], list[str]]],
) -> pd.DataFrame:
    yes = t("rectify.report.yes", lang)
    rows = []
    for p, (before, after) in zip(problems, photos, strict=True):
        rows.append(
            [
                *_which(p),
                p.problem_points,
                float(Decimal(p.deduction)) if p.deduction else None,
                p.inspection_date,
                p.deadline,
                yes if p.assumed else "",
                p.notified_on,
                p.replied_on,
                ledger.status_label(p.reply_status, lang) if p.reply_status else "",
                p.measure,
                p.owner,
                p.done_date,
                yes if p.late else "",
                p.rechecked_on,
                p.reopened,
                ledger.status_label(p.status, lang),
                p.closed_on,
                p.days_to_close,
                p.overdue_days(as_of) or None,
                len(before) or None,
                len(after) or None,
            ]
        )
    return pd.DataFrame(rows, columns=_columns("ledger", lang))


def _which(p: ProblemState) -> list[Any]:
    """The cells that say which problem a row is (整改台账 and 逾期未整改 begin with them)."""
    return [p.site_code, p.site_name, p.region, str(p.period), p.code, p.text, p.note]


def _rate(closed: int, due: int) -> float | None:
    return float(round2(Decimal(closed) / Decimal(due) * 100)) if due else None


def _completion(problems: list[ProblemState], as_of: date, lang: str) -> pd.DataFrame:
    all_label = t("monthly.all_sites", lang)
    counts: dict[tuple[Period, str, str, str], list[int]] = {}
    for p in problems:
        if not p.deadline or date.fromisoformat(p.deadline) >= as_of:
            continue  # not due yet
        closed = int(
            p.status == CLOSED
            and p.closed_on is not None
            and date.fromisoformat(p.closed_on) <= as_of
        )
        for key in (
            (p.period, p.region, p.site_code, p.site_name),
            (p.period, p.region, "", t("rectify.monthly.region_total", lang)),
            (p.period, all_label, "", ""),
        ):
            found = counts.setdefault(key, [0, 0])
            found[0] += 1
            found[1] += closed
    rows = [
        [str(period), region, code, name, due, closed, _rate(closed, due)]
        for (period, region, code, name), (due, closed) in sorted(
            counts.items(),
            key=lambda item: (
                item[0][0],
                item[0][1] == all_label,
                item[0][1],
                item[0][2] == "",
                item[0][2],
            ),
        )
    ]
    return pd.DataFrame(rows, columns=_columns("completion", lang))


def _overdue(problems: list[ProblemState], as_of: date, lang: str) -> pd.DataFrame:
    late = sorted(
        (p for p in problems if p.overdue_days(as_of) > 0),
        key=lambda p: (-p.overdue_days(as_of), p.site_code, p.period, p.code),
    )
    rows = [
        [
            *_which(p),
            p.deadline,
            p.overdue_days(as_of),
            ledger.status_label(p.status, lang),
            p.notified_on,
            p.replied_on,
            p.reopened,
        ]
        for p in late
    ]
    return pd.DataFrame(rows, columns=_columns("overdue", lang))


def claimed_before(
    report: LedgerReport | None, repeats: pd.DataFrame, run_months: list[list[Period]]
) -> list[list[Period]]:
    """For each row of 反复问题 (and its months): the months whose problem the site had
    reported fixed (已整改) before the next inspection found it again (none: [])."""
    if report is None or repeats.empty:
        return [[] for _ in range(len(repeats))]
    by_key: dict[tuple[str, Period, str], ProblemState] = {
        (p.site_code, p.period, p.code): p for p in report.states.values()
    }
    out = []
    for row, months in zip(repeats.itertuples(index=False), run_months, strict=True):
        site, code = row[0], row[4]
        claimed = []
        for earlier, later in pairwise(months):
            before = by_key.get((site, earlier, code))
            after = by_key.get((site, later, code))
            if before is None:
                continue
            limit = after.inspection_date if after is not None else None
            if any(
                e.kind == EventKind.REPLIED
                and e.status == CLAIMED
                and (limit is None or e.event_date <= limit)
                for e in before.events
            ):
                claimed.append(earlier)
        out.append(claimed)
    return out


SHEETS = {
    "ledger": "RectifyLedger",
    "completion": "RectifyCompletion",
    "overdue": "RectifyOverdue",
}
# (kind, width) of each column. Long texts wrap (rows as tall as their text) in narrow columns,
# so the sheets print at a readable size on A4 landscape: 逾期未整改 one page wide; 整改台账's
# 27 columns two pages wide, read across (a page of the first columns, then the page of the
# rest of the same rows), each page repeating the columns that say which problem it is.
_SITE = [("text", 8.0), ("wrap", 10.0), ("text", 8.0), ("text", 8.5), ("text", 7.0)]
COLUMNS: dict[str, list[tuple[str, float]]] = {
    "ledger": [
        *_SITE,
        ("wrap", 20.0),  # 检查标准
        ("wrap", 18.0),  # 问题描述
        ("int", 5.0),  # 问题点数
        ("num", 6.0),  # 扣分
        ("text", 11.0),  # 检查日期
        ("text", 11.0),  # 整改期限
        ("text", 5.0),  # 期限为假定
        ("text", 11.0),  # 通知日期
        ("text", 11.0),  # 回复日期
        ("wrap", 8.0),  # 回复状态
        ("wrap", 14.0),  # 整改措施
        ("wrap", 7.0),  # 责任人
        ("text", 11.0),  # 完成日期
        ("text", 5.0),  # 逾期整改
        ("text", 11.0),  # 复查日期
        ("int", 6.0),  # 复查未整改次数
        ("wrap", 8.0),  # 状态
        ("text", 11.0),  # 关闭日期
        ("int", 6.0),  # 整改天数
        ("int", 6.0),  # 逾期天数
        ("int", 5.0),  # 问题照片 (a link to the first file)
        ("int", 5.0),  # 整改照片
    ],
    "completion": [
        ("text", 9.0),
        ("text", 12.0),
        ("text", 10.0),
        ("wrap", 14.0),
        ("int", 9.0),
        ("int", 9.0),
        ("pct", 10.0),
    ],
    "overdue": [
        *_SITE,
        ("wrap", 24.0),  # 检查标准
        ("wrap", 22.0),  # 问题描述
        ("text", 11.0),  # 整改期限
        ("int", 6.0),  # 逾期天数
        ("wrap", 8.0),  # 状态
        ("text", 11.0),  # 通知日期
        ("text", 11.0),  # 回复日期
        ("int", 6.0),  # 复查未整改次数
    ],
}
LEDGER_PAGES_WIDE = 2
TITLE_COLUMNS = len(_SITE)  # 项目编码 to 编号: repeated on each page of a printed row


def add_sheets(
    book: Any, formats: Any, report: LedgerReport, footer: str, lang: str | None = None
) -> None:
    """整改台账, 整改完成率, 逾期未整改 as Excel Tables (after monthly's own sheets), in `lang`
    (default: the report's)."""
    from audit_xls.outputs.xlsx import Column, add_table_sheet, table_header_row

    lang = lang or report.lang
    for key, table in SHEETS.items():
        frame: pd.DataFrame = getattr(report, key)
        columns = [
            Column(h, kind, width)
            for h, (kind, width) in zip(_columns(key, lang), COLUMNS[key], strict=True)
        ]
        rows = [[None if _missing(v) else v for v in r] for r in frame.itertuples(index=False)]
        title = t(f"rectify.monthly.titles.{key}", lang, as_of=report.as_of.isoformat())
        note = t(f"rectify.monthly.notes.{key}", lang)
        sheet = add_table_sheet(
            book,
            formats,
            t(f"rectify.monthly.sheets.{key}", lang),
            table,
            columns,
            rows,
            title=title,
            note=note,
            footer=footer,
        )
        if key == "ledger":
            sheet.fit_to_pages(LEDGER_PAGES_WIDE, 0)
            sheet.repeat_columns(0, TITLE_COLUMNS - 1)
            sheet.print_across()
            _photo_links(sheet, formats, report, table_header_row(title, note) + 1, len(columns))


def _photo_links(sheet: Any, formats: Any, report: LedgerReport, first: int, width: int) -> None:
    """问题照片 and 整改照片 (the ledger's last two columns): each count a link to the first
    photo file, relative to the workbook's folder when known. Paths are the history's (ours)."""
    for offset, (before, after) in enumerate(report.photos):
        for col, files in ((width - 2, before), (width - 1, after)):
            if not files:
                continue
            target = files[0]
            if report.link_folder is not None:
                with contextlib.suppress(ValueError):  # another drive (Windows): absolute
                    target = os.path.relpath(target, report.link_folder)
            sheet.write_url(
                first + offset, col, "external:" + Path(target).as_posix(), formats.int,
                str(len(files)),
            )  # fmt: skip


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --json keys (machine keys, English and stable, like monthly's COLUMN_KEYS), by column.
MACHINE_KEYS = {
    "ledger": (
        "site_code", "site", "region", "period", "criterion_code", "criterion", "note",
        "problem_points", "deduction", "inspection_date", "deadline", "deadline_assumed",
        "notified_on", "replied_on", "reply_status", "measure", "owner", "done_date", "late",
        "rechecked_on", "found_not_fixed", "status", "closed_on", "days_to_close", "days_overdue",
        "photos_before", "photos_after",
    ),
    "completion": ("period", "region", "site_code", "site", "due", "closed", "percent"),
    "overdue": (
        "site_code", "site", "region", "period", "criterion_code", "criterion", "note",
        "deadline", "days_overdue", "status", "notified_on", "replied_on", "found_not_fixed",
    ),
}  # fmt: skip


def to_json(report: LedgerReport | None) -> dict[str, Any]:
    if report is None:
        return {"rectification": None}

    def records(frame: pd.DataFrame, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [
            {
                k: (None if _missing(v) else (v.item() if hasattr(v, "item") else v))
                for k, v in zip(keys, row, strict=True)
            }
            for row in frame.itertuples(index=False)
        ]

    return {
        "rectification": {
            "as_of": report.as_of.isoformat(),
            "ledger": [
                {**record, "photo_files_before": before, "photo_files_after": after}
                for record, (before, after) in zip(
                    records(report.ledger, MACHINE_KEYS["ledger"]), report.photos, strict=True
                )
            ],
            "completion": records(report.completion, MACHINE_KEYS["completion"]),
            "overdue": records(report.overdue, MACHINE_KEYS["overdue"]),
        }
    }
