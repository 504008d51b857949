"""HQ's Excel table of a standard: import it into the model, export the model back to it.

The table has the columns 一级指标 / 二级指标 / 检查标准 / 检查方法 / 扣分标准 (and optionally
编号), found by their header labels wherever the header row is. Merged or blank cells in the
section, group, method and rule columns mean "same as above". Anything not understood is a
located problem (sheet, cell, the text found); every problem is collected before raising.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from audit_xls.grading.sites import ERROR_VALUES
from audit_xls.i18n import DEFAULT_LANG, Ref, entry, t
from audit_xls.model.standard import (
    DEFAULT_GRADE_BANDS,
    Criterion,
    Group,
    Rule,
    Section,
    Standard,
    dec_str,
)
from audit_xls.standards.loader import StandardError, StandardProblem, problem_at
from audit_xls.standards.phrases import RulePhraseError, parse_rule_phrase

FIELDS = ("code", "section", "group", "text", "method", "rule")  # the table's columns, in order
# A header label (spaces gone, lower-cased) -> its column: HQ's Chinese labels, and the English
# ones `standard export --lang en` writes (i18n table.export.columns, in FIELDS order).
HEADERS = {
    "编号": "code",
    "一级指标": "section",
    "二级指标": "group",
    "检查标准": "text",
    "检查方法": "method",
    "扣分标准": "rule",
    **{
        "".join(label.split()).lower(): f
        for f, label in zip(FIELDS, entry("table.export.columns", "en"), strict=True)
    },
}
REQUIRED_COLUMNS = ("section", "text", "method", "rule")
# The labels a message names (the table's own words, Chinese in either language).
_LABEL = dict(zip(FIELDS, entry("table.export.columns", "zh"), strict=True))
_EXPECTED = [_LABEL[f] for f in ("section", "group", "text", "method", "rule")]
# The small sheet that carries the standard's id and version through an export and import,
# named in Chinese or (an English export) in English.
INFO_SHEET = "标准信息"
INFO_SHEETS = (INFO_SHEET, entry("table.export.info_sheet", "en"))
INFO_LABELS = {
    "标准编号": "id",
    "id": "id",
    "standardid": "id",
    "版本": "version",
    "version": "version",
    "评级": "grade_bands",
    "grade_bands": "grade_bands",
    "gradebands": "grade_bands",
}
# 评级 as written on the 标准信息 sheet: 优秀≥90；良好≥80；合格≥70；不合格≥0
_BAND = re.compile(r"^\s*(\S+?)\s*(?:≥|>=)\s*(\d+(?:\.\d+)?)\s*$")

# "行为规范(10分)", "行为规范\n（10分）": a name, then the points in half- or full-width brackets
# or, as an English export writes it, "Conduct (10 points)"
_POINTS = re.compile(
    r"^(.*?)\s*[(（]\s*([0-9０-９]+(?:[.．][0-9０-９]+)?)\s*(?:分|(?i:points?))\s*[)）]\s*$", re.S
)
# "1." "2、" "3．" (not "3.5米") or "（1）" "(2)" at the start of a line
_NUMBERING = re.compile(
    r"^\s*(?:[0-9０-９]+\s*[.．、](?![0-9０-９])|[(（]\s*[0-9０-９]+\s*[)）])\s*"
)


def _norm(value: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def _cell_text(value: object) -> str:
    """A cell's value as text: '' for blank, integral floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def split_points(text: str) -> tuple[str, Decimal | None]:
    """'行为规范(10分)' -> ('行为规范', 10); a name without points -> (name, None)."""
    match = _POINTS.match(text)
    if not match:
        return _name(text), None
    number = unicodedata.normalize("NFKC", match.group(2))
    return _name(match.group(1)), Decimal(number)


_WIDE = r"[^\x00-\x7f]"  # a CJK or full-width character


