"""The built workbook read back with openpyxl: inputs, validations, protection, manifest,
print set-up, determinism; file names, the issued register and the build command."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from audit_xls import __version__
from audit_xls.cli import cli
from audit_xls.grading.register import IssuedEntry, read_issued
from audit_xls.grading.sites import Site
from audit_xls.model.period import Period
from audit_xls.model.standard import Standard
from audit_xls.workbook.build import (
    BuildError,
    _build,
    _Plan,
    build_all,
    build_workbook,
    parse_period,
    workbook_filename,
    workbook_id,
)
from audit_xls.workbook.layout import (
    COVER_INPUTS,
    COVER_ROW,
    COVER_VALUE_COL,
    LISTS_SHEET,
    MANIFEST_KEYS,
    MANIFEST_SHEET,
    Col,
    Layout,
    cell,
    manifest_checksum,
    parse_manifest,
)
from audit_xls.workbook.template import Template, load_template

SITE = Site("P001", "滨江花园", "华东", "杭州公司", "住宅")
PERIOD = "2026-11"
ISSUED = date(2026, 11, 1)
ROOT = Path(__file__).resolve().parent.parent
STANDARD_FILE = ROOT / "standards" / "kefu-dudao.yaml"


@pytest.fixture(scope="module")
def built(shipped_standard: Standard) -> bytes:
    return build_workbook(shipped_standard, SITE, PERIOD, issued_on=ISSUED)


@pytest.fixture(scope="module")
def book(built: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(built))


@pytest.fixture(scope="module")
def layout(shipped_standard: Standard) -> Layout:
    return Layout(shipped_standard, load_template("zh"))


def _input_cells(layout: Layout) -> dict[str, set[str]]:
    rows = [r.index for r in layout.rows if r.kind == "criterion"]
    return {
        layout.cover_sheet: {cell(COVER_ROW[name], COVER_VALUE_COL) for name in COVER_INPUTS},
        layout.checklist_sheet: {
            cell(r, c) for r in rows for c in (Col.RESULT, Col.POINTS, Col.NOTE, Col.PHOTO)
        },
        layout.summary_sheet: set(),
    }


def _cells(sqref: object) -> set[str]:
    """Every cell named by a data validation's ranges."""
    names: set[str] = set()
    for cell_range in sqref.ranges:  # type: ignore[attr-defined]
        for row in range(cell_range.min_row, cell_range.max_row + 1):
            for col in range(cell_range.min_col, cell_range.max_col + 1):
                names.add(cell(row - 1, col - 1))
    return names


def test_sheets_in_order_and_visibility(book: openpyxl.Workbook) -> None:
    assert [(s.title, s.sheet_state) for s in book.worksheets] == [
        ("基本信息", "visible"),
        ("检查表", "visible"),
        ("得分汇总", "visible"),
        (LISTS_SHEET, "hidden"),
        (MANIFEST_SHEET, "veryHidden"),
    ]
    assert book.active.title == "基本信息"
    assert book.defined_names["ResultList"].attr_text == "_lists!$A$1:$A$3"
    assert [c.value for c in book[LISTS_SHEET]["A"]] == ["符合", "不符合", "不适用"]


