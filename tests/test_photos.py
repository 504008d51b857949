"""Photo evidence end to end: returns with pictures graded; the photo folder, the 问题清单,
--json and the history; hostile pictures never stop a batch nor send a workbook back."""

from __future__ import annotations

import hashlib
import json
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from picture_files import (
    SVG,
    add_excel_cell_images,
    add_floating,
    add_wps_cell_images,
    jpeg,
    libreoffice_insert_pictures,
    png,
    png_header_only,
    replace_parts,
)
from returns import MINI_YAML, fill, issue, mini_standard
from test_history import rows

from audit_xls.cli import cli
from audit_xls.outputs.photos import problem_photos

SHEET = "检查表"
FAIL_11 = ("不符合", 2, "地面有垃圾")  # 1.1.01, row 4
FAIL_31 = ("不符合", 1, "登记不全")  # 3.1.01, row 14


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


def _answers():
    return {"1.1.01": FAIL_11, "3.1.01": FAIL_31}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def graded(tmp_path, standard):
    """Three returns: floating pictures (openpyxl), WPS cell images, Excel place-in-cell; and
    one with every hostile picture. Graded by the CLI into tmp_path/out."""
    returns = tmp_path / "returns"
    returns.mkdir()
    pictures = {
        "red": png("red"), "blue": jpeg("blue"), "green": png("green"), "white": png("white"),
        "turned": jpeg("yellow", orientation=6),
    }  # fmt: skip
    floating = fill(
        issue(standard, "P001", "滨江花园"), standard, _answers(), default=("符合", None)
    )
    floating = add_floating(
        floating,
        SHEET,
        [
            ("K4", pictures["red"]),
            ("K14", pictures["blue"]),
            ("K4", pictures["turned"]),
            ("C1", png("black")),
        ],
    )
    (returns / "P001.xlsx").write_bytes(floating)
    wps = fill(issue(standard, "P002", "静安公馆"), standard, _answers(), default=("符合", None))
    (returns / "P002.xlsx").write_bytes(add_wps_cell_images(wps, SHEET, {"K4": pictures["green"]}))
    excel = fill(issue(standard, "P003", "浦东广场"), standard, _answers(), default=("符合", None))
    (returns / "P003.xlsx").write_bytes(
        add_excel_cell_images(excel, SHEET, {"K14": pictures["white"]})
    )
    hostile = fill(
        issue(standard, "P004", "徐汇名邸"), standard, _answers(), default=("符合", None)
    )
    hostile = add_floating(
        hostile,
        SHEET,
        [(f"K{r}", png(c)) for r, c in ((4, "red"), (5, "blue"), (7, "green"), (14, "white"))],
    )
    hostile = replace_parts(hostile, {
        "xl/media/image1.png": png_header_only(100_000, 100_000),
        "xl/media/image2.png": SVG,
        "xl/media/image3.png": jpeg(size=(400, 300))[:700],
    })  # fmt: skip
    (returns / "P004.xlsx").write_bytes(hostile)
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    args = ["grade", str(returns), "--standards", str(standards), "--out", str(out / "s.xlsx"),
            "--history", str(tmp_path / "h.sqlite"), "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    return tmp_path, pictures, result, args


def test_each_picture_lands_on_its_criterion_with_its_bytes(graded) -> None:
    tmp_path, pictures, result, _ = graded
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "photos"
    names = sorted(p.name for p in folder.iterdir())
    expected = {
        f"2026-11_P001_1.1.01_{_sha(pictures['red'])[:12]}.png": pictures["red"],
        f"2026-11_P001_1.1.01_{_sha(pictures['turned'])[:12]}.jpg": pictures["turned"],
        f"2026-11_P001_3.1.01_{_sha(pictures['blue'])[:12]}.jpg": pictures["blue"],
        f"2026-11_P002_1.1.01_{_sha(pictures['green'])[:12]}.png": pictures["green"],
        f"2026-11_P003_3.1.01_{_sha(pictures['white'])[:12]}.png": pictures["white"],
        f"2026-11_P004_3.1.01_{_sha(png('white'))[:12]}.png": png("white"),
    }
    assert names == sorted(expected)
    for name, data in expected.items():
        assert (folder / name).read_bytes() == data, name
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".audit-xls")]


