"""Hostile returns: one generated file per case, each with the outcome audit-xls documents.

Every case starts from a workbook of the shipped standard issued by `build_all` (one site per
case, so no two cases share a workbook id) or is made from scratch; nothing here is an opaque
binary. `tests/test_hostile.py` grades them together and one by one, and keeps
docs/hostile-returns.md in step with the messages they produce.

By hand: `python tests/hostile.py OUT` writes the issued folder, the returns and the register.
"""

from __future__ import annotations

import io
import os
import random
import re
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `returns`, when run as a script

from picture_files import (
    SVG,
    add_excel_cell_images,
    add_floating,
    add_wps_cell_images,
    jpeg,
    png,
    png_header_only,
    replace_parts,
)
from returns import fill

from audit_xls.grading.register import IssuedEntry, read_issued
from audit_xls.grading.sites import Site
from audit_xls.model.standard import Standard
from audit_xls.standards.loader import load_standard, standard_from_mapping
from audit_xls.workbook import layout as layout_module
from audit_xls.workbook.build import build_all, build_workbook
from audit_xls.workbook.layout import Col, Layout, cell
from audit_xls.workbook.template import load_template

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "standards" / "kefu-dudao.yaml"
PERIOD = "2026-11"
OTHER_PERIOD = "2026-10"
ISSUED_ON = date(2026, 11, 1)
REGION = "华东"
CHECKLIST = "检查表"
COVER = "基本信息"
MANIFEST = layout_module.MANIFEST_SHEET
COVER_DATE = cell(layout_module.COVER_ROW["inspection_date"], layout_module.COVER_VALUE_COL)

GRADED, SENT_BACK, SKIPPED, SUPERSEDED = "graded", "sent_back", "skipped", "superseded"
ALL_PASS = ("符合", None)
# Zip bombs: a sheet part of this many bytes, written by streaming one pre-compressed block.
BOMB_BYTES = 1 << 30
RATIO_BOMB_BYTES = 48 << 20
BOMB_CHUNK = (b"<row><c><v>0</v></c></row>" * 45_000)[: 1 << 20]

Expected = tuple[str, str, str]  # (code, sheet, cell) of one diagnostic, or (skip code, "", "")


@dataclass(frozen=True)
class Case:
    """One hostile return: the files it puts in the returns folder and what each becomes."""

    key: str
    title: str  # what was done to the file, as HQ would describe it (docs page)
    files: dict[str, tuple[str, tuple[Expected, ...]]]  # name -> (outcome, diagnostics)
    make: Callable[[Kit], dict[str, bytes]]
    site: str = ""  # the issued site it is made from ("" when made from scratch)
    mtimes: dict[str, int] = field(default_factory=dict)  # name -> mtime (resubmissions)


class Kit:
    """The shipped standard, its cell plan, and the workbooks issued for this month's sites."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.standard = load_standard(SHIPPED)
        self.plan = Layout(self.standard, load_template("zh"))
        self.issued_dir = self.folder / "issued"
        self.books: dict[str, bytes] = {}
        self.register: list[IssuedEntry] = []

    def issue(self, codes: list[str], unknown: str) -> None:
        """Build this month's workbooks; `unknown` is issued with a standard later removed."""
        sites = [Site(code, f"测试项目{code}", REGION) for code in codes if code != unknown]
        build_all(self.standard, sites, PERIOD, self.issued_dir, issued_on=ISSUED_ON)
        build_all(
            unknown_standard(self.standard),
            [Site(unknown, f"测试项目{unknown}", REGION)],
            PERIOD,
            self.issued_dir,
            issued_on=ISSUED_ON,
            merge=True,
        )
        self.register = read_issued(self.issued_dir / f"issued-{PERIOD}.csv")
        for entry in self.register:
            self.books[entry.site_code] = (self.issued_dir / entry.file).read_bytes()

    def row(self, code: str) -> int:
        """1-based checklist row of a criterion, as a person sees it."""
        return self.plan.criterion_row[code] + 1

    def at(self, code: str, col: int) -> str:
        return cell(self.plan.criterion_row[code], col)

    def fill(self, site: str, answers=None, **options) -> bytes:
        options.setdefault("default", ALL_PASS)
        return fill(self.books[site], self.standard, answers or {}, **options)

    def picture(self, site: str, picture: bytes) -> bytes:
        """A return failing 1.1.01 with a picture in its 照片 cell whose bytes are `picture`."""
        first = self.at("1.1.01", Col.PHOTO)
        data = add_floating(self.fill(site, {"1.1.01": ("不符合", 1, "工牌未佩戴")}), CHECKLIST,
                            [(first, png())])  # fmt: skip
        return replace_parts(data, {"xl/media/image1.png": picture})


def last_row_anchor(data: bytes) -> bytes:
    """The first floating picture moved to the sheet's last row (0-based 1048575)."""
    drawing = zipfile.ZipFile(io.BytesIO(data)).read("xl/drawings/drawing1.xml")
    start = drawing.index(b"<row>")
    end = drawing.index(b"</row>", start)
    moved = drawing[:start] + b"<row>1048575" + drawing[end:]
    return replace_parts(data, {"xl/drawings/drawing1.xml": moved})


# 50 MB that do not compress, as a photo's bytes barely do
BIG_PICTURE = random.Random(50).randbytes(50 * 2**20)


def unknown_standard(standard: Standard) -> Standard:
    """The shipped standard, version 0.9 with one criterion worded differently: not on disk."""
    import yaml

    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["version"] = "0.9"
    data["sections"][0]["groups"][0]["criteria"][0]["text"] = "员工着装符合要求（旧版）。"
    return standard_from_mapping(data)


# --- byte-level makers ---------------------------------------------------------------------