def test_validations_on_exactly_the_input_cells(book: openpyxl.Workbook, layout: Layout) -> None:
    inputs = _input_cells(layout)
    checklist = book[layout.checklist_sheet].data_validations.dataValidation
    by_type = {dv.type: dv for dv in checklist}
    assert sorted(by_type) == ["list", "whole"]
    result, points = by_type["list"], by_type["whole"]
    assert _cells(result.sqref) == {c for c in inputs[layout.checklist_sheet] if c[0] == "G"}
    assert result.formula1 == "ResultList"
    assert (result.promptTitle, result.prompt) == (
        "检查结果",
        "请从下拉列表选择：符合、不符合或不适用。",
    )
    assert result.error == "只能选择 符合、不符合 或 不适用。"
    assert result.showErrorMessage and result.showInputMessage
    assert _cells(points.sqref) == {c for c in inputs[layout.checklist_sheet] if c[0] == "H"}
    assert points.operator in (None, "between")  # between is the default and left out
    assert (points.formula1, points.formula2) == ("0", "99")
    assert points.error == "问题点数须为 0-99 的整数。" and points.showErrorMessage

    cover = {dv.type: dv for dv in book[layout.cover_sheet].data_validations.dataValidation}
    assert sorted(cover) == ["date", "textLength"]
    assert _cells(cover["date"].sqref) == {cell(COVER_ROW["inspection_date"], 1)}
    # Excel date serials of 2026-11-01 and 2026-11-30
    assert cover["date"].operator in (None, "between")
    assert (cover["date"].formula1, cover["date"].formula2) == ("46327", "46356")
    assert cover["date"].prompt == "请填写检查当天的日期，须在 2026-11-01 至 2026-11-30 之间。"
    length = cover["textLength"]
    assert _cells(length.sqref) == {cell(COVER_ROW["inspector"], 1)}
    assert (length.operator, length.formula1, length.allow_blank) == (
        "greaterThanOrEqual",
        "1",
        False,
    )
    assert length.prompt == "必填：填写督导人员姓名。"
    assert not book[layout.summary_sheet].data_validations.dataValidation


def test_protected_with_exactly_the_inputs_unlocked(
    book: openpyxl.Workbook, layout: Layout
) -> None:
    for sheet_name, inputs in _input_cells(layout).items():
        sheet = book[sheet_name]
        assert sheet.protection.sheet, sheet_name
        unlocked = {
            c.coordinate for row in sheet.iter_rows() for c in row if not c.protection.locked
        }
        assert unlocked == inputs, sheet_name
    # pictures may be inserted on the protected checklist (Excel's and WPS's "edit objects")
    assert not book[layout.checklist_sheet].protection.objects
    assert book[layout.cover_sheet].protection.objects
    assert book[MANIFEST_SHEET].protection.sheet and book[LISTS_SHEET].protection.sheet


def test_password_is_optional(shipped_standard: Standard) -> None:
    data = build_workbook(shipped_standard, SITE, PERIOD, issued_on=ISSUED, password="hq")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["检查表"]
    assert sheet.protection.sheet and sheet.protection.password


def test_locked_texts_and_formulas_exactly_as_the_layout_says(
    book: openpyxl.Workbook, layout: Layout
) -> None:
    sheet = book[layout.checklist_sheet]
    for (r, c), text in layout.locked_cells.items():
        assert (sheet.cell(r + 1, c + 1).value or "") == text, cell(r, c)
    for (r, c), formula in layout.checklist_formulas().items():
        assert sheet.cell(r + 1, c + 1).value == formula, cell(r, c)
    summary = book[layout.summary_sheet]
    for (r, c), formula in layout.summary_formulas().items():
        assert summary.cell(r + 1, c + 1).value == formula, cell(r, c)
    assert sheet["A1"].value == "客户服务督导标准 — P001 滨江花园（2026-11）"
    assert sheet["D4"].value == "符合《员工行为规范指南》的要求。"
    assert sheet["I4"].value == '=IF(G4="不符合",IF(H4="",1,H4)*0.3,0)'
    cover = book[layout.cover_sheet]
    assert [(cover.cell(r + 1, 1).value, cover.cell(r + 1, 2).value) for r in range(2, 8)] == [
        ("项目编码", "P001"),
        ("项目名称", "滨江花园"),
        ("区域", "华东"),
        ("城市公司", "杭州公司"),
        ("项目类型", "住宅"),
        ("检查月份", "2026-11"),
    ]


def test_formulas_have_empty_cached_values_and_no_xlfn(built: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(built)) as package:
        parts = {name: package.read(name).decode("utf-8") for name in package.namelist()}
    assert not [name for name, xml in parts.items() if "_xlfn" in xml]
    checklist = parts["xl/worksheets/sheet2.xml"]
    assert checklist.count("<f>") == checklist.count("<v></v>") > 0
    assert "<v>0</v>" not in checklist