def test_json_lists_photos_per_criterion(graded) -> None:
    _, pictures, result, _ = graded
    document = json.loads(result.stdout)
    by_file = {w["file"]: w for w in document["workbooks"]}
    p1 = by_file["P001.xlsx"]["photos"]
    assert sorted(p1) == ["1.1.01", "3.1.01"]
    assert [
        (p["sha256"], p["cell"], p["stored_as"], p["width"], p["height"]) for p in p1["1.1.01"]
    ] == [
        (_sha(pictures["red"]), "K4", "floating", 40, 30),
        (_sha(pictures["turned"]), "K4", "floating", 32, 64),
    ]
    assert (
        p1["3.1.01"][0]["path"] == f"photos/2026-11_P001_3.1.01_{_sha(pictures['blue'])[:12]}.jpg"
    )
    assert by_file["P002.xlsx"]["photos"]["1.1.01"][0]["stored_as"] == "wps_cell"
    assert by_file["P003.xlsx"]["photos"]["3.1.01"][0]["stored_as"] == "excel_cell"
    # the picture over the title row (C1) belongs to no criterion: a warning, not kept
    codes = [(d["code"], d["cell"]) for d in by_file["P001.xlsx"]["diagnostics"]]
    assert codes == [("picture.no_criterion", "C1")]


def test_hostile_pictures_are_warnings_on_a_graded_workbook(graded) -> None:
    _, _, result, _ = graded
    hostile = {w["file"]: w for w in json.loads(result.stdout)["workbooks"]}["P004.xlsx"]
    assert hostile["status"] == "graded"
    assert [(d["severity"], d["code"], d["cell"]) for d in hostile["diagnostics"]] == [
        ("warning", "picture.pixels", "K4"),
        ("warning", "picture.not_image", "K5"),
        ("warning", "picture.broken", "K7"),
    ]
    assert hostile["diagnostics"][1]["message"] == (
        "图片 xl/media/image2.png 不是可用的照片格式（SVG），未采用：请插入 JPG 或 PNG 照片。"
    )


def test_problem_list_has_count_link_and_thumbnail(graded) -> None:
    tmp_path, pictures, _, _ = graded
    book = openpyxl.load_workbook(tmp_path / "out" / "s.xlsx")
    sheet = book["问题清单"]
    header = [c.value for c in next(r for r in sheet.iter_rows() if r[0].value == "检查月份")]
    assert header[-3:] == ["照片数", "照片", "缩略图"]
    rows = {(r[2].value, r[4].value): r for r in sheet.iter_rows() if r[2].value in
            ("P001", "P002", "P003", "P004")}  # fmt: skip
    count, link = header.index("照片数"), header.index("照片")
    first = rows[("P001", "1.1.01")]
    assert first[count].value == 2
    # relative, so the summary and its photos/ folder can be zipped and mailed together; as
    # Excel writes a relative link to a file (xlsxwriter's external: links)
    name = f"2026-11_P001_1.1.01_{_sha(pictures['red'])[:12]}.png"
    assert (first[link].value, first[link].hyperlink.target) == (name, f"photos\\{name}")
    assert (
        rows[("P002", "3.1.01")][count].value == 0
        and rows[("P002", "3.1.01")][link].hyperlink is None
    )
    assert len(sheet._images) == 5  # one thumbnail per problem with photos
    with zipfile.ZipFile(tmp_path / "out" / "s.xlsx") as archive:
        rels = [n for n in archive.namelist() if n.startswith("xl/worksheets/_rels/")]
        text = "".join(archive.read(n).decode() for n in rels)
    assert "HYPERLINK" not in text and "http://x" not in text  # WPS alt text never reaches it


