"""The sites (projects) a standard is issued to, read from HQ's CSV or xlsx list."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    region: str
    city_company: str = ""
    project_type: str = ""


# Field -> the header names accepted for it (Chinese first: the one shown in messages).
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("项目编码", "code", "site_code"),
    "name": ("项目名称", "name", "site_name"),
    "region": ("区域", "region"),
    "city_company": ("城市公司", "city_company"),
    "project_type": ("项目类型", "project_type"),
}
REQUIRED = ("code", "name", "region")


@dataclass(frozen=True)
class SitesProblem:
    """One problem in a sites file, located as a person sees it in Excel."""

    file: str
    message: str
    row: int | None = None  # 1-based, the header is row 1
    column: str = ""  # the header of the column, as written in the file

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}"


class SitesError(ValueError):
    """Raised when a sites file cannot be used; carries every problem found, located."""

    def __init__(self, problems: list[SitesProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# What a cell shows when its formula failed (Excel, WPS, LibreOffice spellings).
ERROR_VALUES = frozenset(
    {"#N/A", "#NA", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!",
     "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "ERR:502", "ERR:504"}
)  # fmt: skip


def _invisible(char: str) -> bool:
    """Control characters (tab and line breaks included), bidi controls (U+202A-U+202E,
    U+2066-U+2069, U+200E/F, U+061C) and zero-width or other invisible format characters
    (U+200B-U+200D, U+2060, U+FEFF, U+00AD ...): Unicode categories Cc and Cf."""
    return unicodedata.category(char) in ("Cc", "Cf")


def text_problem(field: str, value: str) -> str | None:
    """Why a site text cannot be used as it is, or None. Invisible characters would go into
    file names, footers and summaries, where bidi controls disguise a name (`滨江‮xslx.exe`)
    and zero-width ones make two codes that look the same; an Excel error value is a formula
    that failed, not a name."""
    from audit_xls.i18n import t

    bad = [(i, c) for i, c in enumerate(value, 1) if _invisible(c)]
    if bad:
        chars = "、".join(f"U+{ord(c):04X}" for _, c in bad[:5])
        return t("sites.invisible", "zh", field=field, chars=chars, position=bad[0][0])
    if value.upper() in ERROR_VALUES:
        return t("sites.error_value", "zh", field=field, value=value)
    return None


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in Excel: 1001, not 1001.0
    return unicodedata.normalize("NFC", str(value)).strip()


def _read_csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # gb18030 decodes nearly any bytes; kept for safety
        raise SitesError(
            [SitesProblem(str(path), "编码无法识别：请另存为 CSV UTF-8 或 Excel 工作簿 (.xlsx)。")]
        )
    if "\x00" in text:
        raise SitesError(
            [
                SitesProblem(
                    str(path), "不是文本 CSV 文件：请另存为 CSV UTF-8 或 Excel 工作簿 (.xlsx)。"
                )
            ]
        )
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _read_xlsx_rows(path: Path) -> list[list[object]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise SitesError(
            [
                SitesProblem(
                    str(path),
                    "无法作为 Excel 工作簿打开（文件损坏或不是 .xlsx）："
                    "请用 Excel 另存为 .xlsx 或 CSV。",
                )
            ]
        ) from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def load_sites(path: str | Path) -> list[Site]:
    """Read the sites list: CSV (UTF-8 with or without BOM, or GBK) or xlsx (first sheet).

    Headers may be Chinese (项目编码, 项目名称, 区域, 城市公司, 项目类型) or English
    (code/site_code, name/site_name, region, city_company, project_type). Every problem is
    collected and raised together in a SitesError.
    """
    path = Path(path)
    file = str(path)
    if path.is_dir():
        raise SitesError(
            [SitesProblem(file, "这是一个文件夹，不是文件：请指定项目清单文件（CSV 或 .xlsx）。")]
        )
    if not path.is_file():
        raise SitesError([SitesProblem(file, "文件不存在：请检查路径。")])
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            rows = _read_xlsx_rows(path)
        else:
            rows = _read_csv_rows(path)
    except OSError as error:
        raise SitesError([SitesProblem(file, f"无法读取（{error.strerror}）。")]) from None
    while rows and not any(_clean(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise SitesError(
            [SitesProblem(file, "文件是空的：第1行应为表头（项目编码、项目名称、区域）。")]
        )
    header = [_clean(v) for v in rows[0]]
    columns: dict[str, int] = {}
    problems: list[SitesProblem] = []
    lowered = [h.lower() for h in header]
    for field, names in HEADERS.items():
        found = [i for i, h in enumerate(lowered) if h in names]
        if len(found) > 1:
            problems.append(
                SitesProblem(
                    file,
                    f"表头「{names[0]}」出现了 {len(found)} 次：只保留一列。",
                    1,
                    header[found[1]],
                )
            )
        if found:
            columns[field] = found[0]
        elif field in REQUIRED:
            problems.append(
                SitesProblem(
                    file,
                    f"缺少「{names[0]}」列：在第1行加上表头「{names[0]}」（或 {names[1]}）。",
                    1,
                )
            )
    if problems:
        raise SitesError(problems)

    sites: list[Site] = []
    first_row: dict[str, int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        values = {f: _clean(raw[i]) if i < len(raw) else "" for f, i in columns.items()}
        if not any(values.values()):
            continue  # blank line in the middle of the list
        row_problems = [
            SitesProblem(file, f"{HEADERS[f][0]}为空：请填写。", number, header[columns[f]])
            for f in ("code", "name", "region")
            if not values[f]
        ]
        row_problems += [
            SitesProblem(file, problem, number, header[columns[f]])
            for f in columns
            if (problem := text_problem(HEADERS[f][0], values[f]))
        ]
        code = values["code"]
        if code and code in first_row:
            row_problems.append(
                SitesProblem(
                    file,
                    f"项目编码「{code}」与第{first_row[code]}行重复：每个项目编码只能出现一次。",
                    number,
                    header[columns["code"]],
                )
            )
        elif code:
            first_row[code] = number
        problems.extend(row_problems)
        if not row_problems:
            sites.append(Site(**{f: values.get(f, "") for f in HEADERS}))
    if problems:
        raise SitesError(problems)
    if not sites:
        raise SitesError([SitesProblem(file, "没有任何项目：在表头下面每行填写一个项目。", 2)])
    return sites
