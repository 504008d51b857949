"""Loading HQ's sites list: CSV in the encodings Excel writes, xlsx, and located errors."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from audit_xls.grading.sites import Site, SitesError, load_sites

SITES_CSV = (
    "项目编码,项目名称,区域,城市公司,项目类型\n"
    "P001, 滨江花园 ,华东,杭州公司,住宅\n"
    "P002,翠湖苑,华南,,\n"
)
EXPECTED = [
    Site("P001", "滨江花园", "华东", "杭州公司", "住宅"),
    Site("P002", "翠湖苑", "华南", "", ""),
]


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(SitesError) as caught:
        load_sites(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_the_encodings_excel_writes(tmp_path: Path, encoding: str) -> None:
    assert load_sites(_write(tmp_path, "sites.csv", SITES_CSV, encoding)) == EXPECTED


def test_xlsx_with_english_headers_and_numeric_codes(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["site_code", "Site_Name ", "region", "city_company"])
    sheet.append([1001, "滨江花园", " 华东", "杭州公司"])
    sheet.append([None, None, None, None])
    sheet.append(["P002", "翠湖苑", "华南", None])
    path = tmp_path / "sites.xlsx"
    book.save(path)
    assert load_sites(path) == [
        Site("1001", "滨江花园", "华东", "杭州公司", ""),
        Site("P002", "翠湖苑", "华南", "", ""),
    ]


def test_every_problem_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sites.csv",
        "项目编码,项目名称,区域\nP001,滨江花园,华东\nP002,,华南\n,无编码,华北\nP001,重复,华东\n",
    )
    assert _errors(path) == [
        f"{path} 第3行「项目名称」列：项目名称为空：请填写。",
        f"{path} 第4行「项目编码」列：项目编码为空：请填写。",
        f"{path} 第5行「项目编码」列：项目编码「P001」与第2行重复：每个项目编码只能出现一次。",
    ]


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "sites.csv", "编码,项目名称\nP001,滨江花园\n")
    assert _errors(path) == [
        f"{path} 第1行：缺少「项目编码」列：在第1行加上表头「项目编码」（或 code）。",
        f"{path} 第1行：缺少「区域」列：在第1行加上表头「区域」（或 region）。",
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert _errors(missing) == [f"{missing}：文件不存在：请检查路径。"]
    broken = _write(tmp_path, "sites.xlsx", "not a zip")
    assert _errors(broken) == [
        f"{broken}：无法作为 Excel 工作簿打开（文件损坏或不是 .xlsx）："
        "请用 Excel 另存为 .xlsx 或 CSV。"
    ]
    utf16 = _write(tmp_path, "utf16.csv", SITES_CSV, "utf-16")
    assert _errors(utf16) == [
        f"{utf16}：编码无法识别：请另存为 CSV UTF-8 或 Excel 工作簿 (.xlsx)。"
    ]
    empty = _write(tmp_path, "empty.csv", "\n\n")
    assert _errors(empty) == [f"{empty}：文件是空的：第1行应为表头（项目编码、项目名称、区域）。"]


def test_missing_file_and_folder_are_told_apart(tmp_path: Path) -> None:
    assert _errors(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}：文件不存在：请检查路径。"]
    assert _errors(tmp_path) == [
        f"{tmp_path}：这是一个文件夹，不是文件：请指定项目清单文件（CSV 或 .xlsx）。"
    ]


def _build_en(tmp_path: Path, sites: Path) -> str:
    from click.testing import CliRunner

    from audit_xls.cli import cli

    standard = Path(__file__).resolve().parents[1] / "standards" / "kefu-dudao.yaml"
    args = ["build", "--standard", str(standard), "--sites", str(sites), "--period", "2026-11"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out"), "--lang", "en"])
    assert result.exit_code == 1, result.output
    return result.output


def test_build_in_english_says_the_sites_problems_in_english(tmp_path: Path) -> None:
    text = "项目编码,项目名称\nP001,滨江花园\n"
    sites = _write(tmp_path, "sites.csv", text)
    assert _build_en(tmp_path, sites) == (
        f"Error: {sites} row 1: The column '区域' is missing: add the header '区域' (or region)"
        " in row 1.\n"
    )
    text = "code,name,region\nP001,滨江花园,华东\nP001,翠湖苑,\n"
    sites = _write(tmp_path, "sites.csv", text)
    assert _build_en(tmp_path, sites) == (
        f"Error: {sites} row 3, column 'region': 区域 is empty: fill it in.\n"
        f"{sites} row 3, column 'code': The site code 'P001' repeats row 2: each site code may"
        " appear only once.\n"
    )
    missing = tmp_path / "nowhere.csv"
    assert _build_en(tmp_path, missing) == (
        f"Error: {missing}: The file does not exist: check the path.\n"
    )
    text = "code,name,region\nP002,\u200b翠湖苑,#N/A\n"
    sites = _write(tmp_path, "sites.csv", text)
    assert _build_en(tmp_path, sites) == (
        f"Error: {sites} row 2, column 'name': 项目名称 holds invisible characters U+200B (from"
        " character 1): control, bidi control and zero-width characters garble or disguise file"
        " names, footers and summaries. Delete them and try again.\n"
        f"{sites} row 2, column 'region': 区域 is the Excel error value '#N/A' (a formula that"
        " failed), not content: type the real value (not a formula).\n"
    )


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_or_tab_separated_csv_is_read(tmp_path: Path, delimiter: str) -> None:
    """Excel writes ';' in locales whose decimal mark is a comma: the header tells."""
    text = SITES_CSV.replace(",", delimiter)
    path = _write(tmp_path, "sites.csv", text, "utf-8-sig")
    assert load_sites(path) == EXPECTED


def test_a_comma_inside_a_semicolon_separated_name_stays(tmp_path: Path) -> None:
    path = _write(tmp_path, "sites.csv", "项目编码;项目名称;区域\nP001;滨江花园,一期;华东\n")
    assert load_sites(path) == [Site("P001", "滨江花园,一期", "华东", "", "")]
