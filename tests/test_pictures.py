"""Pictures in returned workbooks: found however each application stores them, then checked."""

from __future__ import annotations

import hashlib
import io
import os
import resource
import time
import zipfile

import pytest
from picture_files import (
    SVG,
    add_excel_cell_images,
    add_floating,
    add_wps_cell_images,
    jpeg,
    png,
    png_header_only,
    replace_parts,
    xlsxwriter_book,
)
from PIL import Image
from returns import fill, issue, mini_standard

from audit_xls.workbook.pictures import MAX_PICTURES, Pictures, extract_pictures

SHEET = "检查表"


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    standard = mini_standard(tmp_path_factory.mktemp("mini"))
    return fill(issue(standard), standard, {}, default=("符合", None))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _placed(found: Pictures) -> list[tuple[tuple[int, ...], str, str, str]]:
    return [(f.rows, f.cell, f.how, f.sha256) for f in found.found]


def test_floating_one_and_two_cell_anchors(filled: bytes) -> None:
    red, blue = png("red"), jpeg("blue")
    found = extract_pictures(add_floating(filled, SHEET, [("K4", red), ("K9", blue)]), SHEET)
    assert _placed(found) == [
        ((3,), "K4", "floating", _sha(red)),
        ((8,), "K9", "floating", _sha(blue)),
    ]
    assert [f.data for f in found.found] == [red, blue]
    assert [(f.ext, f.width, f.height, f.problem) for f in found.found] == [
        ("png", 40, 30, ""), ("jpg", 64, 32, ""),
    ]  # fmt: skip
    two = extract_pictures(add_floating(filled, SHEET, [("K5", red)], two_cell=True), SHEET)
    assert _placed(two) == [((4,), "K5", "floating", _sha(red))]


def test_xlsxwriter_anchor_and_place_in_cell() -> None:
    red, green = png("red"), png("green")
    found = extract_pictures(xlsxwriter_book(SHEET, {"K7": red}, {"K5": green}), SHEET)
    assert sorted(_placed(found)) == sorted(
        [((6,), "K7", "floating", _sha(red)), ((4,), "K5", "excel_cell", _sha(green))]
    )


def test_picture_spanning_rows_belongs_to_its_top_row_then_its_centre() -> None:
    # 40 px tall at the default 20 px rows: from row 7 (0-based 6) into row 8, centre in row 7
    tall = png(size=(40, 80))  # 80 px: rows 7-10, centre over row 9 (0-based 8)
    found = extract_pictures(xlsxwriter_book(SHEET, {"K7": tall}, {}), SHEET)
    assert found.found[0].rows == (6, 8)
    offset = extract_pictures(
        xlsxwriter_book(SHEET, {"K7": png(size=(40, 20))}, {}, {"y_offset": 15}), SHEET
    )
    assert offset.found[0].rows == (6, 7)


def test_wps_cell_images(filled: bytes) -> None:
    red, blue = png("red"), png("blue")
    data = add_wps_cell_images(filled, SHEET, {"K4": red, "K12": blue})
    found = extract_pictures(data, SHEET)
    assert _placed(found) == [
        ((3,), "K4", "wps_cell", _sha(red)),
        ((11,), "K12", "wps_cell", _sha(blue)),
    ]
    assert found.dispimg_cells == {(3, 10), (11, 10)}
    assert [f.data for f in found.found] == [red, blue]


def test_wps_cell_image_missing_or_external_target_is_reported(filled: bytes) -> None:
    data = add_wps_cell_images(
        filled, SHEET, {"K4": png(), "K5": png()},
        targets={"K4": "media/nothere.png", "K5": "http://example.com/x.png"},
    )  # fmt: skip
    found = extract_pictures(data, SHEET)
    assert [(f.cell, f.problem, f.params) for f in found.found] == [
        ("K4", "picture.missing", {"target": "xl/media/nothere.png"}),
        ("K5", "picture.external", {"target": "http://example.com/x.png"}),
    ]
    assert not any(f.kept for f in found.found)


def test_excel_place_in_cell(filled: bytes) -> None:
    red, photo = png("red"), jpeg("blue")
    found = extract_pictures(add_excel_cell_images(filled, SHEET, {"K4": red, "K11": photo}), SHEET)
    assert _placed(found) == [
        ((3,), "K4", "excel_cell", _sha(red)),
        ((10,), "K11", "excel_cell", _sha(photo)),
    ]
    assert [f.data for f in found.found] == [red, photo]


def test_exif_orientation_turns_the_thumbnail_and_the_size(filled: bytes) -> None:
    turned = jpeg(size=(64, 32), orientation=6)
    found = extract_pictures(add_floating(filled, SHEET, [("K4", turned)]), SHEET)
    picture = found.found[0]
    assert (picture.width, picture.height) == (32, 64)
    assert picture.data == turned  # the bytes are kept as sent
    thumb = Image.open(io.BytesIO(picture.thumbnail or b""))
    assert thumb.height > thumb.width


def _four(filled: bytes) -> bytes:
    return add_floating(filled, SHEET, [(f"K{r}", png(c)) for r, c in
                                        ((4, "red"), (5, "blue"), (7, "green"), (8, "white"))])  # fmt: skip


