"""The issued register: which workbook went to which site for which month.

build writes it beside the workbooks (issued-PERIOD.csv); grade reads it to check each return
against what was issued and to list who has not returned; the history keeps it for 回收情况.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from audit_xls.atomic import atomic_write_bytes
from audit_xls.model.period import is_period

REGISTER_COLUMNS = (
    "workbook_id",
    "site_code",
    "site_name",
    "region",
    "city_company",
    "project_type",
    "period",
    "standard_id",
    "standard_version",
    "standard_hash",
    "file",
)
# CSV cells that Excel would run as a formula; prefixed with ' (and the prefix itself escaped).
_CSV_ACTIVE = ("=", "+", "-", "@", "\t", "\r", "'")


class RegisterError(ValueError):
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
    period: str
    standard_id: str
    standard_version: str
    standard_hash: str
    file: str


def register_path(out_dir: str | Path, period: str) -> Path:
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
        values = asdict(entry)
        writer.writerow([_csv_cell(values[c]) for c in REGISTER_COLUMNS])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8-sig"))


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RegisterError(
            f"{path}：无法读取发放登记表（{error.strerror or error}）：请检查路径。"
        ) from None
    for encoding in ("utf-8-sig", "gbk"):  # GBK: saved again by Excel on Chinese Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegisterError(f"{path}：不是文本文件，无法作为发放登记表读取：请使用 build 生成的 CSV。")


def read_issued(path: str | Path) -> list[IssuedEntry]:
    """The issued register written by build; RegisterError, located, when it is not one."""
    path = Path(path)
    reader = csv.DictReader(io.StringIO(_decode(path), newline=""))
    missing = [c for c in REGISTER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegisterError(
            f"{path} 第1行：发放登记表缺少列 {', '.join(missing)}：请使用 build 生成的 CSV。"
        )
    names = [f.name for f in fields(IssuedEntry)]
    entries, problems = [], []
    for line, row in enumerate(reader, 2):
        entry = IssuedEntry(**{n: _csv_value(row.get(n) or "") for n in names})
        if not entry.workbook_id or not entry.site_code:
            problems.append(f"{path} 第{line}行：workbook_id 或 site_code 为空。")
        elif not is_period(entry.period):
            # Excel rewrites 2026-11 as Nov-26 or 2026/11/1 when the CSV is opened and saved
            problems.append(
                f"{path} 第{line}行 period 列：「{entry.period}」不是 YYYY-MM 格式的月份"
                "（用 Excel 打开后保存会改写月份）。"
            )
        entries.append(entry)
    if problems:
        shown = "\n".join(problems[:5])
        if len(problems) > 5:
            shown += f"\n……另有 {len(problems) - 5} 行"
        raise RegisterError(f"{shown}\n请使用 build 生成的原登记表，不要在 Excel 中另存。")
    return entries