def _name(text: str) -> str:
    """A section or group name as one line: spaces (a cell's wrapping) dropped beside Chinese,
    one kept between words (`Code of conduct`)."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(rf"(?<={_WIDE}) | (?={_WIDE})", "", text)


def split_criteria(text: str) -> list[str]:
    """Split a 检查标准 cell into criteria texts, numbering stripped.

    A line starting with a number (1. 2、 （3）) starts a criterion; other lines continue
    the one before (joined without a space, as Chinese text wraps).
    """
    items: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _NUMBERING.match(line)
        if match:
            items.append(line[match.end() :].strip())
        elif items:
            items[-1] += line
        else:
            items.append(line)
    return [item for item in items if item]


@dataclass
class _Row:
    row: int  # Excel row number, as a person sees it
    code: str
    section: str
    group: str
    text: str
    method: str
    rule: str


@dataclass
class _GroupDraft:
    name: str | None
    points: Decimal | None
    cell: str
    method: str | None = None
    method_cell: str = ""
    # (code or None, text, rule, rule text, rule cell, text cell)
    items: list[tuple[str | None, str, Rule | None, str, str]] = field(default_factory=list)


@dataclass
class _SectionDraft:
    name: str
    points: Decimal
    cell: str
    groups: list[_GroupDraft] = field(default_factory=list)


class _TableReader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[StandardProblem] = []
        self.info: dict[str, str] = {}  # id, version, bands from the 标准信息 sheet, if present
        self.info_rows: dict[str, int] = {}  # the row each of them was read from
        self.info_sheet = INFO_SHEET  # its name as found (Chinese, or an English export's)

    def problem(self, where: str | Ref, message: str | Ref, /, **params: object) -> None:
        """A problem at `where` (sheet and cell), worded by the catalogue entry table.`message`
        filled with `params` (or by a Ref already made)."""
        if isinstance(message, Ref):
            self.problems.append(StandardProblem(self.file, None, where, message))
        else:
            self.problems.append(problem_at(self.file, None, where, f"table.{message}", **params))

    def read(self, path: Path) -> tuple[str, str, list[_Row], dict[str, int]] | None:
        import zipfile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        if path.is_dir():
            self.problem("", "folder")
            return None
        if not path.exists():
            self.problem("", "missing")
            return None
        if path.suffix.lower() in (".yaml", ".yml"):
            self.problem("", "is_yaml")
            return None
        try:
            data, _ = bounded_merges(path.read_bytes())
            book = load_workbook(io.BytesIO(data), data_only=True)
        except TableTooLarge as error:
            self.problem(error.where, error.message)
            return None
        except (OSError, EOFError, NotImplementedError, zipfile.BadZipFile, InvalidFileException,
                KeyError, ValueError) as error:  # fmt: skip
            reason = getattr(error, "strerror", None) or Ref.to("table.not_xlsx")
            self.problem("", "cannot_open", reason=reason)
            return None
        info_sheet = next((name for name in INFO_SHEETS if name in book.sheetnames), None)
        if info_sheet is not None:
            self.info_sheet = info_sheet
            self.info = self._info(book[info_sheet])
        for sheet in book.worksheets:
            found = self._header(sheet)
            if found is None:
                continue
            header_row, columns = found
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                self.problem(
                    Ref.to("table.at_row", sheet=sheet.title, row=header_row),
                    "header_columns",
                    columns=[_LABEL[c] for c in missing],
                    expected=_EXPECTED,
                    optional=_LABEL["code"],
                )
                return None
            return (
                sheet.title,
                self._title(sheet, header_row),
                self._rows(sheet, header_row, columns),
                columns,
            )
        self.problem(
            "", "no_header", section=_LABEL["section"], text=_LABEL["text"], expected=_EXPECTED
        )
        return None

    def _info(self, sheet) -> dict[str, str]:
        """标准编号, 版本 and 评级 from column A labels and column B values; blanks left out."""
        info: dict[str, str] = {}
        for number, row in enumerate(sheet.iter_rows(max_col=2, values_only=True), start=1):
            label, value = (*row, None, None)[:2]
            key = INFO_LABELS.get(_norm(label).lower()) if isinstance(label, str) else None
            if key is None or key in info:
                continue
            text = _cell_text(value)
            if text:
                info[key] = text
                self.info_rows[key] = number
        return info

    @staticmethod
    def _header(sheet) -> tuple[int, dict[str, int]] | None:
        for row in sheet.iter_rows():
            columns = {}
            for cell in row:
                field = (
                    HEADERS.get(_norm(cell.value).lower()) if isinstance(cell.value, str) else None
                )
                if field is not None:
                    columns.setdefault(field, cell.column)
            if "section" in columns and "text" in columns:
                return row[0].row, columns
        return None

    @staticmethod
    def _title(sheet, header_row: int) -> str:
        for row in sheet.iter_rows(max_row=header_row - 1):
            for cell in row:
                text = _cell_text(cell.value)
                if text:
                    return text
        return ""

    @staticmethod
    def _rows(sheet, header_row: int, columns: dict[str, int]) -> list[_Row]:
        # a merged range's value sits in its top-left cell: spread it over the range
        merged: dict[tuple[int, int], object] = {}
        for cells in sheet.merged_cells.ranges:
            value = sheet.cell(cells.min_row, cells.min_col).value
            for r in range(cells.min_row, cells.max_row + 1):
                for c in range(cells.min_col, cells.max_col + 1):
                    merged[(r, c)] = value

        def value(r: int, name: str, spread: bool = True) -> str:
            if name not in columns:
                return ""
            c = columns[name]
            if spread and (r, c) in merged:
                return _cell_text(merged[(r, c)])
            return _cell_text(sheet.cell(r, c).value)

        rows = []
        for r in range(header_row + 1, sheet.max_row + 1):
            # a merged 检查标准 cell is one criterion: only its top-left cell counts
            row = _Row(
                r,
                value(r, "code", spread=False),
                value(r, "section"),
                value(r, "group"),
                value(r, "text", spread=False),
                value(r, "method"),
                value(r, "rule"),
            )
            if any((row.code, row.section, row.group, row.text, row.method, row.rule)):
                rows.append(row)
        return rows


# --- merged ranges bounded by the sheet's real extent ------------------------------------

# A table's cells, as far as its farthest filled cell (rows x columns): HQ's tables have a few
# thousand. More is refused before openpyxl, which makes an object per cell of every merged
# range, reads the file (a `<mergeCell ref="F1:XFD1048576"/>` is 17 billion cells).
MAX_TABLE_CELLS = 2_000_000
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_CELL_REF = re.compile(rb"<(?:[\w.-]+:)?c\b[^>]*?\sr\s*=\s*[\"']([A-Za-z]{1,3})([0-9]{1,7})[\"']")
_ROW_REF = re.compile(rb"<(?:[\w.-]+:)?row\b[^>]*?\sr\s*=\s*[\"']([0-9]{1,7})[\"']")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\sref\s*=\s*[\"']([^\"']*)[\"'][^>]*?/>")
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


class TableTooLarge(ValueError):
    def __init__(self, where: str, message: Ref) -> None:
        super().__init__(t(message.key, "zh", **dict(message.params)))
        self.where = where
        self.message = message


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def bounded_merges(data: bytes) -> tuple[bytes, int]:
    """The workbook with every merged range cut to its sheet's real extent (the farthest cell
    written in it); ranges wholly outside it are dropped (they merge nothing but empty cells).
    Returns the bytes to load and how many ranges were cut. The file itself is never changed.
    TableTooLarge when a sheet's extent passes MAX_TABLE_CELLS."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {i.filename: i for i in source.infolist() if _SHEET_PART.fullmatch(i.filename)}
    changed: dict[str, bytes] = {}
    clamped = 0
    for name, info in parts.items():
        if info.file_size > 64 * 2**20:
            raise TableTooLarge(name, Ref.to("table.too_large", part=name, size=info.file_size))
        xml = source.read(info)
        if b"mergeCell" not in xml:
            continue
        rows = [int(r) for r in _ROW_REF.findall(xml)]
        cols, cell_rows = [], []
        for letters, row in _CELL_REF.findall(xml):
            cols.append(_column_number(letters.decode()))
            cell_rows.append(int(row))
        last_row, last_col = max(rows + cell_rows, default=1), max(cols, default=1)
        if last_row * last_col > MAX_TABLE_CELLS:
            raise TableTooLarge(
                name,
                Ref.to("table.extent", part=name, rows=last_row, cols=last_col,
                       limit=MAX_TABLE_CELLS),
            )  # fmt: skip

        def clamp(match: re.Match[bytes], last_row: int = last_row, last_col: int = last_col):
            nonlocal clamped
            corners = _REF.findall(match.group(1).decode("ascii", "replace"))
            if len(corners) != 2:
                return match.group(0)
            (c1, r1), (c2, r2) = corners
            top, left = int(r1), _column_number(c1)
            bottom, right = int(r2), _column_number(c2)
            if top > last_row or left > last_col:
                clamped += 1
                return b""
            if bottom <= last_row and right <= last_col:
                return match.group(0)
            clamped += 1
            ref = f"{c1}{r1}:{_column_letter(min(right, last_col))}{min(bottom, last_row)}"
            return b'<mergeCell ref="' + ref.encode() + b'"/>'

        bounded = _MERGE.sub(clamp, xml)
        if bounded != xml:
            changed[name] = bounded
    if not changed:
        return data, 0
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, changed.get(info.filename) or source.read(info))
    return out.getvalue(), clamped


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def import_table(path: str | Path, id: str | None = None, version: str | None = None) -> Standard:
    """Read HQ's Excel table into a Standard; raise StandardError listing every problem."""
    path = Path(path)
    reader = _TableReader(str(path))
    found = reader.read(path)
    if found is None:
        raise StandardError(reader.problems)
    sheet, title, rows, columns = found

    def at(name: str, row: int) -> str:
        return f"{sheet}!{_column_letter(columns[name])}{row}"

    sections: list[_SectionDraft] = []
    section_text = group_text = method = rule_text = ""
    rule: Rule | None = None
    rule_cell = ""
    above: dict[str, str] = {}
    for row in rows:
        for name in ("code", "section", "group", "text", "method", "rule"):
            value = getattr(row, name)
            # an Excel error value is a formula that failed; said once for a merged cell
            if name in columns and value.upper() in ERROR_VALUES and above.get(name) != value:
                reader.problem(at(name, row.row), "error_value", value=value)
            above[name] = value
        if row.section and row.section != section_text:
            section_text, group_text = row.section, ""
            name, points = split_points(row.section)
            if points is None or not name:
                reader.problem(
                    at("section", row.row),
                    "section_no_points",
                    found=row.section,
                    example="行为规范(10分)",
                )
                points = None
            elif points <= 0:
                reader.problem(
                    at("section", row.row),
                    "section_points",
                    found=row.section,
                    points=dec_str(points),
                )
                points = None
            sections.append(_SectionDraft(name, points or Decimal(0), at("section", row.row)))
            sections[-1].groups.append(_GroupDraft(None, None, at("section", row.row)))
        if not sections:
            reader.problem(
                at("section", row.row),
                "no_section_above",
                found=row.text or row.group or row.method or row.rule,
            )
            continue
        section = sections[-1]
        if row.group and row.group != group_text:
            group_text = row.group
            name, points = split_points(row.group)
            if not name:
                reader.problem(
                    at("group", row.row), "group_no_name", found=row.group, example="交付准备(5分)"
                )
            if points is not None and points <= 0:
                reader.problem(
                    at("group", row.row), "group_points", found=row.group, points=dec_str(points)
                )
            elif points is not None and section.points and points > section.points:
                reader.problem(
                    at("group", row.row),
                    "group_over_section",
                    found=row.group,
                    points=dec_str(points),
                    section=dec_str(section.points),
                )
            draft = _GroupDraft(name or None, points, at("group", row.row))
            if section.groups[-1].items or section.groups[-1].name is not None:
                section.groups.append(draft)
            else:  # the section's unnamed first group had no criteria yet: this replaces it
                section.groups[-1] = draft
        group = section.groups[-1]
        if row.method:
            method = row.method
        if row.rule and row.rule != rule_text:
            rule_text, rule_cell = row.rule, at("rule", row.row)
            rule = _parse_rule(reader, row.rule, rule_cell, section.points)
        if not row.text:
            continue
        texts = split_criteria(row.text)
        codes: list[str | None] = [None] * len(texts)
        if "code" in columns:
            given = [line.strip() for line in row.code.splitlines() if line.strip()]
            if len(given) != len(texts):
                reader.problem(
                    at("code", row.row),
                    "code_count",
                    code=row.code,
                    given=len(given),
                    cell=at("text", row.row),
                    count=len(texts),
                )
            else:
                codes = list(given)
        if not method:
            reader.problem(at("method", row.row), "method_missing")
        elif group.method is None:
            group.method, group.method_cell = method, at("method", row.row)
        elif group.method != method:
            reader.problem(
                at("method", row.row),
                "method_differs",
                method=method,
                cell=group.method_cell,
                first=group.method,
            )
        if not rule_text:
            reader.problem(at("rule", row.row), "rule_missing")
        for code, text in zip(codes, texts, strict=True):
            # kept even without a rule (already reported) so no "no criteria" error follows
            group.items.append((code, text, rule, rule_text, at("text", row.row)))
    id = id or reader.info.get("id")
    version = version or reader.info.get("version")
    return _build(reader, sections, path, title, id, version)


