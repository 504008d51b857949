"""The issued register: written by build, read by grade, survives what Excel does to it."""

from __future__ import annotations

import pytest

from audit_xls.grading.register import IssuedEntry, RegisterError, read_issued, write_issued
from audit_xls.model.period import Period

ENTRY = IssuedEntry("ab12", "P001", "=滨江花园", "华东", "", "住宅", Period(2026, 11), "kefu-dudao", "1.0",
                    "be5d", "2026-11_P001_滨江花园.xlsx")  # fmt: skip


def test_round_trip_keeps_formula_like_names_as_text(tmp_path):
    path = tmp_path / "issued-2026-11.csv"
    write_issued(path, [ENTRY])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "'=滨江花园" in path.read_text(encoding="utf-8-sig")
    assert read_issued(path) == [ENTRY]


def test_register_saved_again_by_excel_in_gbk_still_reads(tmp_path):
    path = tmp_path / "issued-2026-11.csv"
    write_issued(path, [ENTRY])
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("gbk"))
    assert read_issued(path) == [ENTRY]


def test_a_month_rewritten_by_excel_is_a_located_error(tmp_path):
    path = tmp_path / "issued-2026-11.csv"
    write_issued(path, [ENTRY])
    path.write_text(path.read_text(encoding="utf-8-sig").replace("2026-11,", "Nov-26,"), "utf-8")
    with pytest.raises(RegisterError) as caught:
        read_issued(path)
    assert str(caught.value) == (
        f"{path} 第2行 period 列：「Nov-26」不是 YYYY-MM 格式的月份（用 Excel 打开后保存会改写月份）。\n"
        "请使用 build 生成的原登记表，不要在 Excel 中另存。"
    )


def test_missing_columns_and_missing_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("workbook_id,site_code\nx,y\n", encoding="utf-8")
    with pytest.raises(RegisterError, match="第1行：发放登记表缺少列 site_name, region"):
        read_issued(path)
    with pytest.raises(RegisterError, match="无法读取发放登记表"):
        read_issued(tmp_path / "none.csv")