def test_manifest_complete_and_checksum_right(
    book: openpyxl.Workbook, layout: Layout, shipped_standard: Standard
) -> None:
    sheet = book[MANIFEST_SHEET]
    assert sheet.sheet_state == "veryHidden"
    manifest = parse_manifest([list(r) for r in sheet.iter_rows(values_only=True)])
    assert manifest is not None
    assert manifest.values == {
        "tool": "audit-xls",
        "tool_version": __version__,
        "template": "zh",
        "standard_id": "kefu-dudao",
        "standard_version": shipped_standard.version,
        "standard_hash": shipped_standard.content_hash,
        "workbook_id": workbook_id(shipped_standard, SITE, PERIOD),
        "site_code": "P001",
        "site_name": "滨江花园",
        "region": "华东",
        "period": "2026-11",
        "issued_on": "2026-11-01",
        "fingerprint": layout.fingerprint,
    }
    assert manifest.checksum == manifest.expected_checksum
    assert manifest.criterion_rows == tuple(
        (r.index, r.code) for r in layout.rows if r.kind == "criterion"
    )
    assert len(manifest.criterion_rows) == len(shipped_standard.criteria)


AWKWARD_TEXTS = ["", 'say "hi"', "back\\slash", "tab\tnew\nline\x00\x1f", "\u2028\u2029",
                 "滨江花园", "\U0001f600 astral", "</v>&amp;"]  # fmt: skip


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_manifest_checksum_is_the_sha256_of_json_dumps(text: str) -> None:
    """Workbooks issued before are checked by the same checksum: its text is json.dumps's."""
    values = {key: f"{key}:{text}" for key in MANIFEST_KEYS[:-1]}  # "fingerprint" left out
    rows = ((2, text), (3, "A1.1"), (1_000_000, "x"))
    payload = [[k, values.get(k, "")] for k in MANIFEST_KEYS] + [list(r) for r in rows]
    dumped = json.dumps(payload, ensure_ascii=False).encode()
    assert manifest_checksum(values, rows) == hashlib.sha256(dumped).hexdigest()


def test_manifest_checksum_of_a_known_manifest() -> None:
    values = dict(zip(MANIFEST_KEYS, ["audit-xls", "1.0", "zh"], strict=False))
    assert manifest_checksum(values, ((3, "A1.1"),)) == (
        "8d94ed7f9d86e86f98e810d2f455ab04f0244c8e3acd87dbfe969ba280289bab"
    )


def test_print_setup(book: openpyxl.Workbook, layout: Layout) -> None:
    sheet = book[layout.checklist_sheet]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default and left out
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.freeze_panes == "A3"
    assert sheet.oddFooter.left.text == "P001 滨江花园"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    for name in (layout.cover_sheet, layout.summary_sheet):
        assert book[name].page_setup.orientation == "landscape"
        assert book[name].page_setup.paperSize == 9
        assert book[name].oddFooter.left.text == "P001 滨江花园"  # every printed page says whose


def test_conditional_formats(book: openpyxl.Workbook, layout: Layout) -> None:
    rules = {
        str(rng.sqref): [r.formula[0] for r in rs]
        for rng, rs in book[layout.checklist_sheet].conditional_formatting._cf_rules.items()
    }
    assert rules["G4:G18 G21:G35 G37:G44 G47:G50"][0] == "LEN(G4)=0"
    assert rules["A4:K18 A21:K35 A37:K44 A47:K50"] == ['$G4="不符合"']
    assert rules["H4:H18 H21:H35 H37:H44 H47:H50"] == ['AND($G4="符合",N($H4)>0)']


def test_row_heights_fit_the_criterion_text(book: openpyxl.Workbook, layout: Layout) -> None:
    sheet = book[layout.checklist_sheet]
    short, long_ = sheet.row_dimensions[4].height, sheet.row_dimensions[6].height
    assert 30 <= short <= 32  # two lines: the 扣分标准 wraps in its 18-wide column
    # 1.1.03: 410 width units (CJK counts two) make 8 lines in a 58-wide column
    assert long_ >= 8 * 13.5