def save(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """Copy a zip, letting `change(name, part)` replace parts (None drops one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = change(info.filename, src.read(info))
            if part is not None:
                dst.writestr(info.filename, part, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str) -> str:
    """The zip path of a sheet's XML (openpyxl writes xl/worksheets/sheetN.xml)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    index = book.sheetnames.index(sheet)
    book.close()
    return f"xl/worksheets/sheet{index + 1}.xml"


class _BlockDeflate:
    """A zlib compressor that deflates each distinct chunk once and repeats its block.

    Each block ends with a full flush, so it does not depend on what came before and the same
    bytes are a valid continuation every time: a 1 GiB part costs one CRC pass, not a deflate.
    """

    def __init__(self) -> None:
        self.zlib = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.blocks: dict[bytes, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        block = self.blocks.get(data)
        if block is None:
            block = self.zlib.compress(data) + self.zlib.flush(zlib.Z_FULL_FLUSH)
            self.blocks[data] = block
        return block

    def flush(self) -> bytes:
        return self.zlib.flush()


def zip_bomb(data: bytes, part: str, size: int) -> bytes:
    """The workbook with `part` replaced by `size` bytes of rows, streamed (never in memory)."""
    out = io.BytesIO()
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    tail = b"</sheetData></worksheet>"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
                continue
            target = zipfile.ZipInfo(part, date_time=(2026, 11, 12, 9, 0, 0))
            target.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(target, "w", force_zip64=True) as handle:
                handle._compressor = _BlockDeflate()  # type: ignore[attr-defined]
                handle.write(head)
                for _ in range((size - len(head) - len(tail)) // len(BOMB_CHUNK)):
                    handle.write(BOMB_CHUNK)
                handle.write(tail)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [\n'
    b'  <!ENTITY lol "lol">\n'
    + b"".join(
        b'  <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n"
)


def xml_bomb(data: bytes, part: str) -> bytes:
    """Billion laughs declared before the sheet's root element; a cell uses the last entity."""

    def poison(name: str, xml: bytes) -> bytes:
        if name != part:
            return xml
        body = xml.split(b"?>", 1)[1].lstrip() if xml.startswith(b"<?xml") else xml
        return BILLION_LAUGHS + body.replace(b"<sheetData>", b"<sheetData><!-- &lol9; -->", 1)

    return rezip(data, poison)


def far_cell(data: bytes, part: str) -> bytes:
    """One value at the last cell of the sheet, XFD1048576: a 20 KB file, a 512 GB grid."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    return rezip(data, lambda name, xml: xml.replace(b"</sheetData>", far) if name == part else xml)


def encrypt(data: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def corrupt(data: bytes) -> bytes:
    """Zero 512 bytes in the middle: the local entries break, the central directory survives."""
    middle = len(data) // 2
    return data[:middle] + b"\0" * 512 + data[middle + 512 :]


def plain_workbook() -> bytes:
    """A workbook an inspector made on their own, not issued by audit-xls."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "督导检查"
    sheet.append(["编号", "检查标准", "检查结果", "问题点数"])
    sheet.append(["1.1.01", "符合《员工行为规范指南》的要求。", "符合", None])
    return save(book)


def gbk_zip(member: str, data: bytes) -> bytes:
    """A zip as made on Chinese Windows: the member name in GBK, no UTF-8 flag."""

    class GbkInfo(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):
            return self.filename.encode("gbk"), self.flag_bits & ~0x800

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(GbkInfo(member, date_time=(2026, 11, 20, 9, 0, 0)), data)
    return out.getvalue()


# --- reading cases: byte-level edits of one part ------------------------------------------


def edit_part(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    return rezip(data, lambda name, xml: change(xml) if name == part else xml)


def set_cell(xml: bytes, ref: str, cell: bytes) -> bytes:
    """Replace the cell element `ref` of a sheet's XML (as openpyxl wrote it) by `cell`."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)')
    assert pattern.search(xml), ref
    return pattern.sub(lambda _: cell, xml, count=1)


def escape_sheet_name(data: bytes, name: str, hexadecimal: bool = False) -> bytes:
    """The sheet's name in xl/workbook.xml written as numeric character references."""
    spelled = "".join(f"&#x{ord(c):X};" if hexadecimal else f"&#{ord(c)};" for c in name)
    return edit_part(
        data,
        "xl/workbook.xml",
        lambda xml: xml.replace(f'name="{name}"'.encode(), f'name="{spelled}"'.encode()),
    )


def rename_part(data: bytes, part: str, new: str, rels_target: str | None = None) -> bytes:
    """Store `part` under the name `new` (the relationship may keep the old name)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels" and rels_target is not None:
                body = body.replace(f'Target="/{part}"'.encode(), rels_target.encode())
            dst.writestr(
                new if info.filename == part else info.filename, body, zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def shadow_part(data: bytes, part: str, shadow: bytes) -> bytes:
    """A second member named like `part` in other letter case, stored first in the archive
    (calamine opens the last name that matches in any case: the file is refused, whichever
    holds what; tests/test_read.py has the other orders)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        dst.writestr(part.upper(), shadow, zipfile.ZIP_DEFLATED)
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def part_twice(data: bytes, part: str, second: bytes) -> bytes:
    """`part` stored a second time, last in the archive, holding `second`: calamine opens the
    last member of a name, the checks read the first (the file is refused)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w") as dst,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # "Duplicate name": on purpose
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
        dst.writestr(part, second, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def far_xml(xml: bytes) -> bytes:
    return xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    )


def string_amplifier(data: bytes, part: str, cells: int, size: int = 1 << 20) -> bytes:
    """One shared string of `size` bytes (random CJK, so it does not compress) referred to from
    `cells` cells of the sheet: a 0.8 MB file asking the reader for cells x size bytes."""
    rng = random.Random(11)
    text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(size // 3))
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
        f'openxmlformats.org/spreadsheetml/2006/main" count="{cells}" uniqueCount="1">'
        f"<si><t>{text}</t></si></sst>"
    ).encode()
    rows = b"".join(
        b'<row r="%d"><c r="L%d" t="s"><v>0</v></c></row>' % (r, r) for r in range(200, 200 + cells)
    )
    with_sst = rezip(
        data, lambda n, x: x.replace(b"</sheetData>", rows + b"</sheetData>") if n == part else x
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(with_sst)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
        dst.writestr("xl/sharedStrings.xml", sst, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def prefixed_cell(xml: bytes, ref: str, formula: bytes, value: bytes) -> bytes:
    """The cell written with a namespace prefix (x: bound to the main namespace)."""
    xml = xml.replace(
        b"<worksheet ",
        b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
        1,
    )
    cell = b'<x:c r="%s" t="str"><x:f>%s</x:f><x:v>%s</x:v></x:c>' % (ref.encode(), formula, value)
    return set_cell(xml, ref, cell)


# --- workbook edits (openpyxl, applied before the one save) -------------------------------


def edit_cell(sheet: str, ref: str, change: Callable[[object], object]):
    def apply(book: openpyxl.Workbook) -> None:
        target = book[sheet][ref]
        target.value = change(target.value)

    return apply


def swap_rows(first: int, second: int):
    def apply(book: openpyxl.Workbook) -> None:
        sheet = book[CHECKLIST]
        for col in range(1, len(Col) + 1):
            a, b = sheet.cell(first, col), sheet.cell(second, col)
            a.value, b.value = b.value, a.value

    return apply


def unprotect(book: openpyxl.Workbook) -> None:
    for sheet in book.worksheets:
        sheet.protection.sheet = False
        sheet.data_validations.dataValidation = []


FORMULA_NOTES = ("=1+2 消防通道堵塞", "+86 电话三响未接", "-地面湿滑无警示", "@客服主管 未跟进")
LONG_NOTE = ("前台接待记录缺失；" * 3641 + "前台接")[:32767]


def cases(kit: Kit) -> list[Case]:
    """Every hostile case, in the order of the docs page."""
    k = kit
    d = k.at
    first = "1.1.01"
    section2 = k.plan.section_row["2"]
    # The deduction formula is compared with the scorer on a row failing with 2 problem points.
    fail2 = {first: ("不符合", 2, "工牌未佩戴")}

    def one(name, outcome, *expected):
        return {name: (outcome, tuple(expected))}

    def c(key, title, files, make, site=""):
        return Case(key, title, files, make, site)

    resubmit_old, resubmit_new = "H27 交回.xlsx", "H27 交回（修改后）.xlsx"
    out = [
        # good returns, for the mixed folder
        c(
            "good-pass",
            "正常填写：全部符合",
            one("good-pass.xlsx", GRADED),
            lambda k: {"good-pass.xlsx": k.fill("G01")},
            "G01",
        ),
        c(
            "good-problems",
            "正常填写：有问题点、房屋交付整节不适用",
            one("华东/滨江花园.xlsx", GRADED),
            lambda k: {
                "华东/滨江花园.xlsx": k.fill(
                    "G02",
                    {
                        first: ("不符合", 2, "两名保安未佩戴工牌"),
                        "1.1.06": ("不符合", 1, "电话五响才接"),
                        **{c.code: ("不适用", None) for c in k.standard.sections[1].criteria},
                    },
                )
            },
            "G02",
        ),
        c(
            "good-no-count",
            "不符合未填问题点数（按 1 个计，警告）",
            one(
                "good-no-count.xlsx",
                GRADED,
                ("answer.fail_without_points", CHECKLIST, d("1.1.04", Col.POINTS)),
            ),
            lambda k: {
                "good-no-count.xlsx": k.fill("G03", {"1.1.04": ("不符合", None, "制服有污渍")})
            },
            "G03",
        ),
        # the file itself
        c(
            "truncated",
            "文件被截断（传输中断）",
            one("truncated.xlsx", SENT_BACK, ("file.corrupt", "", "")),
            lambda k: {"truncated.xlsx": (b := k.fill("H01"))[: len(b) * 6 // 10]},
            "H01",
        ),
        c(
            "corrupt",
            "zip 内容损坏（中间 512 字节被清零）",
            one("corrupt.xlsx", SENT_BACK, ("file.corrupt", "", "")),
            lambda k: {"corrupt.xlsx": corrupt(k.fill("H02"))},
            "H02",
        ),
        c(
            "text",
            "文本文件改名为 .xlsx",
            one("text-renamed.xlsx", SENT_BACK, ("file.not_spreadsheet", "", "")),
            lambda k: {"text-renamed.xlsx": "项目,得分\nH01,95\n".encode()},
        ),
        c(
            "empty",
            "空文件（0 字节）",
            one("empty.xlsx", SENT_BACK, ("file.empty", "", "")),
            lambda k: {"empty.xlsx": b""},
        ),
        c(
            "password",
            "设置了打开密码",
            one("password.xlsx", SENT_BACK, ("file.encrypted", "", "")),
            lambda k: {"password.xlsx": encrypt(k.fill("H03"), "1234")},
            "H03",
        ),
        c(
            "zip-bomb",
            "压缩炸弹：3 MB 文件内含 1 GiB 的工作表",
            one("zip-bomb.xlsx", SENT_BACK, ("file.too_large", "", "")),
            lambda k: {
                "zip-bomb.xlsx": zip_bomb(
                    k.books["H04"], sheet_part(k.books["H04"], CHECKLIST), BOMB_BYTES
                )
            },
            "H04",
        ),
        c(
            "zip-bomb-ratio",
            "压缩炸弹：压缩比异常（48 MiB 的工作表）",
            one("zip-bomb-ratio.xlsx", SENT_BACK, ("file.compression_ratio", "", "")),
            lambda k: {
                "zip-bomb-ratio.xlsx": zip_bomb(
                    k.books["H04"], sheet_part(k.books["H04"], CHECKLIST), RATIO_BOMB_BYTES
                )
            },
            "H04",
        ),
        c(
            "xml-bomb",
            "XML 实体炸弹（billion laughs）",
            one("xml-bomb.xlsx", SENT_BACK, ("file.xml_doctype", "", "")),
            lambda k: {"xml-bomb.xlsx": xml_bomb(b := k.fill("H05"), sheet_part(b, CHECKLIST))},
            "H05",
        ),
        c(
            "cell-bomb",
            "单元格范围炸弹：一个值写在最后一格 XFD1048576",
            one("cell-bomb.xlsx", SENT_BACK, ("file.sheet_too_large", CHECKLIST, "XFD1048576")),
            lambda k: {"cell-bomb.xlsx": far_cell(b := k.fill("H30"), sheet_part(b, CHECKLIST))},
            "H30",
        ),
        # the manifest, the register and the standard
        c(
            "foreign",
            "不是 audit-xls 生成的工作簿（自制表格）",
            one("not-audit-xls.xlsx", SENT_BACK, ("manifest.missing", "", "")),
            lambda k: {"not-audit-xls.xlsx": plain_workbook()},
        ),
        c(
            "manifest-removed",
            "隐藏清单工作表被删除",
            one("manifest-removed.xlsx", SENT_BACK, ("manifest.missing", "", "")),
            lambda k: {
                "manifest-removed.xlsx": k.fill(
                    "H06", change=lambda book: book.remove(book[MANIFEST])
                )
            },
            "H06",
        ),
        c(
            "manifest-edited",
            "隐藏清单中的值被修改（校验和不符）",
            one("manifest-edited.xlsx", SENT_BACK, ("manifest.tampered", MANIFEST, "")),
            lambda k: {
                "manifest-edited.xlsx": k.fill(
                    "H07", change=edit_cell(MANIFEST, "B9", lambda v: "别的项目")
                )
            },
            "H07",
        ),
        c(
            "manifest-visible",
            "隐藏清单被取消隐藏（内容未改）",
            one("manifest-visible.xlsx", GRADED, ("manifest.visible", MANIFEST, "")),
            lambda k: {
                "manifest-visible.xlsx": k.fill(
                    "H08", change=lambda book: setattr(book[MANIFEST], "sheet_state", "visible")
                )
            },
            "H08",
        ),
        c(
            "other-site",
            "别的项目的检查表（不在本月发放登记表中）",
            one("other-site.xlsx", SENT_BACK, ("issued.not_issued", MANIFEST, "")),
            lambda k: {
                "other-site.xlsx": fill(
                    build_workbook(
                        k.standard, Site("X01", "外区项目", "华南"), PERIOD, issued_on=ISSUED_ON
                    ),
                    k.standard,
                    {},
                    default=ALL_PASS,
                )
            },
        ),
        c(
            "other-month",
            "本项目上个月的检查表",
            one("other-month.xlsx", SENT_BACK, ("issued.not_issued", MANIFEST, "")),
            lambda k: {
                "other-month.xlsx": fill(
                    build_workbook(
                        k.standard,
                        Site("H09", "测试项目H09", REGION),
                        OTHER_PERIOD,
                        issued_on=date(2026, 10, 1),
                    ),
                    k.standard,
                    {},
                    default=ALL_PASS,
                    inspection_date=date(2026, 10, 15),
                )
            },
            "H09",
        ),
        c(
            "unknown-standard",
            "标准版本未知（下发所用版本已不在标准目录中）",
            one("unknown-standard.xlsx", SENT_BACK, ("standard.unknown", MANIFEST, "")),
            lambda k: {
                "unknown-standard.xlsx": fill(
                    k.books["H10"], unknown_standard(k.standard), {}, default=ALL_PASS
                )
            },
            "H10",
        ),
        # locked content
        c(
            "criterion-text",
            "检查标准文字被修改",
            one(
                "criterion-text.xlsx", SENT_BACK, ("locked.changed", CHECKLIST, d(first, Col.TEXT))
            ),
            lambda k: {
                "criterion-text.xlsx": k.fill(
                    "H11",
                    change=edit_cell(
                        CHECKLIST,
                        d(first, Col.TEXT),
                        lambda v: str(v).replace("符合", "基本符合", 1),
                    ),
                )
            },
            "H11",
        ),
        c(
            "points-label",
            "一级指标分值被修改",
            one(
                "points-label.xlsx",
                SENT_BACK,
                ("locked.changed", CHECKLIST, cell(section2, Col.TEXT)),
            ),
            lambda k: {
                "points-label.xlsx": k.fill(
                    "H12",
                    change=edit_cell(CHECKLIST, cell(section2, Col.TEXT), lambda v: "分值：5分"),
                )
            },
            "H12",
        ),
        c(
            "rule-text",
            "扣分标准被修改",
            one("rule-text.xlsx", SENT_BACK, ("locked.changed", CHECKLIST, d(first, Col.RULE))),
            lambda k: {
                "rule-text.xlsx": k.fill(
                    "H13",
                    change=edit_cell(
                        CHECKLIST, d(first, Col.RULE), lambda v: "一人一个问题点扣0.1分"
                    ),
                )
            },
            "H13",
        ),
        c(
            "formula-constant",
            "扣分公式被改成常数 0",
            one(
                "formula-constant.xlsx",
                SENT_BACK,
                ("locked.formula_edited", CHECKLIST, d(first, Col.DEDUCTION)),
            ),
            lambda k: {
                "formula-constant.xlsx": k.fill(
                    "H14", fail2, change=edit_cell(CHECKLIST, d(first, Col.DEDUCTION), lambda v: 0)
                )
            },
            "H14",
        ),
        c(
            "rows-deleted",
            "删除了一行检查标准",
            one(
                "rows-deleted.xlsx",
                SENT_BACK,
                ("locked.rows_changed", CHECKLIST, d("1.1.03", Col.CODE)),
            ),
            lambda k: {
                "rows-deleted.xlsx": k.fill(
                    "H15", change=lambda book: book[CHECKLIST].delete_rows(k.row("1.1.03"))
                )
            },
            "H15",
        ),
        c(
            "rows-inserted",
            "插入了一行",
            one(
                "rows-inserted.xlsx",
                SENT_BACK,
                ("locked.rows_changed", CHECKLIST, d("1.1.03", Col.CODE)),
            ),
            lambda k: {
                "rows-inserted.xlsx": k.fill(
                    "H16", change=lambda book: book[CHECKLIST].insert_rows(k.row("1.1.03"))
                )
            },
            "H16",
        ),
        c(
            "rows-moved",
            "两行检查标准互换了位置",
            one(
                "rows-moved.xlsx",
                SENT_BACK,
                ("locked.rows_changed", CHECKLIST, d("1.1.02", Col.CODE)),
            ),
            lambda k: {
                "rows-moved.xlsx": k.fill("H17", change=swap_rows(k.row("1.1.02"), k.row("1.1.05")))
            },
            "H17",
        ),
        c(
            "rows-hidden",
            "隐藏了检查标准行（已填写）",
            one(
                "rows-hidden.xlsx",
                GRADED,
                ("checklist.hidden_rows", CHECKLIST, d("1.1.02", Col.CODE)),
            ),
            lambda k: {
                "rows-hidden.xlsx": k.fill(
                    "H18",
                    change=lambda book: setattr(
                        book[CHECKLIST].row_dimensions[k.row("1.1.02")], "hidden", True
                    ),
                )
            },
            "H18",
        ),
        c(
            "unprotected",
            "撤销了工作表保护、清除了数据验证（填写内容有效）",
            one("unprotected.xlsx", GRADED),
            lambda k: {"unprotected.xlsx": k.fill("H19", fail2, change=unprotect)},
            "H19",
        ),
        c(
            "outside-dropdown",
            "撤销保护后检查结果填了下拉列表以外的值",
            one(
                "outside-dropdown.xlsx",
                SENT_BACK,
                ("answer.invalid_result", CHECKLIST, d(first, Col.RESULT)),
            ),
            lambda k: {
                "outside-dropdown.xlsx": k.fill("H20", {first: ("合格", None)}, change=unprotect)
            },
            "H20",
        ),
        # answers
        c(
            "answer-formulas",
            '答案填成公式（="符合"、=1+1）',
            one(
                "answer-formulas.xlsx",
                SENT_BACK,
                ("answer.formula", CHECKLIST, d(first, Col.RESULT)),
                ("answer.formula", CHECKLIST, d("1.1.02", Col.POINTS)),
            ),
            lambda k: {
                "answer-formulas.xlsx": k.fill(
                    "H21", {first: ('="符合"', None), "1.1.02": ("不符合", "=1+1")}
                )
            },
            "H21",
        ),
        c(
            "points-fullwidth",
            "问题点数为全角数字「３」（接受）",
            one("points-fullwidth.xlsx", GRADED),
            lambda k: {
                "points-fullwidth.xlsx": k.fill("H22", {first: ("不符合", "３", "三人未戴工牌")})
            },
            "H22",
        ),
        c(
            "points-decimal",
            "问题点数为 1.5",
            one(
                "points-decimal.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {"points-decimal.xlsx": k.fill("H23", {first: ("不符合", 1.5)})},
            "H23",
        ),
        c(
            "points-negative",
            "问题点数为 -1",
            one(
                "points-negative.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {"points-negative.xlsx": k.fill("H24", {first: ("不符合", -1)})},
            "H24",
        ),
        c(
            "points-chinese",
            "问题点数为「两个」",
            one(
                "points-chinese.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {"points-chinese.xlsx": k.fill("H25", {first: ("不符合", "两个")})},
            "H25",
        ),
        c(
            "long-description",
            "问题描述长 32,767 字（Excel 单元格上限）",
            one("long-description.xlsx", GRADED),
            lambda k: {"long-description.xlsx": k.fill("H26", {first: ("不符合", 1, LONG_NOTE)})},
            "H26",
        ),
        c(
            "merged-inputs",
            "合并了填写单元格（检查结果与问题点数）",
            one(
                "merged-inputs.xlsx",
                SENT_BACK,
                ("checklist.merged", CHECKLIST, d(first, Col.RESULT)),
            ),
            lambda k: {
                "merged-inputs.xlsx": k.fill(
                    "H28",
                    change=lambda book: book[CHECKLIST].merge_cells(
                        f"{d(first, Col.RESULT)}:{d(first, Col.POINTS)}"
                    ),
                )
            },
            "H28",
        ),
        c(
            "formula-like-notes",
            "问题描述以 =、+、-、@ 开头（汇总和 CSV 中为文本）",
            one("formula-like-notes.xlsx", GRADED),
            lambda k: {
                "formula-like-notes.xlsx": k.fill(
                    "H29",
                    {
                        code: ("不符合", 1, note)
                        for code, note in zip(
                            ("1.1.01", "1.1.02", "1.1.03", "1.1.04"), FORMULA_NOTES, strict=True
                        )
                    },
                )
            },
            "H29",
        ),
        # reading: every sheet located as the reader locates it, bounded before it is read
        c(
            "far-cell-escaped-name",
            "单元格范围炸弹，且工作表名写成字符引用（&#26816;&#26597;&#34920;）",
            one(
                "far-escaped-name.xlsx",
                SENT_BACK,
                ("file.sheet_too_large", CHECKLIST, "XFD1048576"),
            ),
            lambda k: {
                "far-escaped-name.xlsx": escape_sheet_name(
                    edit_part(b := k.fill("K01"), sheet_part(b, CHECKLIST), far_xml), CHECKLIST
                )
            },
            "K01",
        ),
        c(
            "far-cell-hex-name",
            "单元格范围炸弹，且工作表名写成十六进制字符引用（&#x68C0;…）",
            one("far-hex-name.xlsx", SENT_BACK, ("file.sheet_too_large", CHECKLIST, "XFD1048576")),
            lambda k: {
                "far-hex-name.xlsx": escape_sheet_name(
                    edit_part(b := k.fill("K02"), sheet_part(b, CHECKLIST), far_xml),
                    CHECKLIST,
                    hexadecimal=True,
                )
            },
            "K02",
        ),
        c(
            "far-cell-part-case",
            "单元格范围炸弹，且工作表部件名大小写与关系不同（Sheet2.xml）",
            one("far-part-case.xlsx", SENT_BACK, ("file.sheet_too_large", CHECKLIST, "XFD1048576")),
            lambda k: {
                "far-part-case.xlsx": rename_part(
                    edit_part(b := k.fill("K03"), p := sheet_part(b, CHECKLIST), far_xml),
                    p,
                    p.replace("sheet", "Sheet"),
                )
            },
            "K03",
        ),
        c(
            "far-cell-relative-target",
            "单元格范围炸弹，且关系写成 xl/ 开头的相对路径",
            one(
                "far-relative-target.xlsx",
                SENT_BACK,
                ("file.sheet_too_large", CHECKLIST, "XFD1048576"),
            ),
            lambda k: {
                # calamine reads a relative target below xl/: the part is xl/xl/worksheets/..
                "far-relative-target.xlsx": rename_part(
                    edit_part(b := k.fill("K04"), p := sheet_part(b, CHECKLIST), far_xml),
                    p,
                    f"xl/{p}",
                    f'Target="{p}"',
                )
            },
            "K04",
        ),
        c(
            "far-cell-shadow-part",
            "单元格范围炸弹藏在同名（大小写不同）且排在前面的部件中",
            one("far-shadow-part.xlsx", SENT_BACK, ("file.corrupt", "", "")),
            lambda k: {
                "far-shadow-part.xlsx": shadow_part(
                    b := k.fill("K05"),
                    p := sheet_part(b, CHECKLIST),
                    far_xml(zipfile.ZipFile(io.BytesIO(b)).read(p)),
                )
            },
            "K05",
        ),
        c(
            "far-cell-part-twice",
            "单元格范围炸弹藏在同名部件中，排在后面（读取器打开的那个）",
            one("far-part-twice.xlsx", SENT_BACK, ("file.corrupt", "", "")),
            lambda k: {
                "far-part-twice.xlsx": part_twice(
                    b := k.fill("K21"),
                    p := sheet_part(b, CHECKLIST),
                    far_xml(zipfile.ZipFile(io.BytesIO(b)).read(p)),
                )
            },
            "K21",
        ),
        c(
            "part-case",
            "工作表部件名大小写与关系不同（内容完好）",
            one("part-case.xlsx", GRADED),
            lambda k: {
                "part-case.xlsx": rename_part(
                    b := k.fill("K06"), p := sheet_part(b, CHECKLIST), p.replace("sheet", "SHEET")
                )
            },
            "K06",
        ),
        c(
            "sheet-part-missing",
            "关系指向不存在的工作表部件",
            one("sheet-part-missing.xlsx", SENT_BACK, ("file.sheet_unchecked", CHECKLIST, "")),
            lambda k: {
                "sheet-part-missing.xlsx": rename_part(
                    b := k.fill("K07"), sheet_part(b, CHECKLIST), "xl/worksheets/gone.xml"
                )
            },
            "K07",
        ),
        c(
            "string-amplifier",
            "共享字符串放大：1 MB 的文本被 2,000 个单元格引用（文件 0.8 MB）",
            one("string-amplifier.xlsx", SENT_BACK, ("file.strings_too_large", CHECKLIST, "")),
            lambda k: {
                "string-amplifier.xlsx": string_amplifier(
                    b := k.fill("K08"), sheet_part(b, CHECKLIST), 2_000
                )
            },
            "K08",
        ),
        c(
            "date-far-negative",
            "检查日期填了 -1e20（读取程序换算日期时会崩溃）",
            one(
                "date-far-negative.xlsx", SENT_BACK, ("cell.number_out_of_range", COVER, COVER_DATE)
            ),
            lambda k: {"date-far-negative.xlsx": k.fill("K09", inspection_date=-1e20)},
            "K09",
        ),
        c(
            "date-error",
            "检查日期为错误值 #DIV/0!",
            one("date-error.xlsx", SENT_BACK, ("cover.date_invalid", COVER, COVER_DATE)),
            lambda k: {
                "date-error.xlsx": edit_part(
                    b := k.fill("K10"),
                    sheet_part(b, COVER),
                    lambda x: set_cell(
                        x, COVER_DATE, b'<c r="%s" t="e"><v>#DIV/0!</v></c>' % COVER_DATE.encode()
                    ),
                )
            },
            "K10",
        ),
        c(
            "cached-nan",
            "扣分的缓存值为 NaN",
            one(
                "cached-nan.xlsx",
                SENT_BACK,
                ("locked.formula_edited", CHECKLIST, d(first, Col.DEDUCTION)),
            ),
            lambda k: {
                "cached-nan.xlsx": edit_part(
                    b := k.fill("K11"),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x,
                        d(first, Col.DEDUCTION),
                        b'<c r="%s"><v>NaN</v></c>' % d(first, Col.DEDUCTION).encode(),
                    ),
                )
            },
            "K11",
        ),
        c(
            "cached-infinite",
            "扣分的缓存值为 1e400（无穷大）",
            one(
                "cached-infinite.xlsx",
                SENT_BACK,
                ("locked.formula_edited", CHECKLIST, d(first, Col.DEDUCTION)),
            ),
            lambda k: {
                "cached-infinite.xlsx": edit_part(
                    b := k.fill("K12"),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x,
                        d(first, Col.DEDUCTION),
                        b'<c r="%s"><v>1e400</v></c>' % d(first, Col.DEDUCTION).encode(),
                    ),
                )
            },
            "K12",
        ),
        c(
            "points-5000-digits",
            "问题点数为 5,000 位数字",
            one(
                "points-5000-digits.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {"points-5000-digits.xlsx": k.fill("K13", {first: ("不符合", "1" * 5000)})},
            "K13",
        ),
        c(
            "points-nan",
            "问题点数为数值 NaN",
            one(
                "points-nan.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {
                "points-nan.xlsx": edit_part(
                    b := k.fill("K14", {first: ("不符合", 1)}),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x,
                        d(first, Col.POINTS),
                        b'<c r="%s"><v>NaN</v></c>' % d(first, Col.POINTS).encode(),
                    ),
                )
            },
            "K14",
        ),
        c(
            "points-huge-number",
            "问题点数为 1e300",
            one(
                "points-huge-number.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {"points-huge-number.xlsx": k.fill("K15", {first: ("不符合", 1e300)})},
            "K15",
        ),
        c(
            "points-na-error",
            "问题点数为错误值 #N/A（不当作空白）",
            one(
                "points-na.xlsx",
                SENT_BACK,
                ("answer.invalid_points", CHECKLIST, d(first, Col.POINTS)),
            ),
            lambda k: {
                "points-na.xlsx": edit_part(
                    b := k.fill("K16", {first: ("不符合", 1)}),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x,
                        d(first, Col.POINTS),
                        b'<c r="%s" t="e"><v>#N/A</v></c>' % d(first, Col.POINTS).encode(),
                    ),
                )
            },
            "K16",
        ),
        c(
            "result-na-error",
            "检查结果为错误值 #N/A",
            one(
                "result-na.xlsx",
                SENT_BACK,
                ("answer.invalid_result", CHECKLIST, d(first, Col.RESULT)),
            ),
            lambda k: {
                "result-na.xlsx": edit_part(
                    b := k.fill("K17"),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x,
                        d(first, Col.RESULT),
                        b'<c r="%s" t="e"><v>#N/A</v></c>' % d(first, Col.RESULT).encode(),
                    ),
                )
            },
            "K17",
        ),
        c(
            "formula-without-ref",
            "答案填成公式，单元格不带 r 属性（<c><f>）",
            one(
                "formula-without-ref.xlsx",
                SENT_BACK,
                ("answer.formula", CHECKLIST, d(first, Col.RESULT)),
            ),
            lambda k: {
                "formula-without-ref.xlsx": edit_part(
                    b := k.fill("K18"),
                    sheet_part(b, CHECKLIST),
                    lambda x: set_cell(
                        x, d(first, Col.RESULT), '<c t="str"><f>"符合"</f><v>符合</v></c>'.encode()
                    ),
                )
            },
            "K18",
        ),
        c(
            "formula-prefixed",
            "答案填成公式，带命名空间前缀（<x:c r=…><x:f>）",
            one(
                "formula-prefixed.xlsx",
                SENT_BACK,
                ("answer.formula", CHECKLIST, d(first, Col.RESULT)),
            ),
            lambda k: {
                "formula-prefixed.xlsx": edit_part(
                    b := k.fill("K19"),
                    sheet_part(b, CHECKLIST),
                    lambda x: prefixed_cell(
                        x, d(first, Col.RESULT), '"符合"'.encode(), "符合".encode()
                    ),
                )
            },
            "K19",
        ),
        c(
            "manifest-superscript",
            "隐藏清单的行号被改成「²」",
            one("manifest-superscript.xlsx", SENT_BACK, ("manifest.tampered", MANIFEST, "")),
            lambda k: {
                "manifest-superscript.xlsx": k.fill(
                    "K20",
                    change=edit_cell(
                        MANIFEST, f"A{layout_module.MANIFEST_FIRST_CRITERION + 1}", lambda v: "²"
                    ),
                )
            },
            "K20",
        ),
        # pictures (photo evidence): a bad picture is a warning on its row, never a send-back
        c(
            "photos-floating-wps",
            "照片：浮动图片和 WPS 嵌入单元格图片，放在不符合项的照片格（采用）",
            one("photos-floating-wps.xlsx", GRADED),
            lambda k: {
                "photos-floating-wps.xlsx": add_wps_cell_images(
                    add_floating(k.fill("J01", fail2), CHECKLIST, [(d(first, Col.PHOTO), png())]),
                    CHECKLIST,
                    {d(first, Col.PHOTO): jpeg()},
                )
            },
            "J01",
        ),
        c(
            "photos-excel-in-cell",
            "照片：Excel「放置在单元格中」的图片（采用）",
            one("photos-excel-in-cell.xlsx", GRADED),
            lambda k: {
                "photos-excel-in-cell.xlsx": add_excel_cell_images(
                    k.fill("J02", fail2), CHECKLIST, {d(first, Col.PHOTO): png("green")}
                )
            },
            "J02",
        ),
        c(
            "picture-pixel-bomb",
            "图片：PNG 声明 100,000 × 100,000 像素（解压炸弹）",
            one(
                "picture-pixel-bomb.xlsx",
                GRADED,
                ("picture.pixels", CHECKLIST, d(first, Col.PHOTO)),
            ),
            lambda k: {
                "picture-pixel-bomb.xlsx": k.picture("J03", png_header_only(100_000, 100_000))
            },
            "J03",
        ),
        c(
            "picture-truncated",
            "图片：JPEG 被截断",
            one(
                "picture-truncated.xlsx", GRADED, ("picture.broken", CHECKLIST, d(first, Col.PHOTO))
            ),
            lambda k: {"picture-truncated.xlsx": k.picture("J04", jpeg(size=(400, 300))[:700])},
            "J04",
        ),
        c(
            "picture-svg",
            "图片：SVG（不是照片格式）",
            one("picture-svg.xlsx", GRADED, ("picture.not_image", CHECKLIST, d(first, Col.PHOTO))),
            lambda k: {"picture-svg.xlsx": k.picture("J05", SVG)},
            "J05",
        ),
        c(
            "picture-50mb",
            "图片：一张 50 MB 的图片",
            one("picture-50mb.xlsx", GRADED, ("picture.too_large", CHECKLIST, d(first, Col.PHOTO))),
            lambda k: {"picture-50mb.xlsx": k.picture("J06", b"\xff\xd8\xff" + BIG_PICTURE)},
            "J06",
        ),
        c(
            "pictures-500",
            "图片：一个工作簿里 500 张图片",
            one("pictures-500.xlsx", GRADED, ("picture.too_many", CHECKLIST, "")),
            lambda k: {
                "pictures-500.xlsx": add_floating(
                    k.fill("J07", fail2),
                    CHECKLIST,
                    [(d(first, Col.PHOTO), png(size=(10 + i, 10))) for i in range(500)],
                )
            },
            "J07",
        ),
        c(
            "picture-last-row",
            "图片：锚定在第 1,048,576 行（不在任何检查标准行内）",
            one("picture-last-row.xlsx", GRADED, ("picture.no_criterion", CHECKLIST, "K1048576")),
            lambda k: {"picture-last-row.xlsx": last_row_anchor(k.picture("J08", png()))},
            "J08",
        ),
        c(
            "cellimages-bad-targets",
            "图片：WPS cellimages 指向不存在的文件和外部网址",
            one(
                "cellimages-bad-targets.xlsx",
                GRADED,
                ("picture.missing", CHECKLIST, d(first, Col.PHOTO)),
                ("picture.external", CHECKLIST, d("1.1.02", Col.PHOTO)),
            ),
            lambda k: {
                "cellimages-bad-targets.xlsx": add_wps_cell_images(
                    k.fill("J09", fail2),
                    CHECKLIST,
                    {d(first, Col.PHOTO): png(), d("1.1.02", Col.PHOTO): png()},
                    targets={
                        d(first, Col.PHOTO): "media/nothere.png",
                        d("1.1.02", Col.PHOTO): "https://example.com/x.png",
                    },
                )
            },
            "J09",
        ),
        # the batch
        Case(
            "resubmitted",
            "同一工作簿交回两次（较新的为准，两份都列出）",
            {
                resubmit_old: (SUPERSEDED, (("duplicate.superseded", "", ""),)),
                resubmit_new: (GRADED, (("duplicate.kept", "", ""),)),
            },
            lambda k: {resubmit_old: k.fill("H27", fail2), resubmit_new: k.fill("H27")},
            "H27",
            {resubmit_old: 1_794_000_000, resubmit_new: 1_794_100_000},
        ),
    ]
    junk = ["~$good-pass.xlsx", ".~good-pass.xlsx", ".~lock.good-pass.xlsx#", "Thumbs.db",
            "desktop.ini", ".DS_Store", "__MACOSX/._good-pass.xlsx"]  # fmt: skip
    out += [
        c(
            f"junk-{name}",
            "办公软件或系统生成的临时文件",
            one(name, SKIPPED, ("skip.junk", "", "")),
            lambda k, name=name: {name: b"\0owner file"},
        )
        for name in junk
    ]
    out.append(
        c(
            "et",
            "WPS .et 格式",
            one("H30 督导表.et", SENT_BACK, ("file.et_unreadable", "", "")),
            lambda k: {"H30 督导表.et": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 WPS"},
        )
    )
    return out


# Sites issued this month: G04 is issued and never returned (missing).
ISSUED_SITES = [
    "G01", "G02", "G03", "G04", *(f"H{i:02d}" for i in range(1, 31)),
    *(f"K{i:02d}" for i in range(1, 22)), *(f"J{i:02d}" for i in range(1, 10)),
]  # fmt: skip
UNKNOWN_SITE = "H10"
# A .zip of returns with GBK member names is graded as RETURNS itself (a .zip in a folder is
# not opened): this is its one member.
GBK_MEMBER = "华东/测试项目G01 督导检查表.xlsx"


def write_case(case: Case, contents: dict[str, bytes], folder: Path) -> list[Path]:
    paths = []
    for name, data in contents.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if name in case.mtimes:
            os.utime(path, (case.mtimes[name], case.mtimes[name]))
        paths.append(path)
    return paths


def generate(folder: Path) -> tuple[Kit, list[Case], dict[str, dict[str, bytes]]]:
    """Issue the month and make every case's files (in memory); the kit holds the register."""
    kit = Kit(folder)
    kit.issue(ISSUED_SITES, UNKNOWN_SITE)
    all_cases = cases(kit)
    made = {case.key: case.make(kit) for case in all_cases}
    return kit, all_cases, made


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/hostile.py OUT", file=sys.stderr)
        return 2
    out = Path(argv[0])
    kit, all_cases, made = generate(out)
    returns = out / "returns"
    for case in all_cases:
        write_case(case, made[case.key], returns)
    (out / "returns-gbk.zip").write_bytes(gbk_zip(GBK_MEMBER, made["good-pass"]["good-pass.xlsx"]))
    print(f"{returns}: {sum(len(m) for m in made.values())} files; register {kit.issued_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
