"""Photo evidence on the rectification side (issue 15): the 整改通知单 shows the finding's
photos as thumbnails in 问题照片 (K); the site's after-photos in 整改照片 (L) of an accepted
reply are kept by `rectify collect` as grade keeps a finding's (same checks, same naming),
recorded in the history (reply_photos) with the reply and the problem."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import BACKENDS, history_in
from picture_files import add_floating, jpeg, png
from rectify_cycle import OK, Cycle, fill_notice
from returns import fill

from audit_xls.cli import cli
from audit_xls.grading.grade import grade_returns
from audit_xls.history.store import _connect, record_batch
from audit_xls.outputs.photos import publish
from audit_xls.rectify import notices
from audit_xls.rectify.collect import ACCEPTED
from audit_xls.rectify.report import to_json
from audit_xls.workbook.pictures import check_image_bytes, extract_pictures
from audit_xls.workbook.read import read_workbook

OCT12 = date(2026, 10, 12)
NOV14 = date(2026, 11, 14)
RED, BLUE, GREEN = png("red", (120, 90)), jpeg("blue", (64, 48)), png("green", (50, 40))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=BACKENDS)
def cycle(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cycle]:
    """October: P001 fails 1.1.01 (row 4 of its checklist) with two photos and 3.1.02 with
    none; graded, photos written into tmp_path/photos, recorded (SQLite and PostgreSQL)."""
    with history_in(request, tmp_path, request.param) as history:
        yield october(Cycle(tmp_path, history=history))


def october(c: Cycle) -> Cycle:
    tmp_path = c.folder
    c.with_rechecks = False
    folder = tmp_path / "returns" / "2026-10"
    folder.mkdir(parents=True)
    answers = {"1.1.01": ("不符合", 2, "工服不整"), "3.1.02": ("不符合", 1, "巡查缺记录")}
    data = fill(c.workbook("P001", "2026-10"), c.standard, answers, default=OK,
                inspection_date=OCT12)  # fmt: skip
    data = add_floating(data, "检查表", [("K4", RED), ("K4", BLUE)])
    (folder / "P001.xlsx").write_bytes(data)
    batch = grade_returns(folder, [c.standard], None, jobs=0)
    assert not batch.sent_back
    publish(batch, tmp_path / "photos", tmp_path)
    record_batch(c.history, batch)
    return c


def test_the_notice_shows_the_findings_photos_beside_the_problem(cycle: Cycle) -> None:
    written = cycle.notices("2026-10", date(2026, 10, 14))
    [notice] = written.notices
    assert [len(notice.photos.get(i.problem, [])) for i in notice.items] == [2, 0]
    data = cycle.notice_bytes(written, "P001")
    pictures = extract_pictures(data, "整改事项")
    # the two thumbnails, in checklist order, on the first problem's row (Excel row 3), in K
    assert [(f.cell, f.how, f.sheet) for f in pictures.found] == [
        ("K3", "floating", "整改事项"), ("K3", "floating", "整改事项"),
    ]  # fmt: skip
    thumbnails = [check_image_bytes(p).thumbnail for p in (RED, BLUE)]
    assert [f.data for f in pictures.found] == thumbnails
    assert all(f.width <= 160 and f.height <= 120 for f in pictures.found)
    raw = read_workbook(data)
    assert [raw.value(1, c) for c in (10, 11)] == ["问题照片", "整改照片"]
    assert raw.manifest.checksum == raw.manifest.expected_checksum
    # a photo file gone: the notice is made without it, nothing fails
    first = Path(notice.photos[notice.items[0].problem][0])
    first.unlink()
    again = cycle.notices("2026-10", date(2026, 10, 14))
    left = extract_pictures(cycle.notice_bytes(again, "P001"), "整改事项")
    assert [f.data for f in left.found] == thumbnails[1:]


def test_collect_keeps_the_after_photos_of_an_accepted_reply(cycle: Cycle) -> None:
    written = cycle.notices("2026-10", date(2026, 10, 14))
    [notice] = written.notices
    answered = fill_notice(cycle.notice_bytes(written, "P001"), {
        0: ("已整改", "已更换工服", date(2026, 10, 13), "王主管", None),
        1: ("整改中", None, date(2026, 10, 30), "赵班长", None),
    })  # fmt: skip
    # openpyxl dropped the thumbnails: put one back in K3 (ours, not an after-photo), the
    # site's after-photo in L3, and a picture on no problem's row
    thumbnail = check_image_bytes(RED).thumbnail
    assert thumbnail is not None
    reply = add_floating(answered, "整改事项", [("K3", thumbnail), ("L3", GREEN), ("L9", RED)])
    collected = cycle.collect({"p001.xlsx": reply}, date(2026, 10, 15), written.register)
    [got] = collected.replies
    assert got.status == ACCEPTED, [d.message for d in got.diagnostics]
    assert [(d.code, d.cell) for d in got.diagnostics] == [("reply.picture_no_problem", "L9")]
    assert "整改照片" in got.diagnostics[0].message
    folder = cycle.folder / "photos"
    name = f"2026-10_P001_1.1.01_{sha(GREEN)[:12]}.png"
    assert (folder / name).read_bytes() == GREEN
    [listed] = to_json(collected)["replies"]
    assert [row["photos"] for row in listed["problems"]] == [
        [{"sha256": sha(GREEN), "cell": "L3", "stored_as": "floating", "width": 50, "height": 40,
          "path": str((folder / name).resolve())}],
        [],
    ]  # fmt: skip
    problem = notice.items[0].problem
    with _connect(cycle.history) as conn:
        rows = conn.execute(
            """SELECT r.file, p.seq, p.problem, p.sha256, p.cell, p.how, p.width, p.height, p.path
               FROM reply_photos p JOIN replies r ON r.id = p.reply"""
        ).fetchall()
    assert rows == [
        ("p001.xlsx", 1, problem, sha(GREEN), "L3", "floating", 50, 40,
         str((folder / name).resolve())),
    ]  # fmt: skip
    # the 整改台账 of monthly --as-of links the finding's photos and the after-photo
    out = cycle.folder / "report" / "monthly.xlsx"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, [
        "monthly", "--history", str(cycle.history), "--out", str(out), "--as-of", "2026-10-31",
        "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    ledger = json.loads(result.stdout)["rectification"]["ledger"]
    before = [f"2026-10_P001_1.1.01_{sha(p)[:12]}.{e}" for p, e in ((RED, "png"), (BLUE, "jpg"))]
    assert [
        (r["criterion_code"], r["photos_before"], r["photos_after"],
         [Path(f).name for f in r["photo_files_before"]],
         [Path(f).name for f in r["photo_files_after"]])
        for r in ledger
    ] == [("1.1.01", 2, 1, before, [name]), ("3.1.02", None, None, [], [])]  # fmt: skip
    book = openpyxl.load_workbook(out)
    sheet = book["整改台账"]
    header = next(r for r in range(1, 6) if sheet.cell(r, 1).value == "项目编码")
    names = [c.value for c in sheet[header]]
    assert names[-2:] == ["问题照片", "整改照片"]
    links = [sheet.cell(header + 1, len(names) - i) for i in (1, 0)]
    assert [(c.value, c.hyperlink.target.replace("\\", "/")) for c in links] == [
        ("2", f"../photos/{before[0]}"), ("1", f"../photos/{name}"),
    ]  # fmt: skip
    # the same reply again: nothing recorded twice, the file not written twice
    before = (folder / name).stat().st_mtime_ns
    again = cycle.collect({"p001.xlsx": reply}, date(2026, 10, 15), written.register)
    assert (again.recorded, again.already) == (0, 1)
    assert (folder / name).stat().st_mtime_ns == before
    with _connect(cycle.history) as conn:
        assert conn.execute("SELECT count(*) FROM reply_photos").fetchone() == (1,)


def test_a_reply_to_a_notice_issued_before_the_photo_columns_is_accepted(
    cycle: Cycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = notices.locked_cells

    def as_before(*args, **kwargs):
        return made(*args, **kwargs, photo_columns=False)

    monkeypatch.setattr(notices, "locked_cells", as_before)
    written = cycle.notices("2026-10", date(2026, 10, 14))
    monkeypatch.undo()
    data = cycle.notice_bytes(written, "P001")
    assert read_workbook(data).value(1, 10) == ""  # ten header cells, as issued before
    answered = fill_notice(data, {
        0: ("已整改", "已更换工服", date(2026, 10, 13), "王主管", None),
        1: ("整改中", None, date(2026, 10, 30), "赵班长", None),
    })  # fmt: skip
    reply = add_floating(answered, "整改事项", [("L3", GREEN)])
    collected = cycle.collect({"p001.xlsx": reply}, date(2026, 10, 15), written.register)
    [got] = collected.replies
    assert got.status == ACCEPTED, [d.message for d in got.diagnostics]
    assert [p.sha256 for p in got.photos] == [sha(GREEN)]


def test_history_merge_carries_the_after_photos_and_check_checks_them(cycle: Cycle) -> None:
    """(issue 16) `history merge` carries reply_photos under each carried reply's new id;
    `history check` finds an after-photo of no reply or without its hash."""
    import sqlite3

    from audit_xls.history import tools

    written = cycle.notices("2026-10", date(2026, 10, 14))
    answered = fill_notice(cycle.notice_bytes(written, "P001"), {
        0: ("已整改", "已更换工服", date(2026, 10, 13), "王主管", None),
        1: ("整改中", None, date(2026, 10, 30), "赵班长", None),
    })  # fmt: skip
    reply = add_floating(answered, "整改事项", [("L3", GREEN)])
    cycle.collect({"p001.xlsx": reply}, date(2026, 10, 15), written.register)
    query = """SELECT r.file, r.notice, p.seq, p.problem, p.sha256, p.cell, p.path
               FROM reply_photos p JOIN replies r ON r.id = p.reply"""
    with _connect(cycle.history) as conn:
        expected = conn.execute(query).fetchall()
    assert len(expected) == 1
    merged = cycle.folder / "merged.sqlite"
    record_batch(merged, grade_returns(cycle.folder / "returns" / "2026-10", [cycle.standard],
                                       None, jobs=0))  # fmt: skip
    with sqlite3.connect(merged) as conn:  # a reply there already: the carried one is number 2
        conn.execute("""INSERT INTO replies (notice, file, file_hash, replied_on, recorded_at)
                        VALUES ('n', 'x.xlsx', 'h', '2026-10-15', '2026-10-15T00:00:00')""")
    conn.close()
    summary = tools.merge([cycle.history], merged)
    assert summary.replies_added == 1
    again = tools.merge([cycle.history], merged)
    assert (again.replies_added, again.events_added) == (0, 0)
    with sqlite3.connect(merged) as conn:
        assert conn.execute(query).fetchall() == expected  # under the reply's new id (2)
        assert conn.execute("SELECT reply FROM reply_photos").fetchall() == [(2,)]
        conn.execute("DELETE FROM replies WHERE notice = 'n'")  # (not a notice: a check says so)
        conn.execute("""INSERT INTO reply_photos (reply, seq, problem, sha256, ext, cell, how,
                        width, height, path) SELECT 9, 1, problem, 'x', ext, cell, how, width,
                        height, path FROM reply_photos""")
    conn.close()
    assert tools.check(merged).problems == [
        "表 reply_photos 第 2 行引用的 replies 不存在",
        "整改台账：表 reply_photos 有 1 行的 reply 指向 replies 中不存在的记录",
        "整改照片（回复 9 第 1 张）的 SHA-256「x」或路径不成立",
    ]
