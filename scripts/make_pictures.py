"""Make the README pictures: a generated inspection workbook as printed, blank and filled.

Builds one workbook for a sample site, fills a copy as a supervisor would, prints both to PDF
with LibreOffice (one batch) and turns page 1 into PNG with pdftoppm:
docs/img/workbook.png and docs/img/workbook-filled.png. Then runs the demo and pictures the
first page of a month's summary workbook and of the monthly workbook: docs/img/summary.png
and docs/img/monthly.png; and a 整改通知单 and 整改台账 (docs/img/notice.png, ledger.png). Last,
photo evidence: the filled workbook with photos graded (its 问题清单 page with thumbnails,
docs/img/problems-photos.png) and a reply to its notice typed and given an after-photo by
LibreOffice (docs/img/notice-photos.png).
Beside each picture, its page as text (docs/img/*.txt): the test run compares it with the page
printed now and fails when the picture is stale.
`pdf_to_png` is reusable for other workbooks (e.g. the summary workbook):
`pdf_to_png(Path("x.xlsx"), Path("docs/img/x.png"))`.

Run: .venv/bin/python scripts/make_pictures.py   (needs soffice and poppler-utils)
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.styles

from audit_xls.demo import run_demo
from audit_xls.grading.grade import grade_returns
from audit_xls.grading.sites import load_sites
from audit_xls.history.store import record_batch
from audit_xls.outputs.photos import publish
from audit_xls.outputs.summary import write_summary
from audit_xls.outputs.xlsx import LINE_HEIGHT
from audit_xls.rectify.notices import NCol, write_notices
from audit_xls.soffice import convert, insert_pictures
from audit_xls.standards.loader import load_standard
from audit_xls.textwidth import line_count
from audit_xls.workbook.build import build_all
from audit_xls.workbook.layout import COVER_ROW, COVER_VALUE_COL, Col, Layout
from audit_xls.workbook.layout import cell as cell_name
from audit_xls.workbook.template import load_template

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
STANDARD = ROOT / "standards" / "kefu-dudao.yaml"
PERIOD = "2026-11"
RESOLUTION = 80
PROBLEMS_PAGE = 4  # the 问题清单 of a one-site summary (总览, 项目排名, 分项得分 before it)


def page_text(pdf: Path, page: int) -> str:
    """The text of one printed page, as the drift check compares it: the grading time (the
    only thing that changes from run to run) replaced, trailing spaces dropped."""
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    text = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "YYYY-MM-DD hh:mm", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def pdf_to_png(
    xlsx: Path | Sequence[Path], png: Path | Sequence[Path], *, page: int = 1
) -> list[Path]:
    """Print workbooks to PDF with LibreOffice (one call) and write one page of each as PNG."""
    sources = [xlsx] if isinstance(xlsx, Path) else list(xlsx)
    targets = [png] if isinstance(png, Path) else list(png)
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="audit-xls-pictures-") as temp:
        pdfs = convert(sources, "pdf", Path(temp))
        for pdf, target in zip(pdfs, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            # what the picture shows, as text: tests/test_pictures_soffice.py compares it
            target.with_suffix(".txt").write_text(page_text(pdf, page), encoding="utf-8")
            stem = Path(temp) / target.stem
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(RESOLUTION),
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(pdf),
                    str(stem),
                ],
                check=True,
            )
            shutil.move(f"{stem}.png", target)
    return targets


def _fill(source: Path, target: Path, layout: Layout) -> None:
    """A plausible filled return: a few failures with counts and notes."""
    book = openpyxl.load_workbook(source)
    cover = book[layout.cover_sheet]
    cover.cell(COVER_ROW["inspection_date"] + 1, COVER_VALUE_COL + 1, date(2026, 11, 12))
    cover.cell(COVER_ROW["inspector"] + 1, COVER_VALUE_COL + 1, "王督导")
    sheet = book[layout.checklist_sheet]
    fail, passed = layout.result_label("fail"), layout.result_label("pass")
    notes = {
        "1.1.02": (2, "前台两名员工未面带微笑"),
        "1.1.04": (1, "保安制服有污渍"),
        "1.1.11": (3, "2栋走廊清洁未放警示牌，共3处"),
    }
    for row in layout.rows:
        if row.kind != "criterion":
            continue
        r = row.index + 1
        if row.code in notes:
            points, note = notes[row.code]
            sheet.cell(r, Col.RESULT + 1, fail)
            sheet.cell(r, Col.POINTS + 1, points)
            sheet.cell(r, Col.NOTE + 1, note)
        elif row.code < "2.1.05":
            sheet.cell(r, Col.RESULT + 1, passed)
    book.save(target)


LEDGER_PICTURE_COLUMNS = (
    "项目名称", "发现月份", "编号", "问题描述", "整改期限", "通知日期", "回复状态", "完成日期",
    "逾期整改", "复查日期", "复查未整改次数", "状态", "整改天数", "逾期天数",
)  # fmt: skip


def notice_and_ledger(demo_out: Path, monthly: Path, work: Path) -> tuple[Path, Path]:
    """The supervision cycle: the last month's notice of HB001 (the site whose claimed fixes the
    re-check found not done), pictured at its 整改事项 page; and 整改台账 of the monthly
    workbook, two sites and the columns of a problem's story, on one page."""
    period = sorted(p.name for p in (demo_out / "notices").iterdir())[-1]
    notices = sorted((demo_out / "notices" / period).glob("整改通知单_*HB001*.xlsx"))
    notice = work / "notice.xlsx"
    shutil.copy(notices[0], notice)
    source = openpyxl.load_workbook(monthly)["整改台账"]
    rows = list(source.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "项目编码")
    header = list(rows[header_at])
    keep = [header.index(c) for c in LEDGER_PICTURE_COLUMNS]
    picked = [r for r in rows[header_at + 1 :] if r[0] in ("HB001", "HD003")]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "整改台账"
    sheet.append([rows[0][0] + "（摘录：两个项目）"])
    sheet.append([])
    sheet.append([header[i] for i in keep])
    for r in picked:
        sheet.append([r[i] for i in keep])
    bold = openpyxl.styles.Font(bold=True)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    widths = (12, 9, 8, 40, 11, 11, 13, 11, 8, 11, 8, 13, 8, 8)
    for letter, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=3):
        for cell in row:  # whole texts, rows as tall as they wrap (as monthly's own sheets)
            cell.alignment = wrap
        lines = max(line_count(str(c.value or ""), w) for c, w in zip(row, widths, strict=True))
        sheet.row_dimensions[row[0].row].height = lines * LINE_HEIGHT + 3
    for cell in sheet[3]:
        cell.font = bold
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    ledger = work / "ledger.xlsx"
    book.save(ledger)
    return notice, ledger


