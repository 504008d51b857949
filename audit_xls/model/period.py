"""Inspection periods: YYYY-MM months, parsed the same way by build, validate, monthly and demo.

A period is exactly four ASCII digits, a hyphen and a month 01-12, from 1900 on. Nothing is
stripped or normalised here: the period becomes part of file names, the register and the
manifest, so a stray space or full-width digit is refused rather than carried into them.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from audit_xls.i18n import Said

FIRST_YEAR = 1900
LAST_YEAR = 9999
# ASCII digits only: int() would also take full-width ２０２６.
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class PeriodError(Said, ValueError):
    """Raised when text is not a YYYY-MM period; the message says what was given."""


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month; str() gives its YYYY-MM form."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (FIRST_YEAR <= self.year <= LAST_YEAR and 1 <= self.month <= 12):
            raise PeriodError("period.invalid", text=f"{self.year:04d}-{self.month:02d}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Period:
        """The following month (PeriodError after 9999-12)."""
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def previous(self) -> Period:
        """The month before (PeriodError before 1900-01)."""
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)


def parse_period(text: str) -> Period:
    """The period `text` names, or PeriodError saying what was given and how to write it."""
    found = _match(text)
    if found is not None:
        return found
    bare = text.strip() if isinstance(text, str) else ""
    if bare != text and _match(bare) is not None:
        raise PeriodError("period.spaces", text=visible(text), bare=bare)
    raise PeriodError("period.invalid", text=visible(str(text)))


def period_or_none(text: object) -> Period | None:
    """The period `text` is exactly, or None: for a month read from a return's manifest, where
    a missing, forged or malformed month is kept as found (beside it) for the messages."""
    return _match(text)


def stored_period(text: object) -> Period:
    """A month as the history stored it: its 'YYYY-MM' text back as a Period (the one place a
    stored month becomes the model's). An older build could write "2026-02 " or full-width
    digits: read as their month (NFKC, outer spaces dropped), as `monthly` counts them;
    anything else is PeriodError naming it (`history check` reports such rows)."""
    if isinstance(text, Period):
        return text
    return parse_period(cleaned_month(str(text)))


def cleaned_month(text: str) -> str:
    """Stored month text normalised the way the history is read (NFKC, outer spaces dropped):
    "2026-02 " and "２０２６-０２" give "2026-02"; other text comes back cleaned, not checked."""
    return unicodedata.normalize("NFKC", text).strip()


def is_period(text: object) -> bool:
    """True when `text` is exactly a YYYY-MM period (no surrounding space, no newline)."""
    return isinstance(text, str) and _match(text) is not None


def month_range(first: Period, last: Period) -> list[Period]:
    """Every month from first to last inclusive; empty when first is after last."""
    months = []
    current = first
    while current <= last:
        months.append(current)
        if current == last:
            break
        current = current.next()
    return months


def visible(text: str) -> str:
    """Text with tabs, newlines and other controls shown as escapes, so a message stays one line."""
    return "".join(
        ch if ch == " " or (ch.isprintable() and not ch.isspace()) else repr(ch)[1:-1]
        for ch in text
    )


def _match(text: object) -> Period | None:
    found = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    if found is None or int(found.group(1)) < FIRST_YEAR:
        return None
    return Period(int(found.group(1)), int(found.group(2)))


__all__ = [
    "FIRST_YEAR",
    "Period",
    "PeriodError",
    "cleaned_month",
    "is_period",
    "month_range",
    "parse_period",
    "period_or_none",
    "stored_period",
    "visible",
]
