"""Test helper: fill built workbooks the way a supervisor would, by writing input cells.

openpyxl writes the values into a copy of the issued bytes (a test has no spreadsheet
application); `layout` says where each input cell is.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import openpyxl

from audit_xls.model.standard import Standard
from audit_xls.workbook import layout
from audit_xls.workbook.layout import Col, Layout
from audit_xls.workbook.template import load_template

Typed = tuple[Any, Any] | tuple[Any, Any, Any]


def fill(
    data: bytes,
    standard: Standard,
    answers: Mapping[str, Typed],
    *,
    inspector: Any = "张督导",
    inspection_date: Any = date(2026, 11, 12),
    cells: Mapping[tuple[str, str], Any] | None = None,
    template: str = "zh",
    default: Typed | None = None,
    change: Callable[[openpyxl.Workbook], None] | None = None,
) -> bytes:
    """Write (检查结果, 问题点数[, 问题描述]) per criterion code, the cover, and raw `cells`.

    `default` answers every criterion not in `answers`; `cells` maps (sheet, "G12") to a value
    written as is (a formula when it starts with "="); `change(book)` then edits anything else
    (rows, merges, protection) before the one save.
    """
    plan = Layout(standard, load_template(template))
    book = openpyxl.load_workbook(io.BytesIO(data))
    cover = book[plan.cover_sheet]
    cover.cell(layout.COVER_ROW["inspector"] + 1, 2).value = inspector
    cover.cell(layout.COVER_ROW["inspection_date"] + 1, 2).value = inspection_date
    sheet = book[plan.checklist_sheet]
    for criterion in standard.criteria:
        typed = answers.get(criterion.code, default)
        if typed is None:
            continue
        row = plan.criterion_row[criterion.code] + 1
        sheet.cell(row, Col.RESULT + 1).value = typed[0]
        sheet.cell(row, Col.POINTS + 1).value = typed[1]
        if len(typed) > 2:
            note = sheet.cell(row, Col.NOTE + 1)
            note.value = typed[2]
            note.data_type = "s"  # a description is text even when it starts with "="
    for (name, ref), value in (cells or {}).items():
        book[name][ref].value = value
    if change is not None:
        change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# A small standard with every scoring rule: per-person points, a group with its own points, a
# cap, a per-item rule, a section veto, and a section that can be all 不适用.
# Checklist rows (Excel numbering): 1.1.01 row 4, 1.1.02 row 5, 2.1.01 row 8, 2.1.02 row 9,
# 2.2.01 row 11, 2.2.02 row 12, 3.1.01 row 14, 3.1.02 row 15.
MINI_YAML = """\
id: mini
name: 迷你标准
version: "1"
sections:
  - code: "1"
    name: 行为规范
    points: 2
    groups:
      - method: 现场抽查
        rule: 一人一个问题点扣0.3分
        criteria:
          - {code: "1.1.01", text: 着装整洁}
          - {code: "1.1.02", text: 主动问好}
  - code: "2"
    name: 房屋交付
    points: 3
    groups:
      - name: 交付准备
        points: 1
        method: 查看记录
        rule: 一个问题点扣0.5分，最高扣1分
        criteria:
          - {code: "2.1.01", text: 资料齐全}
          - {code: "2.1.02", text: 钥匙登记}
      - name: 交付手续
        method: 查看存档
        rule: 每项扣1分
        criteria:
          - {code: "2.2.01", text: 手续完整}
          - {code: "2.2.02", text: 无违规收费, rule: 否决项：出现即本一级指标不得分}
  - code: "3"
    name: 装修服务
    points: 2
    groups:
      - method: 现场查看
        rule: 一个问题点扣0.5分
        criteria:
          - {code: "3.1.01", text: 装修登记}
          - {code: "3.1.02", text: 巡查记录}
"""

PERIOD = "2026-11"
ISSUED_ON = date(2026, 11, 1)


def mini_standard(folder: Any) -> Standard:
    """The mini standard, loaded from a YAML file written into `folder`."""
    from pathlib import Path

    from audit_xls.standards.loader import load_standard

    path = Path(folder) / "mini.yaml"
    path.write_text(MINI_YAML, encoding="utf-8")
    return load_standard(path)


def issue(standard: Standard, code: str = "P001", name: str = "滨江花园", region: str = "华东"):
    """The bytes of one issued workbook of `standard` for PERIOD."""
    from audit_xls.grading.sites import Site
    from audit_xls.workbook.build import build_workbook

    return build_workbook(standard, Site(code, name, region), PERIOD, issued_on=ISSUED_ON)


def unsupported_zip_version(data: bytes) -> bytes:
    """The zip with every central-directory entry claiming "version needed to extract" 12.8:
    Python's zipfile refuses to open it with NotImplementedError (found by the fuzz test)."""
    import struct

    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into("<H", out, at + 6, 128)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)
