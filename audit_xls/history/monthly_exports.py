"""The monthly pivots for machines and spreadsheets: --json (English machine keys,
docs/outputs.md) and --csv (each pivot as the sheet it is, UTF-8 with BOM).
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from audit_xls.history.monthly import SHEETS, MonthlyReport, _plain, column_key
from audit_xls.i18n import DEFAULT_LANG, t
from audit_xls.outputs.shared import csv_text
from audit_xls.outputs.xlsx import atomic_open
from audit_xls.rectify import summary as rectification

# --- JSON and CSV -------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    value = _plain(value)
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _json_value(v) for k, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _machine(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A pivot headed in `lang` keyed by its machine keys (docs/outputs.md); month columns
    keep their YYYY-MM name."""
    return frame.rename(columns=lambda name: column_key(name, lang) or name)


def monthly_to_json(report: MonthlyReport) -> dict[str, Any]:
    """The same pivots as the workbook, as plain JSON-ready data (NaN -> null), keyed by the
    English machine keys of monthly.COLUMN_KEYS whatever the report's language; the notes
    and the words in cells are in the report's language."""
    return {
        "months": report.month_columns,
        "latest_month": None if report.latest_month is None else str(report.latest_month),
        "filters": report.filters,
        "mean_of": "sites' percent (unweighted), rounded half up to 2 decimals",
        "notes": report.notes,
        **{key: _records(_machine(f, report.lang)) for key, f in report.frames().items()},
        "versions": _records(_machine(report.versions, report.lang)),
        **rectification.to_json(report.rectification),  # rectify/summary.py
    }


def _csv_names(lang: str) -> dict[str, str]:
    """Each pivot's CSV file name: its sheet's name in `lang`."""
    names = {key: t(f"monthly.sheets.{key}", lang) for key in SHEETS}
    return names | {"site_changes": t("monthly.csv.site_changes", lang)}


def monthly_csv_paths(folder: str | Path, lang: str = DEFAULT_LANG) -> list[Path]:
    """The files write_monthly_csv writes into `folder` for a report in `lang` (for the
    output path check)."""
    return [Path(folder) / f"{name}.csv" for name in _csv_names(lang).values()]


def write_monthly_csv(report: MonthlyReport, folder: str | Path) -> list[Path]:
    """Each pivot as a UTF-8-with-BOM CSV (opens in Excel without mojibake), atomically: the
    sheets as a person reads them, so file names and headers are in the report's language."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = _csv_names(report.lang)
    written = []
    for key, frame in report.frames().items():
        path = folder / f"{names[key]}.csv"
        with atomic_open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(frame.columns)
            for row in frame.itertuples(index=False, name=None):
                writer.writerow([_csv_cell(v) for v in row])
        written.append(path)
    return written


def _csv_cell(value: Any) -> str:
    value = _json_value(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def monthly_json_text(report: MonthlyReport) -> str:
    return json.dumps(monthly_to_json(report), ensure_ascii=False, indent=2)
