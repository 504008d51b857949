"""Pictures in a returned workbook: found wherever an application stores them, then checked.

A pure function of the file's bytes (`extract_pictures`), so it runs where the file is read
(a reader process with a memory ceiling). It returns compact records: for each picture the
rows it may belong to, where it is stored, and either its checked bytes (with a small
thumbnail) or the reason it was refused. Nothing here raises for bad input, and nothing is
dropped silently: a picture that cannot be used is a record with a problem.

Where pictures live:
- floating pictures (Excel, WPS, LibreOffice): `xl/drawings/drawingN.xml` anchors of the
  sheet (`twoCellAnchor`, `oneCellAnchor`, `absoluteAnchor`; rows zero-based), image by
  `a:blip r:embed` through the drawing's relationships;
- WPS 嵌入单元格图片: the cell formula `=_xlfn.DISPIMG("ID_…",1)`, `xl/cellimages.xml` names
  the picture, `xl/_rels/cellimages.xml.rels` points into `xl/media/`;
- Excel "place in cell": the cell's `vm` -> `xl/metadata.xml` -> `xl/richData/` rich value
  -> `richValueRel.xml` and its relationships;
- .ods: `draw:frame` inside a `table:table-cell` (anchored to the cell), image by
  `xlink:href` inside the package.
Not read (each reported as unsupported): frames anchored to an .ods page, pictures linked to
files outside the workbook, VML pictures, sheet backgrounds, pictures in .xls files.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from audit_xls.i18n import Ref
from audit_xls.model.diagnostics import Diagnostic, make
from audit_xls.model.results import Photo

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

# Limits per picture and per file (documented in docs/photos.md).
MAX_PICTURE_BYTES = 10 * 1024 * 1024
MAX_PICTURES = 100  # pictures checked per file; more are reported, not read
MAX_KEPT_BYTES = 60 * 1024 * 1024  # all kept pictures of one file together
MAX_PIXELS = 40_000_000  # width x height of a picture, before anything is decoded
MAX_JPEG_PIXELS = 120_000_000  # JPEGs are decoded at 1/8 scale for the check: cheaper
MAX_SIDE = 30_000
MAX_PART_BYTES = 16 * 1024 * 1024  # an XML part read for pictures (drawings, cellimages)
THUMBNAIL_SIZE = (160, 120)
FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "BMP": "bmp", "WEBP": "webp"}
LAST_ROW = 1_048_575  # 0-based, the last row a sheet has

EMU_PER_POINT = 12_700
DEFAULT_ROW_POINTS = 15.0

NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_R_EMBED = f"{{{NS['r']}}}embed"
_R_LINK = f"{{{NS['r']}}}link"
_R_ID = f"{{{NS['r']}}}id"
ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODS_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
XLINK = "http://www.w3.org/1999/xlink"

# Parts whose presence means a file may hold pictures; without any, there are none to find.
_PICTURE_PARTS = (b"xl/drawings/", b"xl/media/", b"xl/cellimages", b"xl/richdata/",
                  b"xl/metadata", b"pictures/")  # fmt: skip
_DISPIMG = re.compile(r"""DISPIMG\(\s*["']([^"']{1,200})["']""", re.IGNORECASE)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


@dataclass(frozen=True)
class Found:
    """One picture of a returned file, checked: kept (data) or refused (problem)."""

    sheet: str  # the sheet it is on ("" when not known)
    rows: tuple[int, ...]  # 0-based rows it may belong to, best first (top-left, then centre)
    cell: str  # A1 name of its anchor's top-left cell, for messages ("" when none)
    how: str  # "floating" | "wps_cell" | "excel_cell" | "ods" | "unsupported"
    part: str  # where the bytes are in the file (xl/media/image1.png), or what was named
    data: bytes | None = None  # the picture as stored, when kept
    sha256: str = ""
    ext: str = ""  # png, jpg, gif, bmp, webp
    width: int = 0  # as shown (EXIF orientation applied)
    height: int = 0
    thumbnail: bytes | None = None  # a small JPEG, orientation applied
    problem: str = ""  # diagnostic code when refused
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def kept(self) -> bool:
        return self.data is not None and not self.problem


@dataclass
class Pictures:
    """Every picture found in one file, and the cells holding WPS's DISPIMG formula."""

    found: list[Found] = field(default_factory=list)
    dispimg_cells: set[tuple[int, int]] = field(default_factory=set)  # checklist (row, col)
    not_read: int = 0  # pictures past MAX_PICTURES, reported once


def extract_pictures(data: bytes, sheet: str) -> Pictures:
    """The pictures of a returned .xlsx/.ods (sheet: the checklist's name); never raises."""
    out = Pictures()
    try:
        if data.startswith(b"PK"):
            names = _central_directory(data).lower()  # part names, in any case
            if not any(part in names for part in _PICTURE_PARTS):
                return out  # the usual return: nothing that stores or points at a picture
            archive = zipfile.ZipFile(io.BytesIO(data))
            package = _Package(archive)
            if "content.xml" in archive.NameToInfo:
                refs = list(_ods_pictures(package, sheet))
            else:
                refs = list(_xlsx_pictures(package, sheet, out))
            _check_all(package, refs, out)
        elif data.startswith(b"\xd0\xcf\x11\xe0"):
            count = _xls_picture_count(data)
            if count:
                out.found.append(
                    Found("", (), "", "unsupported", "xls", problem="picture.unsupported",
                          params={"how": "xls", "count": count})
                )  # fmt: skip
    except Exception as error:  # a hostile package past the reader's checks: report, not crash
        out.found.append(
            Found("", (), "", "unsupported", "", problem="picture.unreadable",
                  params={"error": _short(error)})
        )  # fmt: skip
    return out


def photos_for_criteria(
    pictures: Pictures,
    criterion_rows: dict[int, str],
    checklist: str,
    *,
    file: str,
    lang: str,
    outside: str = "picture.no_criterion",
) -> tuple[list[Photo], list[Diagnostic]]:
    """The kept pictures tied to criteria (checklist order), and a warning for every other.

    A picture belongs to the criterion on its anchor's top-left row or, when that row is not a
    criterion's, on the row its centre is over. The same picture twice on one criterion is
    kept once. `outside`: the warning for a picture on no such row (a reply's rows are problems).
    """
    order = {code: i for i, code in enumerate(dict.fromkeys(criterion_rows[r] for r in
                                                             sorted(criterion_rows)))}  # fmt: skip
    photos: list[tuple[int, int, Photo]] = []
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for index, found in enumerate(pictures.found):
        where = {"file": file, "sheet": found.sheet, "cell": found.cell}
        part = found.part or "-"
        if found.problem:
            params = dict(found.params)
            if "how" in params:  # how it was stored, in the reader's language
                params["how"] = Ref(f"picture.how.{params['how']}")
            diagnostics.append(make(found.problem, lang, **where, part=part, **params))
            continue
        code = next((criterion_rows[r] for r in found.rows if r in criterion_rows), None)
        if found.sheet != checklist or code is None:
            diagnostics.append(make(outside, lang, **where, part=part))
            continue
        if (code, found.sha256) in seen:
            continue
        seen.add((code, found.sha256))
        photo = Photo(code, found.sha256, found.ext, found.how, found.cell, found.width,
                      found.height, found.thumbnail, found.data)  # fmt: skip
        photos.append((order[code], index, photo))
    if pictures.not_read:
        total = len(pictures.found) + pictures.not_read
        diagnostics.append(make("picture.too_many", lang, file=file, sheet=checklist,
                                count=total, limit=MAX_PICTURES))  # fmt: skip
    return [photo for _, _, photo in sorted(photos, key=lambda p: p[:2])], diagnostics


def _central_directory(data: bytes) -> bytes:
    """The zip's central directory (where every part name is), or the whole file when it
    cannot be located simply (a comment holding the signature, zip64): never too little."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return data
    size = int.from_bytes(data[end + 12 : end + 16], "little")
    offset = int.from_bytes(data[end + 16 : end + 20], "little")
    if offset + size != end or size == 0:  # prepended bytes, zip64: read it all
        return data
    return data[offset : offset + size]


# --- the package ---------------------------------------------------------------------------


class _Package:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = {name.lower(): name for name in archive.namelist()}

    def info(self, path: str) -> zipfile.ZipInfo | None:
        name = self.names.get(path.lower())
        return self.archive.getinfo(name) if name is not None else None

    def read(self, path: str, limit: int = MAX_PART_BYTES) -> bytes | None:
        info = self.info(path)
        if info is None or info.file_size > limit:
            return None
        with self.archive.open(info) as part:
            return part.read(limit + 1)[:limit]

    def xml(self, path: str) -> Element | None:
        # the XML parsers are imported only for a file that stores pictures (the usual return
        # has none: extract_pictures returns before any part is parsed)
        from defusedxml import ElementTree

        raw = self.read(path)
        if raw is None:
            return None
        try:
            return ElementTree.fromstring(raw, forbid_dtd=True)
        except Exception:  # a broken or hostile part: no pictures from it
            return None

    def rels(self, path: str) -> dict[str, tuple[str, bool]]:
        """Relationship id -> (target part path or external URL, external?) of a part."""
        folder, name = posixpath.split(path)
        root = self.xml(posixpath.join(folder, "_rels", name + ".rels"))
        found: dict[str, tuple[str, bool]] = {}
        if root is None:
            return found
        for rel in root.iter(f"{{{NS['rel']}}}Relationship"):
            target = rel.get("Target", "")
            external = rel.get("TargetMode", "").lower() == "external"
            if not external:
                target = _resolve(folder, target)
            found.setdefault(rel.get("Id", ""), (target, external))
        return found


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(folder, target))


@dataclass(frozen=True)
class _Ref:
    """A picture located but not yet read: where it sits and which part holds it."""

    sheet: str
    rows: tuple[int, ...]
    cell: str
    how: str
    target: str  # part path, or external URL
    external: bool = False
    problem: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def _cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _parse_ref(ref: str) -> tuple[int, int] | None:
    match = _CELL_REF.match(ref.strip())
    if not match:
        return None
    col = 0
    for letter in match.group(1).upper():
        col = col * 26 + ord(letter) - 64
    return int(match.group(2)) - 1, col - 1


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


# --- .xlsx ----------------------------------------------------------------------------------


def _sheet_parts(package: _Package) -> dict[str, str]:
    """Sheet name -> part path."""
    workbook = package.xml("xl/workbook.xml")
    if workbook is None:
        return {}
    rels = package.rels("xl/workbook.xml")
    paths: dict[str, str] = {}
    for sheet in workbook.iter(f"{{{NS['s']}}}sheet"):
        target = rels.get(sheet.get(_R_ID, ""))
        if target and not target[1]:
            paths.setdefault(sheet.get("name", ""), target[0])
    return paths


class _RowPositions:
    """Row tops in EMU from a sheet's row heights, for a picture's centre (O(custom rows))."""

    def __init__(self, sheet_xml: Element | None):
        default = DEFAULT_ROW_POINTS
        custom: dict[int, float] = {}
        if sheet_xml is not None:
            fmt = sheet_xml.find(f"{{{NS['s']}}}sheetFormatPr")
            if fmt is not None:
                default = _float(fmt.get("defaultRowHeight"), default)
            data = sheet_xml.find(f"{{{NS['s']}}}sheetData")
            for row in data.iter(f"{{{NS['s']}}}row") if data is not None else ():
                r, ht = _int(row.get("r"), 0), row.get("ht")
                if 1 <= r <= LAST_ROW + 1 and ht is not None:
                    custom[r - 1] = _float(ht, default)
        self.default = default * EMU_PER_POINT
        self.custom = sorted((r, h * EMU_PER_POINT) for r, h in custom.items())

    def top(self, row: int) -> float:
        """EMU from the sheet's top to the top of a 0-based row."""
        y = row * self.default
        for r, height in self.custom:
            if r >= row:
                break
            y += height - self.default
        return y

    def row_at(self, y: float) -> int:
        """The 0-based row an EMU offset from the top falls in."""
        row, top = 0, 0.0
        for r, height in self.custom:
            gap = r - row
            if y < top + gap * self.default:
                break
            top += gap * self.default
            row = r
            if y < top + height:
                return min(row, LAST_ROW)
            top += height
            row = r + 1
        return min(row + int(max(y - top, 0) // self.default), LAST_ROW)

    def height(self, row: int) -> float:
        for r, height in self.custom:
            if r == row:
                return height
        return self.default


def _float(text: str | None, default: float) -> float:
    try:
        value = float(text or "")
    except ValueError:
        return default
    return value if 0 < value < 10_000 else default


def _xlsx_pictures(package: _Package, checklist: str, out: Pictures) -> Iterator[_Ref]:
    sheets = _sheet_parts(package)
    for name, path in sheets.items():
        sheet_xml = package.xml(path)
        if sheet_xml is None:
            continue
        rels = package.rels(path)
        positions = _RowPositions(sheet_xml)
        for drawing in sheet_xml.iter(f"{{{NS['s']}}}drawing"):
            target = rels.get(drawing.get(_R_ID, ""))
            if target and not target[1]:
                yield from _drawing_pictures(package, target[0], name, positions)
        for tag, how in (("legacyDrawing", "vml"), ("legacyDrawingHF", "header"),
                         ("picture", "background")):  # fmt: skip
            for element in sheet_xml.iter(f"{{{NS['s']}}}{tag}"):
                target = rels.get(element.get(_R_ID, ""))
                if target and _holds_picture(package, target, how):
                    yield _Ref(name, (), "", "unsupported", target[0],
                               problem="picture.unsupported", params={"how": how})  # fmt: skip
        yield from _cell_pictures(package, sheet_xml, name, name == checklist, out)


def _holds_picture(package: _Package, target: tuple[str, bool], how: str) -> bool:
    if target[1]:
        return True
    if how == "background":
        return True
    return any(
        t.endswith((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".webp"))
        for t, _ in package.rels(target[0]).values()
    )


def _drawing_pictures(
    package: _Package, path: str, sheet: str, positions: _RowPositions
) -> Iterator[_Ref]:
    drawing = package.xml(path)
    if drawing is None:
        return
    rels = package.rels(path)
    for anchor in list(drawing):
        kind = anchor.tag.rsplit("}", 1)[-1]
        if kind not in ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor"):
            continue
        rows, cell = _anchor_rows(anchor, kind, positions)
        for blip in anchor.iter(f"{{{NS['a']}}}blip"):
            rel_id = blip.get(_R_EMBED) or blip.get(_R_LINK) or ""
            target = rels.get(rel_id)
            if target is None:
                yield _Ref(sheet, rows, cell, "floating", rel_id or "?",
                           problem="picture.missing", params={"target": rel_id or "-"})  # fmt: skip
            else:
                yield _Ref(sheet, rows, cell, "floating", target[0], target[1])


def _marker(anchor: Element, name: str) -> tuple[int, int, int, int] | None:
    """(row, rowOff, col, colOff) of an anchor's from/to marker, clamped to a sheet."""
    marker = anchor.find(f"xdr:{name}", NS)
    if marker is None:
        return None

    def value(tag: str) -> int:
        element = marker.find(f"xdr:{tag}", NS)
        return _int(element.text if element is not None else None)

    row = min(max(value("row"), 0), LAST_ROW)
    col = min(max(value("col"), 0), 16_383)
    return row, max(value("rowOff"), 0), col, max(value("colOff"), 0)


def _anchor_rows(
    anchor: Element, kind: str, positions: _RowPositions
) -> tuple[tuple[int, ...], str]:
    start = _marker(anchor, "from")
    if kind == "absoluteAnchor" or start is None:
        pos, ext = anchor.find("xdr:pos", NS), anchor.find("xdr:ext", NS)
        if pos is None or ext is None:
            return (), ""
        y = max(_int(pos.get("y")), 0)
        centre = positions.row_at(y + max(_int(ext.get("cy")), 0) / 2)
        top = positions.row_at(y)
        return tuple(dict.fromkeys((top, centre))), _cell_name(top, 0)
    row, row_off, col, _ = start
    top_y = positions.top(row) + min(row_off, positions.height(row))
    if kind == "twoCellAnchor":
        end = _marker(anchor, "to")
        bottom_y = top_y if end is None else positions.top(end[0]) + end[1]
    else:
        ext = anchor.find("xdr:ext", NS)
        bottom_y = top_y + (max(_int(ext.get("cy")), 0) if ext is not None else 0)
    centre = positions.row_at((top_y + max(bottom_y, top_y)) / 2)
    return tuple(dict.fromkeys((row, centre))), _cell_name(row, col)


def _cell_pictures(
    package: _Package, sheet_xml: Element, sheet: str, is_checklist: bool, out: Pictures
) -> Iterator[_Ref]:
    """WPS DISPIMG formulas and Excel place-in-cell (vm) cells of one sheet."""
    data = sheet_xml.find(f"{{{NS['s']}}}sheetData")
    if data is None:
        return
    wps: dict[str, tuple[str, bool]] | None = None
    excel: list[tuple[str, bool] | None] | None = None
    for c in data.iter(f"{{{NS['s']}}}c"):
        formula = c.find(f"{{{NS['s']}}}f")
        vm = c.get("vm")
        if vm is None and (formula is None or "DISPIMG" not in (formula.text or "").upper()):
            continue
        where = _parse_ref(c.get("r", ""))
        if where is None:
            continue
        row, col = where
        cell = _cell_name(row, col)
        if formula is not None and (match := _DISPIMG.search(formula.text or "")):
            if is_checklist:
                out.dispimg_cells.add((row, col))
            if wps is None:
                wps = _wps_cell_images(package)
            target = wps.get(match.group(1))
            if target is None:
                yield _Ref(
                    sheet,
                    (row,),
                    cell,
                    "wps_cell",
                    match.group(1)[:80],
                    problem="picture.missing",
                    params={"target": match.group(1)[:80]},
                )
            else:
                yield _Ref(sheet, (row,), cell, "wps_cell", target[0], target[1])
        elif vm is not None:
            if excel is None:
                excel = _excel_cell_images(package)
            index = _int(vm, 0) - 1
            found = excel[index] if 0 <= index < len(excel) else None
            if found is None:
                yield _Ref(
                    sheet,
                    (row,),
                    cell,
                    "excel_cell",
                    f"vm={vm[:20]}",
                    problem="picture.missing",
                    params={"target": f"vm={vm[:20]}"},
                )
            else:
                yield _Ref(sheet, (row,), cell, "excel_cell", found[0], found[1])


def _wps_cell_images(package: _Package) -> dict[str, tuple[str, bool]]:
    """WPS picture name (ID_…) -> its part, from xl/cellimages.xml and its relationships."""
    path = "xl/cellimages.xml"
    root = package.xml(path)
    if root is None:
        return {}
    rels = package.rels(path)
    found: dict[str, tuple[str, bool]] = {}
    for image in root.iter():
        if image.tag.rsplit("}", 1)[-1] != "cellImage":
            continue
        names = [e.get("name", "") for e in image.iter() if e.tag.endswith("}cNvPr")]
        blips = [e for e in image.iter(f"{{{NS['a']}}}blip")]
        if not names or not blips:
            continue
        rel_id = blips[0].get(_R_EMBED) or blips[0].get(_R_LINK) or ""
        target = rels.get(rel_id, (f"{path}#{rel_id}", False))
        found.setdefault(names[0], target)
    return found


_RICH = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
_RICH2 = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata2"
_RICH_REL = "http://schemas.microsoft.com/office/spreadsheetml/2022/richvaluerel"


def _excel_cell_images(package: _Package) -> list[tuple[str, bool] | None]:
    """Value-metadata index (vm - 1) -> the picture part of Excel's place-in-cell pictures."""
    metadata = package.xml("xl/metadata.xml")
    if metadata is None:
        return []
    s = NS["s"]
    types = [t.get("name", "") for t in metadata.iter(f"{{{s}}}metadataType")]
    future: list[int | None] = []  # futureMetadata XLRICHVALUE block -> rich value index
    for block in metadata.iter(f"{{{s}}}futureMetadata"):
        if block.get("name") != "XLRICHVALUE":
            continue
        for bk in block.findall(f"{{{s}}}bk"):
            rvb = next((e for e in bk.iter() if e.tag.endswith("}rvb")), None)
            future.append(_int(rvb.get("i"), -1) if rvb is not None else None)
    values = _rich_values(package)
    rels_path = "xl/richData/richValueRel.xml"
    rel_root = package.xml(rels_path)
    rel_ids = (
        [e.get(_R_ID, "") for e in rel_root.iter() if e.tag.endswith("}rel")]
        if rel_root is not None
        else []
    )
    rels = package.rels(rels_path)
    result: list[tuple[str, bool] | None] = []
    value_metadata = metadata.find(f"{{{s}}}valueMetadata")
    for bk in value_metadata.findall(f"{{{s}}}bk") if value_metadata is not None else ():
        rc = bk.find(f"{{{s}}}rc")
        picture = None
        if rc is not None:
            t, v = _int(rc.get("t"), 0), _int(rc.get("v"), -1)
            if 1 <= t <= len(types) and types[t - 1] == "XLRICHVALUE" and 0 <= v < len(future):
                value = future[v]
                image = values[value] if value is not None and 0 <= value < len(values) else None
                if image is not None and 0 <= image < len(rel_ids):
                    picture = rels.get(rel_ids[image])
        result.append(picture)
    return result


def _rich_values(package: _Package) -> list[int | None]:
    """Rich value index -> its _rvRel:LocalImageIdentifier (an index into richValueRel)."""
    structures: list[int | None] = []
    root = package.xml("xl/richData/rdrichvaluestructure.xml")
    for s in root.iter(f"{{{_RICH}}}s") if root is not None else ():
        keys = [k.get("n", "") for k in s.iter(f"{{{_RICH}}}k")]
        structures.append(keys.index("_rvRel:LocalImageIdentifier") if
                          "_rvRel:LocalImageIdentifier" in keys else None)  # fmt: skip
    values: list[int | None] = []
    root = package.xml("xl/richData/rdrichvalue.xml")
    for rv in root.iter(f"{{{_RICH}}}rv") if root is not None else ():
        s = _int(rv.get("s"), -1)
        position = structures[s] if 0 <= s < len(structures) else None
        items = [v.text or "" for v in rv.findall(f"{{{_RICH}}}v")]
        values.append(_int(items[position], -1) if position is not None and
                      position < len(items) else None)  # fmt: skip
    return values


# --- .ods -----------------------------------------------------------------------------------


def _ods_pictures(package: _Package, checklist: str) -> Iterator[_Ref]:
    from defusedxml import ElementTree

    info = package.info("content.xml")
    if info is None:
        return
    table_tag, row_tag = f"{{{ODS_TABLE}}}table", f"{{{ODS_TABLE}}}table-row"
    cell_tags = (f"{{{ODS_TABLE}}}table-cell", f"{{{ODS_TABLE}}}covered-table-cell")
    shapes_tag, frame_tag = f"{{{ODS_TABLE}}}shapes", f"{{{ODS_DRAW}}}frame"
    image_tag, href = f"{{{ODS_DRAW}}}image", f"{{{XLINK}}}href"
    name_attr = f"{{{ODS_TABLE}}}name"
    rows_repeated = f"{{{ODS_TABLE}}}number-rows-repeated"
    cols_repeated = f"{{{ODS_TABLE}}}number-columns-repeated"
    sheet, row, col = "", 0, 0
    in_shapes = 0
    with package.archive.open(info) as content:
        for event, element in ElementTree.iterparse(
            content, events=("start", "end"), forbid_dtd=True
        ):
            tag = element.tag
            if event == "start":
                if tag == table_tag:
                    sheet, row, col = element.get(name_attr, ""), 0, 0
                elif tag == row_tag:
                    col = 0
                elif tag == shapes_tag:
                    in_shapes += 1
                continue
            if tag == frame_tag:
                images = [i.get(href, "") for i in element.iter(image_tag)]
                for target in images[:1]:  # a frame's first image; others are replacements
                    external = "://" in target or target.startswith(("/", ".."))
                    part = target if external else posixpath.normpath(target.lstrip("./"))
                    if in_shapes:
                        yield _Ref(
                            sheet,
                            (),
                            "",
                            "ods",
                            part,
                            external,
                            problem="picture.unsupported",
                            params={"how": "ods_page"},
                        )
                    else:
                        yield _Ref(sheet, (row,), _cell_name(row, col), "ods", part, external)
                element.clear()
            elif tag in cell_tags:
                col += max(_int(element.get(cols_repeated), 1), 1)
                element.clear()
            elif tag == row_tag:
                row += max(_int(element.get(rows_repeated), 1), 1)
                row = min(row, LAST_ROW + 1)
                element.clear()
            elif tag == shapes_tag:
                in_shapes -= 1
                element.clear()


# --- .xls -----------------------------------------------------------------------------------


def _xls_picture_count(data: bytes) -> int:
    """BLIPs in a BIFF8 file's drawing group (pictures we do not read), 0 when none."""
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            stream = ole.openstream("Workbook").read()
    except Exception:
        return 0
    count, pos = 0, 0
    while pos + 4 <= len(stream):
        kind = int.from_bytes(stream[pos : pos + 2], "little")
        length = int.from_bytes(stream[pos + 2 : pos + 4], "little")
        if kind == 0x00EB:  # MSODRAWINGGROUP: BLIP store entries are 0xF007 records
            count += stream.count(b"\x07\xf0", pos + 4, pos + 4 + length)
        pos += 4 + length
    return count


# --- checking each picture ------------------------------------------------------------------


def _check_all(package: _Package, refs: list[_Ref], out: Pictures) -> None:
    kept_bytes = 0
    checked: dict[str, Found] = {}  # part -> the checked picture (a part may be shown twice)
    for index, ref in enumerate(refs):
        if index >= MAX_PICTURES:
            out.not_read = len(refs) - MAX_PICTURES
            break
        base = Found(ref.sheet, ref.rows, ref.cell, ref.how, ref.target)
        if ref.problem:
            out.found.append(_with(base, problem=ref.problem, params=ref.params))
            continue
        if ref.external:
            out.found.append(_with(base, problem="picture.external",
                                   params={"target": ref.target[:120]}))  # fmt: skip
            continue
        done = checked.get(ref.target)
        if done is None:
            done = checked[ref.target] = check_picture(package, ref.target)
            if done.kept:
                kept_bytes += len(done.data or b"")
                if kept_bytes > MAX_KEPT_BYTES:
                    done = checked[ref.target] = _with(
                        done, data=None, thumbnail=None, problem="picture.file_limit",
                        params={"limit_mb": MAX_KEPT_BYTES // 2**20},
                    )  # fmt: skip
        out.found.append(
            _with(base, data=done.data, sha256=done.sha256, ext=done.ext, width=done.width,
                  height=done.height, thumbnail=done.thumbnail, problem=done.problem,
                  params=done.params)
        )  # fmt: skip


def _with(found: Found, **changes: Any) -> Found:
    values = {name: getattr(found, name) for name in found.__dataclass_fields__}
    values.update(changes)
    return Found(**values)


def check_picture(package: _Package, path: str) -> Found:
    """Read one picture part and check it: size, real image content, pixels, decodes."""
    base = Found("", (), "", "", path)
    info = package.info(path)
    if info is None:
        return _with(base, problem="picture.missing", params={"target": path[:120]})
    if info.file_size > MAX_PICTURE_BYTES:
        return _with(base, problem="picture.too_large",
                     params={"size_mb": round(info.file_size / 2**20, 1),
                             "limit_mb": MAX_PICTURE_BYTES // 2**20})  # fmt: skip
    raw = package.read(path, MAX_PICTURE_BYTES)
    if raw is None:
        return _with(base, problem="picture.missing", params={"target": path[:120]})
    return check_image_bytes(raw, path)


def check_image_bytes(raw: bytes, path: str = "") -> Found:
    """The checks of one picture's bytes, with Pillow: bounds first, then a real decode."""
    from PIL import Image, ImageOps

    base = Found("", (), "", "", path)
    head = raw[:512].lstrip()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return _with(base, problem="picture.not_image", params={"found": "SVG"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = int(pixels.group(1)) if pixels else 0
        return _with(
            base,
            problem="picture.pixels",
            params={"megapixels": size // 1_000_000, "limit": MAX_PIXELS // 1_000_000},
        )
    except Exception as error:
        if raw.startswith(_MAGIC):  # a known format's start, cut short or damaged
            return _with(base, problem="picture.broken", params={"error": _short(error)})
        return _with(base, problem="picture.not_image", params={"found": _describe(raw)})
    with image:
        width, height = image.size
        fmt = image.format or ""
        limit = MAX_JPEG_PIXELS if fmt == "JPEG" else MAX_PIXELS
        if width * height > limit or width > MAX_SIDE or height > MAX_SIDE or not width * height:
            return _with(base, problem="picture.pixels",
                         params={"megapixels": round(width * height / 1_000_000, 1),
                                 "limit": limit // 1_000_000})  # fmt: skip
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if fmt == "JPEG":
                    image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
                orientation = image.getexif().get(0x0112, 1)
                shown = ImageOps.exif_transpose(image) or image
                thumb = shown.convert("RGB")
                thumb.thumbnail(THUMBNAIL_SIZE)
                buffer = io.BytesIO()
                thumb.save(buffer, "JPEG", quality=80)
        except Exception as error:
            return _with(base, problem="picture.broken", params={"error": _short(error)})
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return _with(
        base, data=raw, sha256=hashlib.sha256(raw).hexdigest(), ext=FORMATS[fmt],
        width=width, height=height, thumbnail=buffer.getvalue(),
    )  # fmt: skip


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF")


def _describe(raw: bytes) -> str:
    if raw[:4] in (b"\x01\x00\x00\x00", b"\xd7\xcd\xc6\x9a"):
        return "EMF/WMF"
    if raw[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "HEIC"
    head = raw[:8]
    return head.hex(" ") if head else "0 bytes"
