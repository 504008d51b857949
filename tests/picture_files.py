"""Test helper: pictures, and workbooks holding them the way each application stores them.

- floating pictures: xlsxwriter's insert_image (a two-cell anchor), openpyxl's add_image (a
  one-cell anchor, or a two-cell anchor given explicitly);
- Excel's place-in-cell pictures: xlsxwriter's embed_image (xl/richData, xl/metadata.xml, vm);
- WPS's 嵌入单元格图片: hand-built from its published structure (xl/cellimages.xml, its
  relationships, and `=_xlfn.DISPIMG("ID_…",1)` in the cell);
- LibreOffice: a return with a floating picture converted by soffice (tests using it are
  marked soffice).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image


def png(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg(color: str = "blue", size: tuple[int, int] = (64, 32), orientation: int = 1) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring width x height pixels, with one tiny IDAT: a decompression bomb's head."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))  # fmt: skip


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def add_floating(
    data: bytes, sheet: str, pictures: list[tuple[str, bytes]], two_cell: bool = False
) -> bytes:
    """openpyxl: floating pictures anchored at cells ("K5"), one-cell anchors unless two_cell."""
    import openpyxl
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    book = openpyxl.load_workbook(io.BytesIO(data))
    target = book[sheet]
    for ref, picture in pictures:
        image = XLImage(io.BytesIO(picture))
        if two_cell:
            letters, row = coordinate_from_string(ref)
            col = column_index_from_string(letters) - 1
            image.anchor = TwoCellAnchor(
                _from=AnchorMarker(col=col, row=row - 1), to=AnchorMarker(col=col + 1, row=row)
            )
            target.add_image(image)
        else:
            target.add_image(image, ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsxwriter_book(
    sheet: str, floating: dict[str, bytes], embedded: dict[str, bytes], options: dict | None = None
) -> bytes:
    """A workbook made by xlsxwriter: insert_image (floating) and embed_image (place in cell)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    target = book.add_worksheet(sheet)
    for ref, picture in floating.items():
        target.insert_image(
            ref, "photo.png", {"image_data": io.BytesIO(picture), **(options or {})}
        )
    for ref, picture in embedded.items():
        target.embed_image(ref, "photo.png", {"image_data": io.BytesIO(picture)})
    book.close()
    return out.getvalue()


WPS_CELLIMAGE_REL = "http://www.wps.cn/officeDocument/2020/cellImage"


def _rewrite(data: bytes, changes: dict[str, bytes | None], extra: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in changes:
                body = changes[info.filename]
                if body is not None:
                    target.writestr(info.filename, body)
            else:
                target.writestr(info, source.read(info))
        for name, body in extra.items():
            target.writestr(name, body)
    return out.getvalue()


def _sheet_path(data: bytes, sheet: str) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(\w+)"', workbook).group(
        1
    )  # type: ignore[union-attr]
    target = re.search(rf'<Relationship [^>]*Id="{rel_id}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rel_id}"', rels)
    path = target.group(1)  # type: ignore[union-attr]
    return path.lstrip("/") if path.startswith("/") else "xl/" + path


def _set_cell(sheet_xml: str, ref: str, content: str) -> str:
    """Replace cell `ref` (written by our build or openpyxl) with `content`'s attributes/body."""
    pattern = re.compile(rf'<c r="{ref}"( s="\d+")?(?: t="\w+")?\s*(?:/>|>.*?</c>)')
    match = pattern.search(sheet_xml)
    assert match, ref
    style = match.group(1) or ""
    return (
        sheet_xml[: match.start()] + content.format(ref=ref, style=style) + sheet_xml[match.end() :]
    )