def test_english_template(shipped_standard: Standard) -> None:
    data = build_workbook(shipped_standard, SITE, PERIOD, template="en", issued_on=ISSUED)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[:3] == ["Cover", "Checklist", "Score"]
    assert book["Checklist"]["G2"].value == "Result"
    assert book["Checklist"]["I4"].value == '=IF(G4="Fail",IF(H4="",1,H4)*0.3,0)'


def test_builds_are_byte_identical(shipped_standard: Standard, built: bytes) -> None:
    again = build_workbook(shipped_standard, SITE, PERIOD, issued_on=ISSUED)
    assert again == built
    later = build_workbook(shipped_standard, SITE, PERIOD, issued_on=date(2026, 11, 2))
    assert later != built


def test_xlsxwriter_warnings_are_errors(shipped_standard: Standard) -> None:
    zh = load_template("zh")
    data = {**zh.data, "validation": {**zh["validation"], "result_title": "检" * 40}}
    plan = _Plan(shipped_standard, Template("zh", data))
    with pytest.raises(UserWarning, match="32"):
        _build(plan, SITE, PERIOD, ISSUED, None)


def test_bad_period(shipped_standard: Standard) -> None:
    with pytest.raises(BuildError) as caught:
        build_workbook(shipped_standard, SITE, "2026-13", issued_on=ISSUED)
    assert str(caught.value) == "检查月份「2026-13」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-11 ", "检查月份「2026-11 」前后有空白：请去掉空格，写成 2026-11。"),
        (" 2026-11", "检查月份「 2026-11」前后有空白：请去掉空格，写成 2026-11。"),
        ("2026-11\n", "检查月份「2026-11\\n」前后有空白：请去掉空格，写成 2026-11。"),
        ("2026-1", "检查月份「2026-1」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("2026-00", "检查月份「2026-00」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("２０２６-１１", "检查月份「２０２６-１１」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("2026-11-01", "检查月份「2026-11-01」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
    ],
)
def test_period_must_be_exactly_yyyy_mm(period: str, message: str) -> None:
    with pytest.raises(BuildError) as caught:
        parse_period(period)
    assert str(caught.value) == message


def test_build_all_refuses_padded_period(tmp_path: Path, shipped_standard: Standard) -> None:
    with pytest.raises(BuildError):
        build_all(shipped_standard, [SITE], "2026-11 ", tmp_path / "out", issued_on=ISSUED)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (Site("P001", "滨江花园", "华东"), "2026-11_P001_滨江花园.xlsx"),
        (Site("A/1", 'x<y>:"z"|?*', "华东"), "2026-11_A_1_x_y___z____.xlsx"),
        (Site("P9", "名称\t带\n控制符 ", "华东"), "2026-11_P9_名称_带_控制符.xlsx"),
        (Site("P8", "结尾点...", "华东"), "2026-11_P8_结尾点.xlsx"),
        # cut by UTF-8 bytes (MAX_FILENAME_BYTES = 200, 3 bytes a character), not characters
        (Site("P7", "长" * 300, "华东"), "2026-11_P7_" + "长" * 61 + ".xlsx"),
    ],
)
def test_file_names_are_safe_on_windows(site: Site, expected: str) -> None:
    name = workbook_filename(site, PERIOD)
    assert name == expected
    assert len(name) <= 120
    assert not set('<>:"/\\|?*') & set(name)
    assert not name[:-5].endswith((" ", "."))