def _parse_rule(
    reader: _TableReader, text: str, cell: str, section_points: Decimal | None
) -> Rule | None:
    # a rule written over two lines ("一个问题点扣0.5分\n最高扣2分") reads as one phrase
    phrase = "，".join(line.strip(" ，,") for line in text.splitlines() if line.strip())
    try:
        rule = parse_rule_phrase(phrase)
    except RulePhraseError:
        reader.problem(cell, "rule_unknown", text=text)
        return None
    if rule.unit is not None and rule.unit <= 0:
        reader.problem(cell, "rule_unit", text=text, unit=dec_str(rule.unit))
        return None
    if rule.cap is not None and rule.cap <= 0:
        reader.problem(cell, "rule_cap", text=text, cap=dec_str(rule.cap))
        return None
    if rule.cap is not None and section_points and rule.cap > section_points:
        reader.problem(
            cell,
            "rule_cap_over_section",
            text=text,
            cap=dec_str(rule.cap),
            points=dec_str(section_points),
        )
        return None
    return rule


def _build(
    reader: _TableReader,
    drafts: list[_SectionDraft],
    path: Path,
    title: str,
    id: str | None,
    version: str | None,
) -> Standard:
    sections = []
    seen: dict[str, str] = {}
    if not drafts and not reader.problems:
        reader.problem("", "no_criteria")
    for s_index, draft in enumerate(drafts, start=1):
        groups = [g for g in draft.groups if g.items or g.name is not None]
        if not any(g.items for g in groups):
            reader.problem(draft.cell, "section_empty", name=draft.name)
            continue
        codes = [code for g in groups for code, *_ in g.items]
        section_code = str(s_index)
        if all(codes) and all("." in c for c in codes):  # type: ignore[operator]
            heads = {c.split(".")[0] for c in codes}  # type: ignore[union-attr]
            if len(heads) == 1:
                section_code = heads.pop()
        built_groups = []
        for g_index, group in enumerate(groups, start=1):
            if not group.items:
                reader.problem(group.cell, "group_empty", name=group.name)
                continue
            if any(rule is None for _, _, rule, _, _ in group.items):
                continue  # its rule cell was reported already
            counts = Counter(rule for _, _, rule, _, _ in group.items)
            # the most common rule is the group's; the others are per-criterion overrides
            group_rule = max(counts, key=lambda r: counts[r])
            criteria = []
            for item, (code, text, rule, _, cell) in enumerate(group.items, start=1):
                code = code or f"{s_index}.{g_index}.{item:02d}"
                if code in seen:
                    reader.problem(cell, "code_twice", code=code, first=seen[code])
                seen.setdefault(code, cell)
                criteria.append(Criterion(code, text, rule, own_rule=rule != group_rule))
            built_groups.append(
                Group(group.name, group.method or "", group_rule, tuple(criteria), group.points)
            )
        sections.append(Section(section_code, draft.name, draft.points, tuple(built_groups)))
    bands = DEFAULT_GRADE_BANDS
    if "grade_bands" in reader.info:
        bands = parse_grade_bands(reader.info["grade_bands"])
        if bands is None:
            reader.problem(
                f"{reader.info_sheet}!B{reader.info_rows['grade_bands']}",
                "bands_unknown",
                found=reader.info["grade_bands"],
                example=grade_bands_text(DEFAULT_GRADE_BANDS),
            )
    if reader.problems:
        raise StandardError(reader.problems)
    return Standard(
        id=id or path.stem,
        name=title or path.stem,
        version=version or "1.0",
        sections=tuple(sections),
        grade_bands=bands or DEFAULT_GRADE_BANDS,
    )