def add_wps_cell_images(
    data: bytes, sheet: str, pictures: dict[str, bytes], *, targets: dict[str, str] | None = None
) -> bytes:
    """WPS 嵌入单元格图片 in cells ("K5"): cellimages.xml, its rels, DISPIMG formulas.

    `targets` overrides a picture's relationship target (a missing part, an external URL).
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    path = _sheet_path(data, sheet)
    sheet_xml = archive.read(path).decode()
    images, rels, extra = [], [], {}
    for n, (ref, picture) in enumerate(pictures.items(), 1):
        name = f"ID_{n:032X}"
        images.append(
            "<etc:cellImage><xdr:pic><xdr:nvPicPr>"
            f'<xdr:cNvPr id="{n + 1}" name="{name}" descr="=HYPERLINK(&quot;http://x&quot;)"/>'
            '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
            f'<xdr:blipFill><a:blip r:embed="rId{n}"/><a:stretch><a:fillRect/></a:stretch>'
            '</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="381000" cy="285750"/>'
            '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
            "</etc:cellImage>"
        )
        target = (targets or {}).get(ref, f"media/wps_image{n}.png")
        mode = ' TargetMode="External"' if "://" in target else ""
        rels.append(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/image" Target="{target}"{mode}/>'
        )
        if not (targets and ref in targets):
            extra[f"xl/media/wps_image{n}.png"] = picture
        formula = f"_xlfn.DISPIMG(&quot;{name}&quot;,1)"
        sheet_xml = _set_cell(
            sheet_xml, ref,
            f'<c r="{{ref}}"{{style}} t="str"><f>{formula}</f><v>=DISPIMG(&quot;{name}&quot;,1)</v></c>',
        )  # fmt: skip
    extra["xl/cellimages.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">' + "".join(images)
        + "</etc:cellImages>"
    ).encode()  # fmt: skip
    extra["xl/_rels/cellimages.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels) + "</Relationships>"
    ).encode()  # fmt: skip
    workbook_rels = (
        archive.read("xl/_rels/workbook.xml.rels")
        .decode()
        .replace(
            "</Relationships>",
            f'<Relationship Id="rIdWps1" Type="{WPS_CELLIMAGE_REL}" Target="cellimages.xml"/></Relationships>',
        )
    )
    types = archive.read("[Content_Types].xml").decode()
    if 'Extension="png"' not in types:
        types = types.replace(
            "<Default ", '<Default Extension="png" ContentType="image/png"/><Default ', 1
        )
    return _rewrite(
        data,
        {path: sheet_xml.encode(), "xl/_rels/workbook.xml.rels": workbook_rels.encode(),
         "[Content_Types].xml": types.encode()},
        extra,
    )  # fmt: skip


def add_excel_cell_images(data: bytes, sheet: str, pictures: dict[str, bytes]) -> bytes:
    """Excel place-in-cell pictures in cells ("K5"), with the parts xlsxwriter's embed_image
    writes (xl/metadata.xml, xl/richData/*, the cell's vm) moved into an existing workbook."""
    made = zipfile.ZipFile(io.BytesIO(xlsxwriter_book("x", {}, pictures)))
    made_sheet = made.read("xl/worksheets/sheet1.xml").decode()
    archive = zipfile.ZipFile(io.BytesIO(data))
    path = _sheet_path(data, sheet)
    sheet_xml = archive.read(path).decode()
    for ref in pictures:
        vm = re.search(rf'<c r="{ref}" t="e" vm="(\d+)"', made_sheet).group(1)  # type: ignore[union-attr]
        sheet_xml = _set_cell(
            sheet_xml, ref, f'<c r="{{ref}}"{{style}} t="e" vm="{vm}"><v>#VALUE!</v></c>'
        )
    extra = {
        name: made.read(name)
        for name in made.namelist()
        if name.startswith(("xl/richData/", "xl/media/")) or name == "xl/metadata.xml"
    }
    workbook_rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    made_rels = made.read("xl/_rels/workbook.xml.rels").decode()
    for rel in re.findall(r"<Relationship [^>]*/>", made_rels):
        if "metadata" in rel or "richData" in rel or "rdRichValue" in rel or "richValue" in rel:
            workbook_rels = workbook_rels.replace(
                "</Relationships>", rel.replace('Id="rId', 'Id="rIdX') + "</Relationships>"
            )
    types = archive.read("[Content_Types].xml").decode()
    made_types = made.read("[Content_Types].xml").decode()
    for entry in re.findall(r"<(?:Override|Default) [^>]*/>", made_types):
        if entry not in types and (
            "metadata" in entry or "richData" in entry or 'Extension="png"' in entry
        ):
            types = types.replace("</Types>", entry + "</Types>")
    return _rewrite(
        data,
        {path: sheet_xml.encode(), "xl/_rels/workbook.xml.rels": workbook_rels.encode(),
         "[Content_Types].xml": types.encode()},
        extra,
    )  # fmt: skip


def replace_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The workbook with some parts' bytes replaced (a hostile picture behind a good anchor)."""
    return _rewrite(data, dict(parts), {})


def libreoffice_insert_pictures(
    data: bytes, sheet: str, pictures: list[tuple[str, bytes, str]], folder: Path
) -> bytes:
    """The workbook after LibreOffice itself inserted the pictures (audit_xls.soffice)."""
    from audit_xls.soffice import insert_pictures

    return insert_pictures(data, sheet, pictures, folder)
