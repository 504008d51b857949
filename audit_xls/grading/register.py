"""The issued register: which workbook went to which site for which month.

build writes it beside the workbooks (issued-PERIOD.csv); grade reads it to check each return
against what was issued and to list who has not returned; the history keeps it for 回收情况.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from audit_xls.atomic import atomic_write_bytes
from audit_xls.i18n import Lines, Ref, Said
from audit_xls.model.period import Period, is_period, parse_period
from audit_xls.workbook.layout import COVER_FIELDS, COVER_INPUTS

# The workbook id, the cover's fields HQ fills in (layout.COVER_FIELDS less the site's inputs),
# then the standard and the file.
REGISTER_COLUMNS = (
    "workbook_id",
    *(name for name in COVER_FIELDS if name not in COVER_INPUTS),
    "standard_id",
    "standard_version",
    "standard_hash",
    "file",
)
# CSV cells that Excel would run as a formula; prefixed with ' (and the prefix itself escaped).
_CSV_ACTIVE = ("=", "+", "-", "@", "\t", "\r", "'")


class RegisterError(Said, ValueError):
    """Raised when an issued register cannot be read or is not one build wrote."""


@dataclass(frozen=True)
class IssuedEntry:
    """One row of the issued register: a workbook sent to a site for a period."""

    workbook_id: str
    site_code: str
    site_name: str
    region: str
    city_company: str
    project_type: str
    period: Period  # parsed by read_issued; written YYYY-MM
    standard_id: str
    standard_version: str
    standard_hash: str
    file: str


def register_path(out_dir: str | Path, period: Period | str) -> Path:
    return Path(out_dir) / f"issued-{period}.csv"


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_CSV_ACTIVE) else value


def _csv_value(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def write_issued(path: str | Path, entries: Iterable[IssuedEntry]) -> None:
    """Write the register as UTF-8 CSV with BOM (Excel on Chinese Windows reads it right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_cell(str(getattr(entry, c))) for c in REGISTER_COLUMNS])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8-sig"))


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or error
        raise RegisterError("register.unreadable", path=path, reason=reason) from None
    for encoding in ("utf-8-sig", "gbk"):  # GBK: saved again by Excel on Chinese Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegisterError("register.not_text", path=path)


def read_issued(path: str | Path) -> list[IssuedEntry]:
    """The issued register written by build; RegisterError, located, when it is not one."""
    path = Path(path)
    reader = csv.DictReader(io.StringIO(_decode(path), newline=""))
    missing = [c for c in REGISTER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        # column names are the CSV's own, listed as the file has them
        raise RegisterError("register.missing_columns", path=path, columns=", ".join(missing))
    names = [f.name for f in fields(IssuedEntry)]
    entries, problems = [], []
    for line, row in enumerate(reader, 2):
        values = {n: _csv_value(row.get(n) or "") for n in names}
        if not values["workbook_id"] or not values["site_code"]:
            problems.append(Ref.to("register.blank_id", path=path, line=line))
        elif not is_period(values["period"]):
            # Excel rewrites 2026-11 as Nov-26 or 2026/11/1 when the CSV is opened and saved
            problems.append(
                Ref.to("register.bad_period", path=path, line=line, period=values["period"])
            )
        else:
            entries.append(IssuedEntry(**{**values, "period": parse_period(values["period"])}))
    if problems:
        shown = problems[:5]
        if len(problems) > 5:
            shown.append(Ref.to("register.more_lines", count=len(problems) - 5))
        raise RegisterError("register.problems", problems=Lines(shown))
    return entries