def grade_bands_text(bands: tuple[tuple[str, Decimal], ...], lang: str = DEFAULT_LANG) -> str:
    separator = t("table.export.band_separator", lang)
    return separator.join(f"{name}≥{dec_str(minimum)}" for name, minimum in bands)


def parse_grade_bands(text: str) -> tuple[tuple[str, Decimal], ...] | None:
    """评级 text back into bands, highest first; None when it does not read as bands."""
    bands = []
    for part in re.split(r"[；;，,、\n]", text):
        if not part.strip():
            continue
        match = _BAND.match(part)
        if match is None:
            return None
        bands.append((match.group(1), Decimal(match.group(2))))
    names = [name for name, _ in bands]
    if not bands or len(set(names)) != len(names):
        return None
    return tuple(sorted(bands, key=lambda band: band[1], reverse=True))


# --- export -------------------------------------------------------------------------------


def _points_label(name: str, points: Decimal, lang: str = DEFAULT_LANG) -> str:
    return t("table.export.points", lang, name=name, points=dec_str(points))


def export_table(standard: Standard, path: str | Path, lang: str = DEFAULT_LANG) -> None:
    """Write the standard as HQ's table (atomically); OSError when the path is unwritable."""
    from audit_xls.atomic import atomic_write_bytes

    # built in memory first: xlsxwriter would raise its own FileCreateError, not OSError
    atomic_write_bytes(path, export_table_bytes(standard, lang))


