"""The account printed after grading (by the CLI and the demo): counts, then every file and
site by what HQ must do (send back, chase, check), each with its first problem.
"""

from __future__ import annotations

from audit_xls.i18n import Ref, join, namespace, t
from audit_xls.model.diagnostics import ERROR, Diagnostic
from audit_xls.model.results import BatchResult, WorkbookResult

# --- the account printed after grading (CLI and demo) ---------------------------------------

ACCOUNT_LIMIT = 10


def _located(d: Diagnostic, lang: str) -> str:
    where = f"{d.sheet}!{d.cell} " if d.cell else (f"{d.sheet} " if d.sheet else "")
    return where + d.render(lang)


def _first_problem(w: WorkbookResult, lang: str) -> str:
    return _located(w.errors[0], lang)


def _group(
    lines: list[str], header: str, items: list[str], limit: int, more_sheet: str, lang: str
) -> None:
    """A group of the account: its header, up to `limit` items, then how many more and where."""
    if not items:
        return
    lines.append(header)
    lines += items[:limit]
    if len(items) > limit:
        lines.append(t("account.more", lang, count=len(items) - limit, sheet=more_sheet))


def account_lines(batch: BatchResult, lang: str = "zh", limit: int = ACCOUNT_LIMIT) -> list[str]:
    """What a person reads after grading: the counts, then every file and site by what HQ must
    do (send back, chase, check), each named with its first problem located by sheet and cell,
    up to `limit` a group and then how many more and which summary sheet lists them all."""
    sheets = namespace("summary.sheets", lang)
    lines = [
        t(
            "account.counts",
            lang,
            read=Ref.to("count.workbook_files", count=len(batch.workbooks)),
            graded=len(batch.graded),
            sent_back=len(batch.sent_back),
            skipped=Ref.to("count.files", count=len(batch.skipped)),
            missing=(
                t("account.missing_unknown", lang)
                if batch.issued_count is None
                else t("account.missing", lang, count=len(batch.missing))
            ),
        )
    ]

    def more(count: int) -> str:
        return t("account.more_problems", lang, count=count) if count else ""

    send_back = [
        t(
            "account.sent_back",
            lang,
            file=w.file,
            problem=_first_problem(w, lang),
            more=more(len(w.errors) - 1),
        )
        for w in batch.sent_back
    ]
    _group(lines, t("account.group.send_back", lang, count=len(send_back)), send_back, limit,
           sheets["diagnostics"], lang)  # fmt: skip
    chase = [
        t(
            "account.missing_site",
            lang,
            site_code=m.site_code,
            site_name=m.site_name,
            region=m.region or t("summary.unknown_region", lang),
        )
        for m in sorted(batch.missing, key=lambda m: (m.period, m.region, m.site_code))
    ]
    _group(lines, t("account.group.chase", lang, count=len(chase)), chase, limit,
           sheets["missing"], lang)  # fmt: skip
    check: list[str] = []
    for w in sorted(batch.graded, key=lambda w: w.file):
        warnings = [d for d in w.diagnostics if d.severity != ERROR]
        if warnings:
            problem = _located(warnings[0], lang)
            check.append(
                t(
                    "account.warning",
                    lang,
                    file=w.file,
                    problem=problem,
                    more=more(len(warnings) - 1),
                )
            )
    check += [
        t("account.superseded", lang, file=w.file, newer=w.duplicate_of) for w in batch.superseded
    ]
    check += [
        t("account.skipped", lang, file=s.file, reason=s.reason)
        for s in batch.skipped
        if not s.junk
    ]
    _group(lines, t("account.group.check", lang, count=len(check)), check, limit,
           sheets["warnings"], lang)  # fmt: skip
    junk = [s.file for s in batch.skipped if s.junk]
    if junk:
        shown = join(junk[:limit], lang)
        if len(junk) > limit:
            shown += " " + t("account.more_files", lang, count=len(junk) - limit)
        lines.append(t("account.group.ignored", lang, count=len(junk), files=shown))
    return lines