def test_hostile_pictures_are_reported_not_kept(filled: bytes) -> None:
    data = replace_parts(
        _four(filled),
        {
            "xl/media/image1.png": png_header_only(100_000, 100_000),
            "xl/media/image2.png": SVG,
            "xl/media/image3.png": jpeg(size=(400, 300))[:700],
            "xl/media/image4.png": b"\xff\xd8\xff" + os.urandom(50 * 2**20),
        },
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    found = extract_pictures(data, SHEET)
    seconds = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [(f.cell, f.problem) for f in found.found] == [
        ("K4", "picture.pixels"),
        ("K5", "picture.not_image"),
        ("K7", "picture.broken"),
        ("K8", "picture.too_large"),
    ]
    assert found.found[0].params == {"megapixels": 10000, "limit": 40}
    assert found.found[1].params == {"found": "SVG"}
    assert found.found[3].params == {"size_mb": 50.0, "limit_mb": 10}
    assert not any(f.kept or f.data for f in found.found)
    assert seconds < 2 and grown_mb < 100, (seconds, grown_mb)


def test_500_pictures_read_up_to_the_limit(filled: bytes) -> None:
    data = add_floating(
        filled, SHEET, [(f"K{4 + i % 5}", png(size=(10 + i, 10))) for i in range(500)]
    )
    found = extract_pictures(data, SHEET)
    assert len(found.found) == MAX_PICTURES and found.not_read == 500 - MAX_PICTURES
    assert all(f.kept for f in found.found)


def test_anchor_on_the_last_row(filled: bytes) -> None:
    data = _four(filled)
    drawing = zipfile.ZipFile(io.BytesIO(data)).read("xl/drawings/drawing1.xml")
    far = drawing.replace(b"<row>3</row>", b"<row>1048575</row>", 1)
    far = far.replace(b"<row>4</row>", b"<row>99999999999</row>", 1)
    found = extract_pictures(replace_parts(data, {"xl/drawings/drawing1.xml": far}), SHEET)
    assert [f.rows[0] for f in found.found] == [1_048_575, 1_048_575, 6, 7]


def test_not_a_zip_or_broken_parts_never_raise(filled: bytes) -> None:
    assert extract_pictures(b"not a workbook", SHEET).found == []
    data = _four(filled)
    broken = replace_parts(data, {"xl/drawings/drawing1.xml": b"<wsDr><oneCellAnchor>"})
    assert extract_pictures(broken, SHEET).found == []


@pytest.mark.soffice
def test_pictures_saved_by_libreoffice_as_xlsx_and_ods(filled: bytes, tmp_path) -> None:
    """LibreOffice re-saves a return with pictures (one-cell and two-cell anchors): as .xlsx
    they are drawing anchors again, as .ods draw:frames anchored to cells; same bytes, same rows."""
    from audit_xls.soffice import convert

    red, blue = png("red", (60, 40)), jpeg("blue", (80, 60))
    source = tmp_path / "in"
    source.mkdir()
    (source / "one.xlsx").write_bytes(add_floating(filled, SHEET, [("K4", red), ("K14", blue)]))
    (source / "two.xlsx").write_bytes(add_floating(filled, SHEET, [("K9", red)], two_cell=True))
    files = sorted(source.iterdir())
    for to, how in (("xlsx", "floating"), ("ods", "ods")):
        one, two = convert(files, to, tmp_path / to)
        found = extract_pictures(one.read_bytes(), SHEET)
        assert _placed(found) == [
            ((3,), "K4", how, _sha(red)),
            ((13,), "K14", how, _sha(blue)),
        ], to
        assert [f.data for f in found.found] == [red, blue]
        assert _placed(extract_pictures(two.read_bytes(), SHEET)) == [((8,), "K9", how, _sha(red))]


def test_a_wps_picture_in_an_answer_cell_stays_a_typed_formula(tmp_path) -> None:
    """DISPIMG is allowed in the 照片 column only: in 问题描述 it is a formula typed into an
    answer, and the workbook is sent back as any typed formula is."""
    from audit_xls.grading.grade import grade_returns

    standard = mini_standard(tmp_path)
    answers, default = {"1.1.01": ("不符合", 1)}, ("符合", None)
    note = fill(issue(standard, "P001"), standard, answers, default=default)
    photo = fill(issue(standard, "P002"), standard, answers, default=default)
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "in-note.xlsx").write_bytes(add_wps_cell_images(note, SHEET, {"J4": png()}))
    (returns / "in-photo.xlsx").write_bytes(add_wps_cell_images(photo, SHEET, {"K4": png()}))
    batch = grade_returns(returns, [standard], None, jobs=0)
    by_file = {w.file: w for w in batch.workbooks}
    assert [(d.code, d.cell) for d in by_file["in-note.xlsx"].errors] == [("answer.formula", "J4")]
    assert by_file["in-photo.xlsx"].status == "graded" and not by_file["in-photo.xlsx"].diagnostics
    assert [p.criterion for p in by_file["in-photo.xlsx"].photos] == ["1.1.01"]