def export_table_bytes(standard: Standard, lang: str = DEFAULT_LANG) -> bytes:
    """The standard as HQ's table: title, header, one criterion a row, merged cells; labels,
    rule phrases and points in `lang` (Chinese: HQ's own table; import reads either)."""
    import datetime
    import io

    import xlsxwriter

    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    # a fixed creation date keeps the file byte-identical from run to run
    book.set_properties({"title": standard.name, "created": datetime.datetime(2024, 1, 1)})
    sheet = book.add_worksheet(t("table.export.sheet", lang))
    base = {"border": 1, "valign": "vcenter", "text_wrap": True, "font_size": 10}
    title_fmt = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head_fmt = book.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9E1F2"})
    center_fmt = book.add_format({**base, "align": "center"})
    text_fmt = book.add_format({**base, "align": "left"})
    for col, width in enumerate((9, 14, 14, 70, 18, 22)):
        sheet.set_column(col, col, width)
    columns = entry("table.export.columns", lang)
    sheet.merge_range(0, 0, 0, len(columns) - 1, standard.name, title_fmt)
    sheet.write_row(1, 0, columns, head_fmt)
    sheet.freeze_panes(2, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(1)
    sheet.fit_to_pages(1, 0)

    def block(first: int, last: int, col: int, value: str, fmt) -> None:
        if last > first:
            sheet.merge_range(first, col, last, col, value, fmt)
        else:
            sheet.write_string(first, col, value, fmt)

    row = 2
    for section in standard.sections:
        section_first = row
        for group in section.groups:
            group_first = row
            for item, criterion in enumerate(group.criteria, start=1):
                sheet.write_string(row, 0, criterion.code, center_fmt)
                sheet.write_string(row, 3, f"{item}. {criterion.text}", text_fmt)
                row += 1
            group_last = row - 1
            name = group.name or ""
            if group.points is not None:
                name = _points_label(name, group.points, lang)
            block(group_first, group_last, 2, name, center_fmt)
            block(group_first, group_last, 4, group.method, center_fmt)
            # runs of equal rules share one merged cell; an override gets its own
            run_first = group_first
            phrases = [c.rule.phrase(lang) for c in group.criteria]
            for i, phrase in enumerate(phrases):
                if i + 1 == len(phrases) or phrases[i + 1] != phrase:
                    block(run_first, group_first + i, 5, phrase, center_fmt)
                    run_first = group_first + i + 1
        points = _points_label(section.name, section.points, lang)
        block(section_first, row - 1, 1, points, center_fmt)
    _write_info(book, standard, head_fmt, text_fmt, lang)
    book.close()
    return output.getvalue()


def _write_info(book, standard: Standard, head_fmt, text_fmt, lang: str) -> None:
    """The 标准信息 sheet: id and version, which import reads back (the name is the title)."""
    sheet = book.add_worksheet(t("table.export.info_sheet", lang))
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 40)
    id_label, version_label, bands_label = entry("table.export.info_labels", lang)
    sheet.write_row(0, 0, entry("table.export.info_columns", lang), head_fmt)
    sheet.write_row(1, 0, (id_label, standard.id), text_fmt)
    sheet.write_row(2, 0, (version_label, standard.version), text_fmt)
    sheet.write_row(3, 0, (bands_label, grade_bands_text(standard.grade_bands, lang)), text_fmt)
    sheet.write_string(5, 0, t("table.export.info_note", lang))