def test_history_records_hashes_and_paths_and_regrading_writes_nothing_twice(graded) -> None:
    tmp_path, pictures, _, args = graded
    history = tmp_path / "h.sqlite"
    photos = problem_photos(history, "P001", "2026-11", "1.1.01")
    assert [(p.sha256, p.path.name, p.exists) for p in photos] == [
        (_sha(pictures["red"]), f"2026-11_P001_1.1.01_{_sha(pictures['red'])[:12]}.png", True),
        (
            _sha(pictures["turned"]),
            f"2026-11_P001_1.1.01_{_sha(pictures['turned'])[:12]}.jpg",
            True,
        ),
    ]
    assert [p.criterion for p in problem_photos(history, "P001", "2026-11")] == [
        "1.1.01", "1.1.01", "3.1.01",
    ]  # fmt: skip
    folder = tmp_path / "out" / "photos"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_history_migrate_copies_the_photos_to_postgres(graded, postgres_url) -> None:
    """Schema 6 on PostgreSQL too; `history migrate` carries the photos table, row for row."""
    tmp_path, pictures, result, _ = graded
    assert result.exit_code == 0, result.output
    history = tmp_path / "h.sqlite"
    moved = CliRunner().invoke(
        cli, ["history", "migrate", "--from", str(history), "--to", postgres_url]
    )
    assert moved.exit_code == 0, moved.output
    query = (
        "SELECT workbook, seq, criterion, sha256, ext, cell, how, width, height, path FROM photos"
    )
    copied = sorted(rows(postgres_url, query))
    assert len(copied) == 6
    assert copied == sorted(rows(history, query))
    assert problem_photos(postgres_url, "P001", "2026-11", "1.1.01") == problem_photos(
        history, "P001", "2026-11", "1.1.01"
    )
    assert [p.sha256 for p in problem_photos(postgres_url, "P003", "2026-11")] == [
        _sha(pictures["white"])
    ]