def test_build_all_writes_workbooks_and_register(
    tmp_path: Path, shipped_standard: Standard
) -> None:
    sites = [SITE, Site("P002", "=HYPERLINK()", "华南")]
    entries = build_all(shipped_standard, sites, PERIOD, tmp_path, issued_on=ISSUED)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11_P001_滨江花园.xlsx",
        "2026-11_P002_=HYPERLINK().xlsx",
        "issued-2026-11.csv",
    ]
    register = tmp_path / "issued-2026-11.csv"
    raw = register.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "workbook_id,site_code,site_name,region,city_company,project_type,period,"
        "standard_id,standard_version,standard_hash,file"
    )
    assert ",'=HYPERLINK()," in lines[2]  # a name Excel would run is escaped
    assert read_issued(register) == entries
    assert entries[0] == IssuedEntry(
        workbook_id=workbook_id(shipped_standard, SITE, PERIOD),
        site_code="P001",
        site_name="滨江花园",
        region="华东",
        city_company="杭州公司",
        project_type="住宅",
        period=Period(2026, 11),
        standard_id="kefu-dudao",
        standard_version=shipped_standard.version,
        standard_hash=shipped_standard.content_hash,
        file="2026-11_P001_滨江花园.xlsx",
    )
    assert (tmp_path / entries[0].file).read_bytes() == build_workbook(
        shipped_standard, SITE, PERIOD, issued_on=ISSUED
    )

    rebuilt = Site("P002", "翠湖苑", "华南")
    build_all(shipped_standard, [rebuilt], PERIOD, tmp_path, issued_on=ISSUED, merge=True)
    assert [(e.site_code, e.site_name) for e in read_issued(register)] == [
        ("P001", "滨江花园"),
        ("P002", "翠湖苑"),
    ]


def test_build_all_in_two_processes_gives_the_same_files(
    tmp_path: Path, shipped_standard: Standard
) -> None:
    sites = [Site(f"P{i:03d}", f"项目{i}", "华东") for i in range(6)]
    build_all(shipped_standard, sites, PERIOD, tmp_path / "one", issued_on=ISSUED)
    build_all(shipped_standard, sites, PERIOD, tmp_path / "two", issued_on=ISSUED, jobs=2)
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert one == two and len(one) == 7


def test_file_name_clash_builds_nothing(tmp_path: Path, shipped_standard: Standard) -> None:
    sites = [Site("A/1", "同名", "华东"), Site("A:1", "同名", "华东")]
    with pytest.raises(BuildError) as caught:
        build_all(shipped_standard, sites, PERIOD, tmp_path / "out", issued_on=ISSUED)
    assert str(caught.value) == (
        "项目「A/1」和「A:1」的工作簿文件名相同（2026-11_A_1_同名.xlsx）：请修改其中一个项目编码。"
    )
    assert not (tmp_path / "out").exists()


# --- the build command -----------------------------------------------------------------------


def _sites_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_build_command(tmp_path: Path) -> None:
    sites = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,滨江花园,华东\nP002,翠湖苑,华南\n")
    out = tmp_path / "out"
    args = ["build", "--standard", str(STANDARD_FILE), "--sites", str(sites), "--period", PERIOD]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--issued-on", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert result.output == f"已生成 2 个工作簿到 {out}，发放登记表：{out / 'issued-2026-11.csv'}\n"
    manifest = openpyxl.load_workbook(out / "2026-11_P001_滨江花园.xlsx")[MANIFEST_SHEET]
    assert manifest["B12"].value == "2026-11-01"

    one = CliRunner().invoke(cli, [*args, "--out", str(out), "--site", "P002"])
    assert one.exit_code == 0, one.output
    assert one.output.startswith("已生成 1 个工作簿到")
    assert [e.site_code for e in read_issued(out / "issued-2026-11.csv")] == ["P001", "P002"]
    issued_today = openpyxl.load_workbook(out / "2026-11_P002_翠湖苑.xlsx")[MANIFEST_SHEET]
    assert issued_today["B12"].value == date.today().isoformat()