# --- the standard import / export commands, as library calls -----------------------------------


def import_to_file(
    table: str | Path, out: str | Path, *, id: str | None = None, version: str | None = None
) -> Standard:
    """HQ's table read into the standard file `out` (the standard as loaded back from it).
    PathPolicyError when `out` is the table, StandardError for the table's problems,
    CannotWrite (paths.cannot_write) when `out` cannot be written."""
    from audit_xls.paths import cannot_write, check_outputs
    from audit_xls.standards.loader import save_standard

    check_outputs([("--out", out)], [("TABLE", table)])
    imported = import_table(table, id=id, version=version)
    try:
        return save_standard(imported, out)
    except OSError as error:
        raise cannot_write(out, error, f"{imported.id}.yaml") from None


def export_to_file(file: str | Path, out: str | Path, lang: str = DEFAULT_LANG) -> Standard:
    """The standard file `file` written as HQ's table `out`; the standard. PathPolicyError
    when `out` is the file, StandardError, CannotWrite when `out` cannot be written."""
    from audit_xls.paths import cannot_write, check_outputs
    from audit_xls.standards.loader import load_standard

    check_outputs([("--out", out)], [("FILE", file)])
    standard = load_standard(file)
    try:
        export_table(standard, out, lang)
    except OSError as error:
        raise cannot_write(out, error, f"{standard.id}.xlsx") from None
    return standard
