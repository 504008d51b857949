"""The sites (projects) a standard is issued to, read from HQ's CSV or xlsx list."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from audit_xls.i18n import DEFAULT_LANG, Ref, render_value, t


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
    message: Ref  # looked up in the catalogue of the language asked for
    row: int | None = None  # 1-based, the header is row 1
    column: str = ""  # the header of the column, as written in the file

    def text(self, lang: str = DEFAULT_LANG) -> str:
        where = self.file
        if self.row is not None:
            where += t("sites.at_row", lang, row=self.row)
        if self.column:
            where += t("sites.at_column", lang, column=self.column)
        return t("sites.located", lang, where=where, message=render_value(self.message, lang))

    def __str__(self) -> str:
        return self.text()


class SitesError(ValueError):
    """Raised when a sites file cannot be used; carries every problem found, located."""

    def __init__(self, problems: list[SitesProblem]):
        self.problems = problems
        super().__init__(self.text())

    def text(self, lang: str = DEFAULT_LANG) -> str:
        """Every problem, one a line, in `lang` (say(error, lang) reads this)."""
        return "\n".join(p.text(lang) for p in self.problems)


def _problem(
    file: str, key: str, row: int | None = None, column: str = "", **params
) -> SitesProblem:
    return SitesProblem(file, Ref.to(key, **params), row, column)


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


def text_problem(field: str, value: str) -> Ref | None:
    """Why a site text cannot be used as it is, or None. Invisible characters would go into
    file names, footers and summaries, where bidi controls disguise a name (`滨江‮xslx.exe`)
    and zero-width ones make two codes that look the same; an Excel error value is a formula
    that failed, not a name."""
    bad = [(i, c) for i, c in enumerate(value, 1) if _invisible(c)]
    if bad:
        chars = [f"U+{ord(c):04X}" for _, c in bad[:5]]
        return Ref.to("sites.invisible", field=field, chars=chars, position=bad[0][0])
    if value.upper() in ERROR_VALUES:
        return Ref.to("sites.error_value", field=field, value=value)
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
        raise SitesError([_problem(str(path), "sites.encoding")])
    if "\x00" in text:
        raise SitesError([_problem(str(path), "sites.not_text")])
    delimiter = csv_delimiter(text)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


CSV_DELIMITERS = (",", ";", "\t")  # Excel writes ";" where the decimal mark is a comma


def csv_delimiter(text: str) -> str:
    """The delimiter that splits the header row into the most columns (a comma on a tie)."""
    header = next((line for line in text.splitlines() if line.strip()), "")

    def columns(delimiter: str) -> int:
        return max((len(row) for row in csv.reader([header], delimiter=delimiter)), default=0)

    return max(CSV_DELIMITERS, key=lambda d: (columns(d), d == ","))


def _read_xlsx_rows(path: Path) -> list[list[object]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise SitesError([_problem(str(path), "sites.not_xlsx")]) from None
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
        raise SitesError([_problem(file, "sites.folder")])
    if not path.is_file():
        raise SitesError([_problem(file, "sites.missing")])
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            rows = _read_xlsx_rows(path)
        else:
            rows = _read_csv_rows(path)
    except OSError as error:
        reason = error.strerror
        raise SitesError([_problem(file, "sites.unreadable", reason=reason)]) from None
    while rows and not any(_clean(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise SitesError([_problem(file, "sites.empty")])
    header = [_clean(v) for v in rows[0]]
    columns: dict[str, int] = {}
    problems: list[SitesProblem] = []
    lowered = [h.lower() for h in header]
    for field, names in HEADERS.items():
        found = [i for i, h in enumerate(lowered) if h in names]
        if len(found) > 1:
            problems.append(
                _problem(
                    file, "sites.header_twice", 1, header[found[1]], name=names[0], count=len(found)
                )
            )
        if found:
            columns[field] = found[0]
        elif field in REQUIRED:
            problems.append(
                _problem(file, "sites.header_missing", 1, name=names[0], other=names[1])
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
            _problem(file, "sites.blank", number, header[columns[f]], field=HEADERS[f][0])
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
                _problem(
                    file,
                    "sites.duplicate",
                    number,
                    header[columns["code"]],
                    code=code,
                    first=first_row[code],
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
        raise SitesError([_problem(file, "sites.no_sites", 2)])
    return sites