def test_build_command_bad_input(tmp_path: Path) -> None:
    sites = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,,华东\n")
    out = str(tmp_path / "out")
    base = ["build", "--standard", str(STANDARD_FILE), "--out", out]
    bad_sites = CliRunner().invoke(cli, [*base, "--sites", str(sites), "--period", PERIOD])
    assert bad_sites.exit_code == 1
    assert bad_sites.output == f"Error: {sites} 第2行「项目名称」列：项目名称为空：请填写。\n"
    assert not Path(out).exists()

    good = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,滨江花园,华东\n")
    for period, message in [
        ("11/2026", "检查月份「11/2026」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("2026-13", "检查月份「2026-13」无效：应为 YYYY-MM 格式的年月，例如 2026-11。"),
        ("2026-11 ", "检查月份「2026-11 」前后有空白：请去掉空格，写成 2026-11。"),
    ]:
        bad_period = CliRunner().invoke(cli, [*base, "--sites", str(good), "--period", period])
        assert bad_period.exit_code == 2, period
        assert (
            bad_period.output.splitlines()[-1] == f"Error: Invalid value for '--period': {message}"
        )
        assert not Path(out).exists()

    unknown = CliRunner().invoke(
        cli, [*base, "--sites", str(good), "--period", PERIOD, "--site", "P404"]
    )
    assert unknown.exit_code == 1
    assert unknown.output == (f"Error: {good}：没有项目编码「P404」。请检查 --site 或项目清单。\n")

    missing = tmp_path / "missing.yaml"
    no_standard = CliRunner().invoke(
        cli,
        [
            "build",
            "--standard",
            str(missing),
            "--sites",
            str(good),
            "--period",
            PERIOD,
            "--out",
            out,
        ],
    )
    assert no_standard.exit_code == 1
    assert str(missing) in no_standard.output

    usage = CliRunner().invoke(cli, ["build", "--standard", str(STANDARD_FILE)])
    assert usage.exit_code == 2
    assert (
        CliRunner()
        .invoke(cli, [*base, "--sites", str(good), "--period", PERIOD, "--issued-on", "2026/11/01"])
        .exit_code
        == 2
    )


def test_issued_on_is_the_created_date(book: openpyxl.Workbook) -> None:
    assert book.properties.created == datetime(2026, 11, 1)


def test_build_command_unwritable_out(tmp_path: Path) -> None:
    sites = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,滨江花园,华东\n")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    out = afile / "out"
    args = ["build", "--standard", str(STANDARD_FILE), "--sites", str(sites), "--period", PERIOD]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert result.output == f"Error: {out}：「{afile}」是文件，不是文件夹：请换一个 --out 路径。\n"


def test_build_command_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root ignores file modes, so the refusal is simulated where the files are written
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("audit_xls.workbook.build.build_all", refuse)
    sites = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,滨江花园,华东\n")
    out = tmp_path / "out"
    args = ["build", "--standard", str(STANDARD_FILE), "--sites", str(sites), "--period", PERIOD]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {out}：没有写入权限：请换一个有权限的文件夹；"
        "若文件正在 Excel 或 WPS 中打开，请先关闭。\n"
    )


def test_build_command_sites_is_a_folder(tmp_path: Path) -> None:
    args = ["build", "--standard", str(STANDARD_FILE), "--period", PERIOD]
    result = CliRunner().invoke(cli, [*args, "--sites", str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path}：这是一个文件夹，不是文件：请指定项目清单文件（CSV 或 .xlsx）。\n"
    )


SITE_HELP = (
    "Build only this site (repeatable). If --out already holds issued-PERIOD.csv, its rows "
    "for the other sites are kept; otherwise the register lists only the sites built."
)


def test_site_option_help_says_when_the_register_keeps_others(tmp_path: Path) -> None:
    option = next(p for p in cli.commands["build"].params if p.name == "site_codes")
    assert option.help == SITE_HELP
    sites = _sites_csv(tmp_path, "项目编码,项目名称,区域\nP001,滨江花园,华东\nP002,翠湖苑,华南\n")
    out = tmp_path / "out"
    args = ["build", "--standard", str(STANDARD_FILE), "--sites", str(sites), "--period", PERIOD]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--site", "P002"])
    assert result.exit_code == 0, result.output
    assert [e.site_code for e in read_issued(out / "issued-2026-11.csv")] == ["P002"]