def _photo(text: str, color: str) -> bytes:
    """A stand-in for a site photo: a coloured scene with a caption, as a JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), color)
    draw = ImageDraw.Draw(image)
    for i in range(0, 640, 40):
        draw.line([(i, 480), (320, 200)], fill="#ffffff", width=2)
    draw.rectangle([(20, 20), (300, 70)], fill="#000000")
    draw.text((30, 35), text, fill="#ffffff")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _print_whole_problems(summary: Path) -> None:
    """The summary prints 问题清单 without its link and thumbnail columns (they stay on screen,
    the page keeps a readable size); the picture shows them: its print area widened to the
    table's last column, in xl/workbook.xml (re-saving with openpyxl would drop the pictures)."""
    import zipfile

    with zipfile.ZipFile(summary) as source:
        parts = {info: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(summary, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(问题清单!\$A\$1:\$)L(\$\d+<)", r"\1N\2", text)
                data = text.encode("utf-8")
            target.writestr(info, data)


def photo_pictures(filled: Path, standard: Any, layout: Layout, work: Path) -> tuple[Path, Path]:
    """Photo evidence: the filled workbook with photos over two failed criteria, graded into
    a summary (问题清单 with counts, links and thumbnails) and a history; the 整改通知单 it
    gives, then the site's reply typed and given an after-photo by LibreOffice itself (the
    notice's 问题照片 thumbnails beside its 整改照片)."""
    from openpyxl.drawing.image import Image as XLImage

    returns = work / "photo-returns"
    returns.mkdir()
    book = openpyxl.load_workbook(filled)
    sheet = book[layout.checklist_sheet]
    for row in layout.rows:  # the rest answered, so that the return is graded
        result = sheet.cell(row.index + 1, Col.RESULT + 1)
        if row.kind == "criterion" and not result.value:
            result.value = layout.result_label("pass")
    for n, (code, color) in enumerate((("1.1.02", "#5b7fa6"), ("1.1.11", "#7a8f5b"))):
        image = XLImage(io.BytesIO(_photo(f"photo {n + 1}: {code}", color)))
        image.width, image.height = 96, 72
        sheet.add_image(image, f"K{layout.criterion_row[code] + 1}")
    book.save(returns / "P001.xlsx")
    graded = work / "photo-graded"
    graded.mkdir()
    batch = grade_returns(returns, [standard], None)
    assert not batch.sent_back, [d.message for w in batch.sent_back for d in w.errors]
    summary = work / "problems-photos.xlsx"
    publish(batch, graded / "photos", work)
    write_summary(batch, summary)
    _print_whole_problems(summary)
    history = work / "photo-history.sqlite"
    record_batch(history, batch)
    written = write_notices(history, PERIOD, work / "photo-notices", [standard], date(2026, 11, 14))
    notice = written.notices[0]
    first = notice.items[0].row_index
    typed = {
        cell_name(first, NCol.MEASURE): "晨会重申微笑服务，班长每日抽查",
        cell_name(first, NCol.STATUS): "已整改",
        cell_name(first, NCol.DONE): "2026-11-13",
        cell_name(first, NCol.OWNER): "李主管",
    }
    after = [(cell_name(first, NCol.AFTER), _photo("after: 1.1.02", "#b08a4a"), "jpg")]
    reply = work / "notice-photos.xlsx"
    data = (written.register.parent / notice.file).read_bytes()
    reply.write_bytes(
        insert_pictures(data, "整改事项", after, work / "lo", size=(2100, 1575), values=typed)
    )
    return summary, reply


PICTURES = {  # picture -> (source workbook in sources(), printed page)
    "workbook.png": ("workbook.xlsx", 2),  # page 1 is the cover; 2 the checklist's first page
    "workbook-filled.png": ("workbook-filled.xlsx", 2),
    "summary.png": ("summary.xlsx", 1),
    "monthly.png": ("monthly.xlsx", 1),
    "notice.png": ("notice.xlsx", 2),  # page 1 is 通知信息; 2 the problems to rectify
    "ledger.png": ("ledger.xlsx", 1),
    "problems-photos.png": ("problems-photos.xlsx", PROBLEMS_PAGE),  # 问题清单
    "notice-photos.png": ("notice-photos.xlsx", 2),
}


def sources(work: Path) -> dict[str, Path]:
    """The workbooks the README pictures show, made in `work`: an issued workbook, a filled
    one, the demo's last summary and monthly workbook, a notice and an extract of 整改台账 (the
    demo without LibreOffice saves: the same results, faster)."""
    standard = load_standard(STANDARD)
    layout = Layout(standard, load_template("zh"))
    sites_csv = work / "sites.csv"
    sites_csv.write_text("项目编码,项目名称,区域\nP001,滨江花园,华东\n", encoding="utf-8-sig")
    entries = build_all(
        standard, load_sites(sites_csv), PERIOD, work / "out", issued_on=date(2026, 11, 1)
    )
    blank = work / "workbook.xlsx"
    shutil.copy(work / "out" / entries[0].file, blank)
    filled = work / "workbook-filled.xlsx"
    _fill(blank, filled, layout)
    demo = run_demo(work / "demo", use_soffice=False, echo=lambda line: None)
    assert demo.monthly is not None
    summary, monthly = work / "summary.xlsx", work / "monthly.xlsx"
    shutil.copy(demo.months[-1].summary, summary)
    shutil.copy(demo.monthly, monthly)
    notice, ledger = notice_and_ledger(work / "demo", monthly, work)
    problems, reply = photo_pictures(filled, standard, layout, work)
    made = (blank, filled, summary, monthly, notice, ledger, problems, reply)
    return {p.name: p for p in made}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="audit-xls-pictures-") as temp:
        made = sources(Path(temp))
        written: list[Path] = []
        for page in sorted({page for _, page in PICTURES.values()}):
            names = [name for name, (_, p) in PICTURES.items() if p == page]
            written += pdf_to_png(
                [made[PICTURES[n][0]] for n in names], [IMG / n for n in names], page=page
            )
    for path in written:
        print(path.relative_to(ROOT), file=sys.stdout)


if __name__ == "__main__":
    main()
