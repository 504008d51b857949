"""The account printed after grading (by the CLI and the demo): counts, then each file to act
on with its first problem.
"""

from __future__ import annotations

from audit_xls.i18n import Ref, t
from audit_xls.model.results import BatchResult, WorkbookResult

# --- the account printed after grading (CLI and demo) ---------------------------------------

ACCOUNT_LIMIT = 10


def _first_problem(w: WorkbookResult, lang: str) -> str:
    first = w.errors[0]
    where = (
        f"{first.sheet}!{first.cell} " if first.cell else (f"{first.sheet} " if first.sheet else "")
    )
    return where + first.render(lang)


def account_lines(batch: BatchResult, lang: str = "zh", limit: int = ACCOUNT_LIMIT) -> list[str]:
    """What a person reads after grading: counts, then each file to act on with its first
    problem, located by sheet and cell (every problem is in the summary's 退回清单)."""
    superseded = batch.superseded
    shown = len(batch.sent_back) + len(batch.skipped) + len(superseded)
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
    for w in batch.sent_back[:limit]:
        more = (
            t("account.more_problems", lang, count=len(w.errors) - 1) if len(w.errors) > 1 else ""
        )
        lines.append(
            t("account.sent_back", lang, file=w.file, problem=_first_problem(w, lang), more=more)
        )
    lines += [
        t("account.superseded", lang, file=w.file, newer=w.duplicate_of) for w in superseded[:limit]
    ]
    lines += [
        t("account.skipped", lang, file=s.file, reason=s.reason) for s in batch.skipped[:limit]
    ]
    listed = len(lines) - 1
    if shown > listed:
        lines.append(t("account.more", lang, count=shown - listed))
    return lines
