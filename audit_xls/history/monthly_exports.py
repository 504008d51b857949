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

from audit_xls.history.monthly import (
    CHANGE,
    RATE,
    SHEETS,
    MonthlyReport,
    _plain,
)
from audit_xls.outputs.shared import csv_text
from audit_xls.outputs.xlsx import (
    atomic_open,
)
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


# The --json keys of the pivots' columns: English and stable (docs/outputs.md); month columns
# keep their YYYY-MM name.
MACHINE_KEYS = {
    "项目编码": "site_code",
    "项目名称": "site",
    "区域": "region",
    CHANGE: "change",
    "标准": "standard_id",
    "一级指标编码": "section_code",
    "一级指标": "section",
    "月份": "period",
    "排名": "rank",
    RATE: "percent",
    "上月排名": "previous_rank",
    "排名变化": "rank_change",
    "指标编码": "criterion_code",
    "检查标准": "criterion",
    "连续月数": "consecutive_months",
    "各月问题点数": "problem_points_by_month",
    "最近问题描述": "latest_note",
    "此前报已整改": "reported_fixed_before",  # rectify/summary.py
    "下发": "issued",
    "回收": "returned",
    "已评分": "graded",
    "退回未评": "sent_back_not_graded",
    "未回收": "not_returned",
    "标准版本": "standard_version",
    "得分": "score",
    "应得分": "max_score",
    "评级": "grade",
    "督导人员": "inspector",
    "检查日期": "inspection_date",
    "评分时间": "graded_at",
    "文件": "file",
    "工作簿编号": "workbook_id",
    "版本": "versions",
}


def _machine(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=lambda name: MACHINE_KEYS.get(name, name))


def monthly_to_json(report: MonthlyReport) -> dict[str, Any]:
    """The same pivots as the workbook, as plain JSON-ready data (NaN -> null), keyed by the
    English machine keys of MACHINE_KEYS."""
    return {
        "months": report.months,
        "latest_month": report.latest_month,
        "filters": report.filters,
        "mean_of": "sites' percent (unweighted), rounded half up to 2 decimals",
        "notes": report.notes,
        **{key: _records(_machine(frame)) for key, frame in report.frames().items()},
        "versions": _records(_machine(report.versions)),
        **rectification.to_json(report.rectification),  # rectify/summary.py
    }


def _csv_names() -> dict[str, str]:
    return {key: sheet for key, (sheet, _) in SHEETS.items()} | {"site_changes": "项目环比变化"}


def monthly_csv_paths(folder: str | Path) -> list[Path]:
    """The files write_monthly_csv writes into `folder` (for the output path check)."""
    return [Path(folder) / f"{name}.csv" for name in _csv_names().values()]


def write_monthly_csv(report: MonthlyReport, folder: str | Path) -> list[Path]:
    """Each pivot as a UTF-8-with-BOM CSV (opens in Excel without mojibake), atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = _csv_names()
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
