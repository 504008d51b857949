"""整改通知单 issued from the history, and the sites' replies collected (rectify notices/collect).

Scenario (mini standard, 7 days to fix), computed by hand:
- 2026-10, inspected 10-12: P001 fails 1.1.01 (2 points, 0.6) and 3.1.02 (1 point, 0.5);
  P002 fails 2.1.01 (1 point, 0.5). Deadlines 10-19.
- 2026-11, inspected 11-10: P001 fails 1.1.01 again (1 point, 0.3), deadline 11-17; P002 all 符合.
- Notices of 2026-11 dated 11-14: P001 carries 1.1.01 and 3.1.02 of October (逾期 26 天) and
  1.1.01 of November (剩 3 天), oldest first; P002 carries 2.1.01 of October.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import BACKENDS, history_in
from rectify_cycle import Cycle, fill_notice

from audit_xls.cli import cli
from audit_xls.grading.grade import grade_returns
from audit_xls.history.store import _connect
from audit_xls.rectify.collect import ACCEPTED, SENT_BACK
from audit_xls.rectify.ledger import CANNOT_FIX, CLAIMED, IN_PROGRESS, OPEN, replay
from audit_xls.rectify.notices import build_notice
from audit_xls.workbook.read import read_workbook

NOV14 = date(2026, 11, 14)


@pytest.fixture(params=BACKENDS)
def cycle(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cycle]:
    with history_in(request, tmp_path, request.param) as history:
        yield october_november(Cycle(tmp_path, history=history))


def october_november(c: Cycle) -> Cycle:
    c.with_rechecks = False  # October's problems stay open: no 复查 in November
    c.inspect("2026-10", date(2026, 10, 12), {
        "P001": {"1.1.01": ("不符合", 2, "工服不整"), "3.1.02": ("不符合", 1, "巡查缺记录")},
        "P002": {"2.1.01": ("不符合", 1, "资料缺")},
    })  # fmt: skip
    c.inspect("2026-11", date(2026, 11, 10), {
        "P001": {"1.1.01": ("不符合", 1, "工牌未戴")},
        "P002": {},
    })  # fmt: skip
    return c


def states(c: Cycle) -> dict:
    with _connect(c.history) as conn:
        return {(s.site_code, str(s.period), s.code): s for s in replay(conn).values()}


def test_a_notice_lists_open_problems_oldest_first_with_deadlines(cycle: Cycle) -> None:
    written = cycle.notices("2026-11", NOV14)
    assert [n.site.code for n in written.notices] == ["P001", "P002"]
    data = cycle.notice_bytes(written, "P001")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["通知信息", "整改事项", "_lists", "_manifest"]
    assert book["_manifest"].sheet_state == "veryHidden"
    assert all(book[s].protection.sheet for s in ("通知信息", "整改事项"))
    items = book["整改事项"]
    rows = [[items.cell(r, c).value for c in range(1, 6)] for r in range(3, 6)]
    assert rows == [
        ["1.1.01", "着装整洁", "工服不整（2026-10 检查发现）", "2 个问题点，扣 0.6 分", "2026-10-19（逾期 26 天）"],
        ["3.1.02", "巡查记录", "巡查缺记录（2026-10 检查发现）", "1 个问题点，扣 0.5 分", "2026-10-19（逾期 26 天）"],
        ["1.1.01", "着装整洁", "工牌未戴", "1 个问题点，扣 0.3 分", "2026-11-17（剩 3 天）"],
    ]  # fmt: skip
    assert items.cell(6, 1).value is None
    cover = book["通知信息"]
    assert [cover[f"B{r}"].value for r in (3, 4, 8, 9, 10)] == [
        "P001", "滨江花园", "2026-11", "2026-11-10", "张督导",
    ]  # fmt: skip
    assert b"lockStructure" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    raw = read_workbook(data)  # read by the inspection reader, unchanged
    assert raw.manifest.values["template"] == "notice/zh"
    assert raw.manifest.checksum == raw.manifest.expected_checksum
    # the register and the history
    register = written.register.read_text(encoding="utf-8-sig").splitlines()
    assert register[1].startswith(f"{written.notices[0].id},P001,滨江花园,华东,,,2026-11,mini,1,")
    found = states(cycle)
    notified = [e for s in found.values() for e in s.events if e.kind == "notified"]
    assert len(notified) == 4 and {e.event_date for e in notified} == {"2026-11-14"}
    assert {s.status for s in found.values()} == {OPEN}
    # the same notices again: the same bytes, nothing recorded twice
    again = cycle.notices("2026-11", NOV14)
    assert (again.recorded, again.already) == (0, 2)
    assert cycle.notice_bytes(again, "P001") == data
    assert build_notice(written.notices[0]) == data


def test_a_notice_given_to_grade_is_sent_back_with_its_reason(cycle: Cycle) -> None:
    written = cycle.notices("2026-11", NOV14)
    folder = cycle.folder / "mixed"
    folder.mkdir()
    (folder / "n.xlsx").write_bytes(cycle.notice_bytes(written, "P001"))
    batch = grade_returns(folder, [cycle.standard], None)
    [w] = batch.sent_back
    assert [(d.code, d.sheet) for d in w.errors] == [("manifest.notice", "_manifest")]
    assert "rectify collect" in w.errors[0].message


def answer_all(data: bytes) -> bytes:
    return fill_notice(data, {
        0: ("已整改", "已更换工服并培训", date(2026, 11, 12), "王主管", None),
        1: ("整改中", None, date(2026, 11, 30), "赵班长", None),
        2: ("无法整改", None, None, None, "工牌供应商停产，已另行采购"),
    })  # fmt: skip


def test_valid_replies_move_the_problems_and_are_recorded_once(cycle: Cycle) -> None:
    written = cycle.notices("2026-11", NOV14)
    p001 = answer_all(cycle.notice_bytes(written, "P001"))
    collected = cycle.collect({"p001.xlsx": p001}, date(2026, 11, 16), written.register)
    [reply] = collected.replies
    assert reply.status == ACCEPTED, [d.message for d in reply.diagnostics]
    assert (collected.recorded, [e.site_code for e in collected.missing]) == (1, ["P002"])
    found = states(cycle)
    one, two, three = (found[k] for k in (("P001", "2026-10", "1.1.01"),
                                          ("P001", "2026-10", "3.1.02"),
                                          ("P001", "2026-11", "1.1.01")))  # fmt: skip
    assert (one.status, one.replied_on, one.measure, one.owner, one.done_date, one.late) == (
        CLAIMED, "2026-11-16", "已更换工服并培训", "王主管", "2026-11-12", True,
    )  # fmt: skip
    assert (two.status, two.done_date, two.late) == (IN_PROGRESS, "2026-11-30", True)
    # replied 11-16, before the deadline 11-17: not late
    assert (three.status, three.reply_note, three.late) == (
        CANNOT_FIX, "工牌供应商停产，已另行采购", False,
    )  # fmt: skip
    assert found[("P002", "2026-10", "2.1.01")].status == OPEN
    assert [e.kind for e in one.events] == ["found", "notified", "replied"]
    again = cycle.collect({"p001.xlsx": p001}, date(2026, 11, 16), written.register)
    assert (again.recorded, again.already) == (0, 1)
    assert len(states(cycle)[("P001", "2026-10", "1.1.01")].events) == 3


def test_hostile_and_wrong_replies_are_sent_back_located(cycle: Cycle, tmp_path: Path) -> None:
    first = cycle.notices("2026-11", NOV14)
    old = answer_all(cycle.notice_bytes(first, "P001"))
    written = cycle.notices("2026-11", date(2026, 11, 15))  # supersedes the notices of 11-14
    blank = cycle.notice_bytes(written, "P001")
    ok = {1: ("整改中", None, date(2026, 11, 30), None, None),
          2: ("无法整改", None, None, None, "停产")}  # fmt: skip

    def reply(first_row, **options) -> bytes:
        return fill_notice(blank, {0: first_row, **ok}, **options)

    done = ("已整改", "已更换", date(2026, 11, 12), None, None)
    other = Cycle(tmp_path / "other", yaml=cycle.standard.path.read_text(encoding="utf-8")
                  .replace("着装整洁", "着装整齐"))  # fmt: skip
    other.inspect("2026-11", date(2026, 11, 10), {"P001": {"1.1.01": ("不符合", 1)}})
    foreign = other.notice_bytes(other.notices("2026-11", NOV14), "P001")
    files = {
        "01 wrong site.xlsx": reply(done, cells={("通知信息", "B3"): "P002"}),
        "02 wrong period.xlsx": reply(done, cells={("通知信息", "B8"): "2026-10"}),
        "03 edited text.xlsx": reply(done, cells={("整改事项", "C3"): "工服基本整齐"}),
        "04 before inspection.xlsx": reply(("已整改", "已更换", date(2026, 10, 1), None, None)),
        "05 future.xlsx": reply(("已整改", "已更换", date(2026, 11, 30), None, None)),
        "06 typed status.xlsx": reply(("已完成", "已更换", date(2026, 11, 12), None, None)),
        "07 no measure.xlsx": reply(("已整改", None, date(2026, 11, 12), None, None)),
        "08 unanswered.xlsx": fill_notice(blank, ok),
        "09 superseded.xlsx": old,
        "10 other standard.xlsx": foreign,
        "11 formula.xlsx": reply(('="已整改"', "已更换", date(2026, 11, 12), None, None)),
        "12 not a date.xlsx": reply(("已整改", "已更换", "上周五", None, None)),
        "13 inspection workbook.xlsx": cycle.workbook("P001", "2026-11"),
        "14 no reason.xlsx": reply(("无法整改", None, None, None, None)),
    }
    collected = cycle.collect(files, date(2026, 11, 16), written.register)
    got = {r.file: [(d.code, d.sheet, d.cell) for d in r.errors] for r in collected.replies}
    assert got == {
        "01 wrong site.xlsx": [("reply.cover_changed", "通知信息", "B3")],
        "02 wrong period.xlsx": [("reply.cover_changed", "通知信息", "B8")],
        "03 edited text.xlsx": [("reply.locked_changed", "整改事项", "C3")],
        "04 before inspection.xlsx": [("reply.date_before_inspection", "整改事项", "H3")],
        "05 future.xlsx": [("reply.date_future", "整改事项", "H3")],
        "06 typed status.xlsx": [("reply.status_invalid", "整改事项", "G3")],
        "07 no measure.xlsx": [("reply.measure_missing", "整改事项", "F3")],
        "08 unanswered.xlsx": [("reply.status_missing", "整改事项", "G3")],
        "09 superseded.xlsx": [("reply.superseded", "_manifest", "")],
        "10 other standard.xlsx": [("reply.other_standard", "_manifest", "")],
        "11 formula.xlsx": [("reply.formula", "整改事项", "G3")],
        "12 not a date.xlsx": [("reply.date_invalid", "整改事项", "H3")],
        "13 inspection workbook.xlsx": [("reply.not_a_notice", "_manifest", "")],
        "14 no reason.xlsx": [("reply.remark_missing", "整改事项", "J3")],
    }
    assert {r.status for r in collected.replies} == {SENT_BACK}
    messages = {r.file: r.errors[0].message for r in collected.replies}
    assert messages["01 wrong site.xlsx"] == (
        "项目编码为「P002」，下发时为「P001」（锁定内容被修改）：请使用总部下发的原整改通知单，"
        "不要修改项目信息。"
    )
    assert messages["03 edited text.xlsx"].startswith(
        "整改通知单的锁定内容被修改，共 1 处：C3 应为「工服不整（2026-10 检查发…」，实为「工服基本整齐」"
    )
    assert messages["04 before inspection.xlsx"] == (
        "1.1.01 的完成日期 2026-10-01 早于检查日期 2026-10-12：请填写实际日期后发回。"
    )
    assert messages["05 future.xlsx"].startswith(
        "1.1.01 选择了已整改，完成日期 2026-11-30 却晚于回复当天 2026-11-16"
    )
    assert messages["06 typed status.xlsx"] == (
        "1.1.01 的整改状态填了「已完成」，不是下拉列表中的选项：请从下拉列表选择 "
        "已整改、整改中、无法整改 之一后发回。"
    )
    assert messages["09 superseded.xlsx"].startswith(
        "这份整改通知单（2026-11-14 发出）已被 2026-11-15 发出的新通知单"
    )
    assert messages["10 other standard.xlsx"] == (
        f"这是标准 mini v1（内容哈希 {other.standard.content_hash[:12]}）的整改通知单，"
        "不是通知单登记表中的标准 mini v1：请交回本次下发的整改通知单。"
    )
    # nothing was recorded: every problem is as the notices left it
    assert collected.recorded == 0
    assert {s.status for s in states(cycle).values()} == {OPEN}


def test_collect_cli_writes_the_report_and_json(cycle: Cycle) -> None:
    written = cycle.notices("2026-11", NOV14)
    folder = cycle.folder / "cli-replies"
    folder.mkdir()
    (folder / "p001.xlsx").write_bytes(answer_all(cycle.notice_bytes(written, "P001")))
    (folder / "Thumbs.db").write_bytes(b"x")
    out = cycle.folder / "回复.xlsx"
    result = CliRunner().invoke(cli, [
        "rectify", "collect", str(folder), "--issued", str(written.register), "--out", str(out),
        "--today", "2026-11-16", "--history", str(cycle.history), "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    import json

    document = json.loads(result.stdout)
    assert document["summary"] == {
        "read": 1, "accepted": 1, "sent_back": 0, "skipped": 1, "not_replied": 1,
        "recorded": 1, "already_recorded": 0,
    }  # fmt: skip
    assert [p["status"] for p in document["replies"][0]["problems"]] == [
        "claimed", "in_progress", "cannot_fix",
    ]  # fmt: skip
    assert result.stderr.splitlines()[0] == (
        "共读取 1 份整改回复：接收 1 份，退回 0 份；跳过 1 个文件；未回复 1 份。"
        "历史库新记录 1 份，已记录过 0 份。"
    )
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["回复汇总", "整改回复", "退回清单", "未回复", "跳过文件"]
    rows = list(book["整改回复"].iter_rows(min_row=2, values_only=True))
    assert [r[6] for r in rows] == ["已整改待复查", "整改中", "无法整改"]


def test_notices_cli_writes_the_notices_and_says_so(cycle: Cycle) -> None:
    out = cycle.folder / "cli-notices"
    result = CliRunner().invoke(cli, [
        "rectify", "notices", "--period", "2026-11", "--out", str(out), "--date", "2026-11-14",
        "--standards", str(cycle.folder / "standards"), "--history", str(cycle.history),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"已生成 2 份整改通知单（4 个待整改问题）到 {out}，登记表：{out / 'notices-2026-11.csv'}；"
        "历史库新记录 2 份，已记录过 0 份。\n"
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "notices-2026-11.csv", "整改通知单_2026-11_P001_滨江花园.xlsx",
        "整改通知单_2026-11_P002_静安公馆.xlsx",
    ]  # fmt: skip
    nothing = CliRunner().invoke(cli, [
        "rectify", "notices", "--period", "2026-09", "--out", str(out),
        "--standards", str(cycle.folder / "standards"), "--history", str(cycle.history),
    ])  # fmt: skip
    assert nothing.exit_code == 1 and "Traceback" not in nothing.output
    assert "没有 2026-09 及以前待整改的问题" in nothing.output


def writers_lock_free(history: Path | str) -> bool:
    """Whether another program could take the history's writers' lock right now."""
    if isinstance(history, Path):
        import sqlite3

        other = sqlite3.connect(history, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()
    import psycopg

    from audit_xls.history.backend import WRITE_LOCK

    with psycopg.connect(history, autocommit=True) as other:
        free = other.execute("SELECT pg_try_advisory_lock(%s)", (WRITE_LOCK,)).fetchone()[0]
        if free:
            other.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
        return bool(free)


def test_collect_reads_and_checks_replies_without_the_writers_lock(
    cycle: Cycle, monkeypatch
) -> None:
    """Only recording the replies holds the writers' lock: graders recording into the same
    history meanwhile are not held up by the reading and checking of a folder of replies."""
    from audit_xls.history import store
    from audit_xls.rectify import collect

    written = cycle.notices("2026-11", NOV14)
    probes: list[tuple[str, bool]] = []
    check_file, begin_write = collect._check_file, store._begin_write

    def checking(conn, source, *args):
        probes.append(("check", writers_lock_free(cycle.history)))
        return check_file(conn, source, *args)

    def locking(conn):
        begin_write(conn)
        probes.append(("record", writers_lock_free(cycle.history)))

    monkeypatch.setattr(collect, "_check_file", checking)
    monkeypatch.setattr(store, "_begin_write", locking)
    files = {"p001.xlsx": answer_all(cycle.notice_bytes(written, "P001")),
             "p002.xlsx": cycle.notice_bytes(written, "P002")}  # fmt: skip
    collected = cycle.collect(files, date(2026, 11, 16), written.register)
    assert probes == [("check", True), ("check", True), ("record", False)]
    assert (collected.recorded, [r.status for r in collected.replies]) == (1, [ACCEPTED, SENT_BACK])
    assert states(cycle)[("P001", "2026-10", "1.1.01")].status == CLAIMED


def test_a_notice_issued_while_replies_were_checked_sends_its_old_reply_back(
    cycle: Cycle, monkeypatch
) -> None:
    """The reply was checked against the latest notice; a newer one recorded before the
    replies are (under the lock) makes it a reply to a superseded notice: sent back."""
    from audit_xls.rectify import collect

    written = cycle.notices("2026-11", NOV14)
    reply = answer_all(cycle.notice_bytes(written, "P001"))
    check_file = collect._check_file

    def checking(conn, source, *args):
        checked = check_file(conn, source, *args)
        cycle.notices("2026-11", date(2026, 11, 15), ["P001"])  # another user, meanwhile
        return checked

    monkeypatch.setattr(collect, "_check_file", checking)
    collected = cycle.collect({"p001.xlsx": reply}, date(2026, 11, 16))
    [got] = collected.replies
    assert (got.status, [d.code for d in got.errors], collected.recorded) == (
        SENT_BACK, ["reply.superseded"], 0,
    )  # fmt: skip
    assert {s.status for s in states(cycle).values()} == {OPEN}


def test_an_english_notice_is_labelled_in_english_and_its_reply_collected(cycle: Cycle) -> None:
    written = cycle.notices("2026-11", NOV14, lang="en")
    data = cycle.notice_bytes(written, "P001")
    assert sorted(p.name for p in written.register.parent.iterdir()) == [
        "Notice_2026-11_P001_滨江花园.xlsx",
        "Notice_2026-11_P002_静安公馆.xlsx",
        "notices-2026-11.csv",
    ]
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Notice", "To fix", "_lists", "_manifest"]
    items = book["To fix"]
    assert [items.cell(2, c).value for c in range(1, 13)] == [
        "Code", "Criterion", "Description", "Deduction", "Deadline", "Measures taken", "Status",
        "Date done", "Owner", "Remarks", "Problem photos", "After photos",
    ]  # fmt: skip
    rows = [[items.cell(r, c).value for c in range(1, 6)] for r in range(3, 6)]
    assert rows == [
        ["1.1.01", "着装整洁", "工服不整 (found in 2026-10)", "Problem points: 2, deduction: 0.6",
         "2026-10-19 (overdue, days: 26)"],
        ["3.1.02", "巡查记录", "巡查缺记录 (found in 2026-10)", "Problem points: 1, deduction: 0.5",
         "2026-10-19 (overdue, days: 26)"],
        ["1.1.01", "着装整洁", "工牌未戴", "Problem points: 1, deduction: 0.3",
         "2026-11-17 (days left: 3)"],
    ]  # fmt: skip
    assert items.cell(1, 1).value == "迷你标准 rectification notice - P001 滨江花园 (2026-11)"
    cover = book["Notice"]
    assert [v for r in range(3, 18) if (v := cover[f"A{r}"].value)] == [
        "Site code", "Site name", "Region", "City company", "Project type", "Period",
        "Inspection date", "Inspector", "Replied by", "Reply remarks", "Notice number",
        "Notice date", "Score this period", "Grade",
    ]  # fmt: skip
    assert book["_lists"]["A1"].value == "Fixed"
    assert read_workbook(data).manifest.values["template"] == "notice/en"
    # no Chinese punctuation in any English label
    import yaml

    from audit_xls.workbook.template import TEMPLATES_DIR

    text = (TEMPLATES_DIR / "notice" / "en.yaml").read_text(encoding="utf-8")
    labels = yaml.safe_load(text)
    zh = yaml.safe_load((TEMPLATES_DIR / "notice" / "zh.yaml").read_text(encoding="utf-8"))
    assert labels.keys() == zh.keys()
    assert all(labels[k].keys() == zh[k].keys() for k in zh if isinstance(zh[k], dict))
    body = text.split("\n", 2)[2]  # past the comment naming the Chinese title
    assert not [ch for ch in body if ch in "，。；：（）「」、！？—"]
    # the site's reply, filled in English, collected
    reply = fill_notice(data, {
        0: ("Fixed", "New uniforms, staff trained", date(2026, 11, 12), "Wang", None),
        1: ("In progress", None, date(2026, 11, 30), "Zhao", None),
        2: ("Cannot fix", None, None, None, "Supplier stopped making badges"),
    }, responder="Li")  # fmt: skip
    collected = cycle.collect({"p001.xlsx": reply}, date(2026, 11, 16), written.register)
    [got] = collected.replies
    assert got.status == ACCEPTED, [d.message for d in got.diagnostics]
    found = states(cycle)
    one, two, three = (found[k] for k in (("P001", "2026-10", "1.1.01"),
                                          ("P001", "2026-10", "3.1.02"),
                                          ("P001", "2026-11", "1.1.01")))  # fmt: skip
    assert (one.status, one.measure, one.owner, one.done_date) == (
        CLAIMED, "New uniforms, staff trained", "Wang", "2026-11-12",
    )  # fmt: skip
    assert (two.status, two.done_date) == (IN_PROGRESS, "2026-11-30")
    assert (three.status, three.reply_note) == (CANNOT_FIX, "Supplier stopped making badges")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_replies_in_the_notice_language(cycle: Cycle, lang: str) -> None:
    from audit_xls.demo import _reply

    written = cycle.notices("2026-11", NOV14, lang=lang)
    notice = next(n for n in written.notices if n.site.code == "P001")
    data = _reply(cycle.notice_bytes(written, "P001"), notice, NOV14, date(2026, 11, 12), lang)
    book = openpyxl.load_workbook(io.BytesIO(data))
    row = notice.items[0].row_index + 1
    checklist = book.worksheets[1]
    assert (checklist.cell(row, 6).value, checklist.cell(row, 7).value) == {
        "zh": ("已按要求整改，并对相关人员培训", "已整改"),
        "en": ("Fixed as required; the staff concerned retrained", "Fixed"),
    }[lang]
    assert (
        checklist.cell(row, 9).value
        == {"zh": "客服主管", "en": "Customer service supervisor"}[lang]
    )
    cover = book.worksheets[0]
    assert {"项目经理", "Site manager"} & {c.value for r in cover.iter_rows() for c in r} == {
        {"zh": "项目经理", "en": "Site manager"}[lang]
    }