def test_photos_option_and_nothing_written_for_a_wrong_register(tmp_path, standard) -> None:
    returns = tmp_path / "returns"
    returns.mkdir()
    data = fill(issue(standard), standard, _answers(), default=("符合", None))
    (returns / "P001.xlsx").write_bytes(add_floating(data, SHEET, [("K4", png())]))
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    target = tmp_path / "evidence"
    result = CliRunner().invoke(cli, [
        "grade", str(returns), "--standards", str(standards), "--out", str(tmp_path / "s.xlsx"),
        "--photos", str(target), "--no-history",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [p.name for p in target.iterdir()] == [f"2026-11_P001_1.1.01_{_sha(png())[:12]}.png"]
    inside = CliRunner().invoke(cli, [
        "grade", str(returns), "--standards", str(standards), "--out", str(tmp_path / "s.xlsx"),
        "--photos", str(returns / "photos"), "--no-history",
    ])  # fmt: skip
    assert inside.exit_code == 2 and not (returns / "photos").exists()


def test_hostile_pictures_graded_fast_in_bounded_memory(tmp_path, standard) -> None:
    """Each hostile picture file graded in a fresh process (jobs=0: in that process, to measure
    it): well under the reader's time limit and under 200 MB above the baseline."""
    import random
    import subprocess
    import sys
    import textwrap

    base = fill(issue(standard), standard, _answers(), default=("符合", None))
    one = add_floating(base, SHEET, [("K4", png())])
    files = {
        "bomb.xlsx": replace_parts(one, {"xl/media/image1.png": png_header_only(100_000, 100_000)}),
        "big.xlsx": replace_parts(
            one, {"xl/media/image1.png": b"\xff\xd8\xff" + random.Random(5).randbytes(50 * 2**20)}
        ),
        "many.xlsx": add_floating(
            base, SHEET, [("K4", png(size=(10 + i, 10))) for i in range(500)]
        ),
        "large-photo.xlsx": add_floating(base, SHEET, [("K4", jpeg(size=(6000, 4000)))]),
    }
    for name, data in [*files.items(), ("warm.xlsx", one)]:
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        (folder / name).write_bytes(data)
    yaml = tmp_path / "mini.yaml"
    yaml.write_text(MINI_YAML, encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import json, resource, time
        from pathlib import Path
        from audit_xls.grading.grade import grade_returns
        from audit_xls.standards.loader import load_standard
        standard = load_standard({str(yaml)!r})
        grade_returns(Path({str(tmp_path / "warm-xlsx")!r}), [standard], None, jobs=0)
        out = {{}}
        for name in {list(files)!r}:
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.perf_counter()
            batch = grade_returns(Path({str(tmp_path)!r}) / name.replace(".", "-"), [standard],
                                  None, jobs=0)
            seconds = time.perf_counter() - start
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
            w = batch.workbooks[0]
            out[name] = [seconds, grown / 1024, w.status, [d.code for d in w.diagnostics],
                         len(w.photos)]
        print(json.dumps(out))
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    print("hostile pictures (seconds, MB above baseline, status, codes, photos):", measured)
    expected = {
        "bomb.xlsx": (["picture.pixels"], 0),
        "big.xlsx": (["picture.too_large"], 0),
        "many.xlsx": (["picture.too_many"], 100),
        "large-photo.xlsx": ([], 1),
    }
    for name, (seconds, grown_mb, status, codes, photos) in measured.items():
        assert (status, codes, photos) == ("graded", *expected[name]), name
        assert seconds < 5 and grown_mb < 200, (name, seconds, grown_mb)


def test_a_workbook_issued_before_the_photo_column_is_graded(tmp_path, standard) -> None:
    """Workbooks issued by the release before the 照片 column (no K2 header, the fingerprint of
    their time) are graded as they are; any other change to that header is still caught."""
    import io

    from audit_xls.grading.grade import grade_returns
    from audit_xls.workbook import layout as layout_module
    from audit_xls.workbook.layout import Layout
    from audit_xls.workbook.template import load_template

    plan = Layout(standard, load_template("zh"))

    def as_issued_before(book: openpyxl.Workbook, header: str | None = None) -> None:
        book[SHEET]["K2"].value = header
        sheet = book[layout_module.MANIFEST_SHEET]
        keys = layout_module.MANIFEST_KEYS
        values = {key: str(sheet.cell(i + 1, 2).value or "") for i, key in enumerate(keys)}
        values["fingerprint"] = plan.fingerprint_before_photos
        sheet.cell(keys.index("fingerprint") + 1, 2).value = values["fingerprint"]
        rows = tuple((r.index, r.code) for r in plan.rows if r.kind == "criterion")
        checksum = layout_module.manifest_checksum(values, rows)
        sheet.cell(layout_module.MANIFEST_CHECKSUM_ROW + 1, 2).value = checksum

    returns = tmp_path / "returns"
    returns.mkdir()
    old = fill(issue(standard, "P001"), standard, _answers(), default=("符合", None),
               change=as_issued_before)  # fmt: skip
    edited = fill(issue(standard, "P002"), standard, _answers(), default=("符合", None),
                  change=lambda book: as_issued_before(book, "备注"))  # fmt: skip
    (returns / "old.xlsx").write_bytes(old)
    (returns / "edited.xlsx").write_bytes(edited)
    assert openpyxl.load_workbook(io.BytesIO(old))[SHEET]["K2"].value is None
    batch = grade_returns(returns, [standard], None, jobs=0)
    by_file = {w.file: w for w in batch.workbooks}
    assert (by_file["old.xlsx"].status, by_file["old.xlsx"].diagnostics) == ("graded", [])
    assert [(d.code, d.cell) for d in by_file["edited.xlsx"].errors] == [("locked.changed", "K2")]


@pytest.mark.soffice
def test_pictures_libreoffice_inserts_land_on_their_criteria(tmp_path, standard) -> None:
    """A fixture made by LibreOffice itself: a Basic macro run by headless soffice inserts a
    PNG over K4 (1.1.01) and a JPEG over K14 (3.1.01) of a filled return and saves it as .xlsx;
    grade keeps each on its criterion with its bytes."""
    red, blue = png("red", (60, 40)), jpeg("blue", (80, 60))
    filled = fill(issue(standard, "P001", "滨江花园"), standard, _answers(), default=("符合", None))
    work = tmp_path / "lo"
    work.mkdir()
    data = libreoffice_insert_pictures(
        filled, SHEET, [("K4", red, "png"), ("K14", blue, "jpg")], work
    )
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "P001.xlsx").write_bytes(data)
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, [
        "grade", str(returns), "--standards", str(standards), "--out", str(out / "s.xlsx"),
        "--no-history", "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    [workbook] = json.loads(result.stdout)["workbooks"]
    assert workbook["status"] == "graded"
    photos = workbook["photos"]
    assert {code: [(p["sha256"], p["cell"], p["stored_as"]) for p in listed]
            for code, listed in photos.items()} == {
        "1.1.01": [(_sha(red), "K4", "floating")],
        "3.1.01": [(_sha(blue), "K14", "floating")],
    }  # fmt: skip
    for code, picture, ext in (("1.1.01", red, "png"), ("3.1.01", blue, "jpg")):
        name = f"2026-11_P001_{code}_{_sha(picture)[:12]}.{ext}"
        assert (out / "photos" / name).read_bytes() == picture


def test_history_merge_carries_the_photos_and_check_checks_them(graded, history_at) -> None:
    """`history merge` copies each merged workbook's photos (once, merged again: nothing);
    `history check` counts them and finds a photo of no workbook or without a hash."""
    from audit_xls.history import tools
    from audit_xls.history.backend import open_write

    tmp_path, _pictures, result, _ = graded
    assert result.exit_code == 0, result.output
    history = tmp_path / "h.sqlite"
    query = """SELECT w.file, p.seq, p.criterion, p.sha256, p.ext, p.cell, p.how, p.width,
                      p.height, p.path FROM photos p JOIN workbooks w ON w.id = p.workbook"""
    tools.merge([history], history_at)
    again = tools.merge([history, history], history_at)
    assert (again.recorded_graded, again.already_recorded) == (0, 8)
    merged = sorted(rows(history_at, query))
    assert len(merged) == 6 and merged == sorted(rows(history, query))
    assert problem_photos(history_at, "P001", "2026-11") == problem_photos(
        history, "P001", "2026-11"
    )
    report = tools.check(history_at)
    assert report.problems == []
    assert [(c["period"], c["graded"], c["photos"]) for c in report.counts] == [("2026-11", 4, 6)]
    [(row, path)] = rows(
        history_at, "SELECT workbook, path FROM photos ORDER BY workbook, seq LIMIT 1"
    )
    with open_write(history_at) as conn:
        if conn.dialect.name == "postgresql":  # its foreign key would refuse the orphan
            conn.execute("SET session_replication_role = replica")
        conn.execute(f"""INSERT INTO photos (workbook, seq, criterion, sha256, ext, cell, how,
                         width, height, path) VALUES (999, 1, '1.1.01', '{"a" * 64}', 'png',
                         'K4', 'floating', 1, 1, '{path}')""")
        conn.execute(f"""INSERT INTO photos (workbook, seq, criterion, sha256, ext, cell, how,
                         width, height, path) VALUES ({row}, 99, '1.1.01', 'x', 'png', 'K4',
                         'floating', 1, 1, '{path}')""")
    [(orphan,)] = rows(history_at, "SELECT rowid FROM photos WHERE workbook = 999")
    sqlite = (
        [f"表 photos 第 {orphan} 行引用的 workbooks 不存在"] if "://" not in str(history_at) else []
    )
    assert tools.check(history_at).problems == [
        *sqlite,
        "表 photos 有 1 行指向不存在的记录",
        f"照片（记录 {row} 第 99 张）的 SHA-256「x」或路径不成立",
    ]
