"""What the summary (SUMMARY.xlsx), the exports (CSV, --json) and the monthly workbook share:
the ranking and averaging rules, CSV-safe text, the write error and the report labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from audit_xls.i18n import LanguageError, check_lang, namespace, t
from audit_xls.model.results import WorkbookResult
from audit_xls.model.score import ZERO, round2

NOT_APPLICABLE = "—"  # a section whose criteria were all 不适用: no score, shown as this text


class ReportError(ValueError):
    """Raised when an output cannot be written: unknown language or an unwritable path."""


def report_labels(lang: str) -> dict[str, Any]:
    try:
        check_lang(lang)
    except LanguageError as error:
        raise ReportError(str(error)) from None
    return namespace("summary", lang)


def write_error(path: str | Path, error: OSError, lang: str) -> ReportError:
    """An output that could not be written, said in `lang`."""
    return ReportError(t("summary.write_error", lang, path=path, reason=error.strerror or error))


def mean_percent(workbooks: Iterable[WorkbookResult]) -> Decimal | None:
    """Mean of the sites' 得分率 (each site weighs the same), exact, rounded half up to 0.01."""
    rates = [w.card.percent for w in workbooks if w.card and w.card.percent is not None]
    if not rates:
        return None
    return round2(sum(rates, ZERO) / len(rates))


def competition_ranks(percents: Sequence[Decimal | None]) -> list[int | None]:
    """Standard competition ranking, highest first: ties share a rank (1, 2, 2, 4)."""
    known = sorted((p for p in percents if p is not None), reverse=True)
    first_at: dict[Decimal, int] = {}
    for position, value in enumerate(known, start=1):
        first_at.setdefault(value, position)
    return [first_at[p] if p is not None else None for p in percents]


# Excel turns a cell starting with these into a formula (or mangles it); a leading ' keeps text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """Free text for a CSV Excel will open: formula-like values get a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
