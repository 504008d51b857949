"""grade.py and `audit-xls grade`: a batch of returns, the JSON contract, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from returns import MINI_YAML, PERIOD, fill, issue, mini_standard

from audit_xls.cli import cli
from audit_xls.grading import grade as grade_module
from audit_xls.grading.grade import exit_code, grade_returns
from audit_xls.grading.register import IssuedEntry, write_issued
from audit_xls.grading.sources import zip_member_name
from audit_xls.outputs.exports import batch_to_json
from audit_xls.workbook.read import read_workbook

ALL_PASS = ("符合", None)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


class GbkInfo(zipfile.ZipInfo):
    """A member named in GBK without the UTF-8 flag, as zip tools on Chinese Windows write it."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def register_entry(standard, data: bytes, code: str, name: str, region: str) -> IssuedEntry:
    wid = read_workbook(data).manifest["workbook_id"]
    return IssuedEntry(wid, code, name, region, "", "", PERIOD, standard.id, standard.version,
                       standard.content_hash, f"{code}.xlsx")  # fmt: skip


@pytest.fixture(scope="module")
def issued_books(standard):
    sites = [("P001", "滨江花园", "华东"), ("P002", "江南名苑", "华南"), ("P003", "北岸", "华北")]
    books = {code: issue(standard, code, name, region) for code, name, region in sites}
    register = [register_entry(standard, books[c], c, n, r) for c, n, r in sites]
    return books, register


@pytest.fixture()
def returns_folder(tmp_path, standard, issued_books) -> Path:
    """A folder mixing graded, sent-back, skipped and (P003) missing returns."""
    books, _ = issued_books
    folder = tmp_path / "returns"
    (folder / "华东").mkdir(parents=True)
    (folder / "华东" / "P001.xlsx").write_bytes(
        fill(books["P001"], standard, {"1.1.01": ("不符合", 2, "=2+2 工服脏")}, default=ALL_PASS)
    )
    (folder / "P002.xlsx").write_bytes(
        fill(books["P002"], standard, {"2.1.01": ("不符合", "两个")}, default=ALL_PASS)
    )
    (folder / "P002.pdf").write_bytes(b"%PDF-1.4")
    (folder / "~$P002.xlsx").write_bytes(b"owner")
    (folder / "Thumbs.db").write_bytes(b"x")
    (folder / "readme.txt").write_text("hi", encoding="utf-8")
    (folder / "broken.xlsx").write_bytes(b"")
    return folder


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_mixed_folder(standard, issued_books, returns_folder):
    _, register = issued_books
    before = hashes(returns_folder)
    batch = grade_returns(returns_folder, [standard], register, jobs=2)
    assert hashes(returns_folder) == before  # returned files are never modified
    assert [(w.file, w.status) for w in batch.workbooks] == [
        ("P002.xlsx", "sent_back"),
        ("broken.xlsx", "sent_back"),
        ("华东/P001.xlsx", "graded"),
    ]
    assert [s.file for s in batch.skipped] == ["P002.pdf", "Thumbs.db", "readme.txt", "~$P002.xlsx"]
    assert batch.skipped[0].reason == (
        "不是检查表文件（扩展名 .pdf，只读取 .xlsx/.xlsm/.xls/.ods/.et）：如为检查表请另存为 .xlsx。"
    )
    assert [(m.site_code, m.site_name, str(m.period)) for m in batch.missing] == [
        ("P003", "北岸", "2026-11")
    ]
    assert exit_code(batch) == 1
    p001 = batch.workbooks[2]
    assert str(p001.card.total) == "6.40"
    assert p001.answers["1.1.01"].note == "=2+2 工服脏"


def test_json_contract(standard, issued_books, returns_folder):
    _, register = issued_books
    document = batch_to_json(grade_returns(returns_folder, [standard], register))
    graded = document["workbooks"][2]
    data = (returns_folder / "华东" / "P001.xlsx").read_bytes()
    assert graded == {
        "file": "华东/P001.xlsx",
        "workbook_id": register[0].workbook_id,
        "site_code": "P001",
        "site": "滨江花园",
        "region": "华东",
        "period": "2026-11",
        "standard": "mini v1",
        "status": "graded",
        "score": 6.4,
        "max_score": 7.0,
        "percent": 91.43,
        "grade": "优秀",
        "sections": [
            {"code": "1", "name": "行为规范", "points": 2.0, "deducted": 0.6, "score": 1.4,
             "applicable": True},
            {"code": "2", "name": "房屋交付", "points": 3.0, "deducted": 0.0, "score": 3.0,
             "applicable": True},
            {"code": "3", "name": "装修服务", "points": 2.0, "deducted": 0.0, "score": 2.0,
             "applicable": True},
        ],
        "diagnostics": [],
        "file_hash": hashlib.sha256(data).hexdigest(),
        "inspector": "张督导",
        "inspection_date": "2026-11-12",
        "duplicate_of": None,
        "photos": {},
    }  # fmt: skip
    sent_back = document["workbooks"][0]
    assert {k: sent_back[k] for k in ("status", "score", "max_score", "percent", "grade")} == {
        "status": "sent_back", "score": None, "max_score": None, "percent": None, "grade": None,
    }  # fmt: skip
    assert sent_back["sections"] == []
    assert sent_back["diagnostics"] == [
        {"severity": "error", "code": "answer.invalid_points", "sheet": "检查表", "cell": "H8",
         "message": "问题点数填了「两个」，须为 0-99 的整数：请改为整数（例如 2）。"},
    ]  # fmt: skip
    assert document["workbooks"][1]["diagnostics"] == [
        {"severity": "error", "code": "file.empty", "sheet": "", "cell": "",
         "message": "文件为空（0 字节），无法读取：请在 Excel/WPS 中重新保存检查表后发回。"},
    ]  # fmt: skip
    assert document["missing"] == [
        {"site_code": "P003", "site": "北岸", "period": "2026-11", "region": "华北",
         "workbook_id": register[2].workbook_id},
    ]  # fmt: skip
    assert [s["file"] for s in document["skipped"]] == [
        "P002.pdf", "Thumbs.db", "readme.txt", "~$P002.xlsx",
    ]  # fmt: skip
    json.dumps(document)  # plain JSON types only


def test_zip_with_gbk_names_read_in_place(tmp_path, standard, issued_books):
    books, _ = issued_books
    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(
            GbkInfo("华东/滨江花园.xlsx"), fill(books["P001"], standard, {}, default=ALL_PASS)
        )
        out.writestr("__MACOSX/._x.xlsx", b"junk")
    info = zipfile.ZipFile(archive).infolist()[0]
    assert info.flag_bits & 0x800 == 0
    assert zip_member_name(info) == "华东/滨江花园.xlsx"
    before = archive.read_bytes()
    batch = grade_returns(archive, [standard], None)
    assert archive.read_bytes() == before
    assert [(w.file, w.status) for w in batch.workbooks] == [("华东/滨江花园.xlsx", "graded")]
    assert [s.file for s in batch.skipped] == ["__MACOSX/._x.xlsx"]
    assert batch.missing == [] and exit_code(batch) == 0


def test_same_workbook_twice_keeps_the_newer(tmp_path, standard, issued_books):
    books, register = issued_books
    folder = tmp_path / "r"
    folder.mkdir()
    old, new = folder / "P001.xlsx", folder / "P001 (2).xlsx"
    old.write_bytes(fill(books["P001"], standard, {"1.1.01": ("不符合", 1)}, default=ALL_PASS))
    new.write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_100_000, 1_700_100_000))
    batch = grade_returns(folder, [standard], register[:1])
    by_file = {w.file: w for w in batch.workbooks}
    assert by_file["P001.xlsx"].duplicate_of == "P001 (2).xlsx"
    assert by_file["P001 (2).xlsx"].duplicate_of == ""
    assert [w.file for w in batch.graded] == ["P001 (2).xlsx"]
    wid = register[0].workbook_id
    assert [d.message for d in by_file["P001.xlsx"].diagnostics] == [
        f"同一工作簿（编号 {wid}）交回了两次：本文件较旧，已由 P001 (2).xlsx 取代，不计入汇总。"
    ]
    assert [d.message for d in by_file["P001 (2).xlsx"].diagnostics] == [
        f"同一工作簿（编号 {wid}）交回了两次：以本文件（较新）为准，较旧的 P001.xlsx 不计入汇总。"
    ]


def test_unexpected_exception_becomes_a_diagnostic(tmp_path, standard, issued_books, monkeypatch):
    books, _ = issued_books
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "a.xlsx").write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    (folder / "b.xlsx").write_bytes(fill(books["P002"], standard, {}, default=ALL_PASS))
    from audit_xls.workbook import read as read_module

    real = read_module.read_workbook

    def flaky(data: bytes, *args):
        if data == (folder / "a.xlsx").read_bytes():
            raise RuntimeError("boom\nsecond line")
        return real(data, *args)

    monkeypatch.setattr(read_module, "read_workbook", flaky)  # grade.py imports it per file
    batch = grade_returns(folder, [standard], None, jobs=0)  # in process, for the monkeypatch
    assert [(w.file, w.status) for w in batch.workbooks] == [
        ("a.xlsx", "sent_back"), ("b.xlsx", "graded"),
    ]  # fmt: skip
    assert [(d.code, d.message) for d in batch.workbooks[0].diagnostics] == [
        ("internal.error",
         "读取本文件时发生内部错误（RuntimeError: boom），未评分：请把该文件发给技术支持，"
         "其余文件已照常处理。"),
    ]  # fmt: skip


def test_cli_grade_json_summary_and_exit_codes(tmp_path, standard, issued_books, returns_folder):
    books, _ = issued_books
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "summary.xlsx"
    result = runner.invoke(
        cli,
        ["grade", str(returns_folder), "--standards", str(standards), "--out", str(out),
         "--csv", str(tmp_path / "r.csv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert [w["status"] for w in document["workbooks"]] == ["sent_back", "sent_back", "graded"]
    assert out.is_file() and (tmp_path / "r.csv").is_file()

    good = tmp_path / "good"
    good.mkdir()
    (good / "P001.xlsx").write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    result = runner.invoke(
        cli, ["grade", str(good), "--standards", str(standards), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "共读取 1 个工作簿：评分 1 个，退回 0 个；跳过 0 个文件；未交情况未知（未提供 --issued 发放登记表）。"
    )
    result = runner.invoke(cli, ["grade", str(good), "--standards", str(standards)])
    assert result.exit_code == 2  # --out missing: usage error
    result = runner.invoke(
        cli, ["grade", str(good), "--standards", str(tmp_path / "none"), "--out", str(out)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "不是文件夹：请指定存放标准文件（*.yaml）的文件夹。" in result.output


def test_bytes_in_memory_zip_member_dates_order_newer(tmp_path, standard, issued_books):
    books, _ = issued_books
    archive = tmp_path / "r.zip"
    with zipfile.ZipFile(archive, "w") as out:
        older = zipfile.ZipInfo("a/P001.xlsx", date_time=(2026, 11, 20, 9, 0, 0))
        newer = zipfile.ZipInfo("b/P001.xlsx", date_time=(2026, 11, 21, 9, 0, 0))
        out.writestr(newer, fill(books["P001"], standard, {}, default=ALL_PASS))
        out.writestr(older, fill(books["P001"], standard, {}, default=ALL_PASS))
    batch = grade_returns(archive, [standard], None)
    assert [(w.file, w.duplicate_of) for w in batch.workbooks] == [
        ("b/P001.xlsx", ""), ("a/P001.xlsx", "b/P001.xlsx"),
    ]  # fmt: skip


def test_cli_grade_records_the_history_once(tmp_path, standard, issued_books, returns_folder):
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    history = tmp_path / "h.sqlite"
    args = ["grade", str(returns_folder), "--standards", str(standards),
            "--out", str(tmp_path / "s.xlsx"), "--history", str(history)]  # fmt: skip
    first = CliRunner().invoke(cli, args)
    assert first.stdout.splitlines()[-1] == (
        f"历史库 {history}：新记录 3 份（评分 1，退回 2），已记录过 0 份，被重新提交替代 0 份。"
    )
    again = CliRunner().invoke(cli, [*args, "--json"])
    json.loads(again.stdout)  # the history line goes to stderr with --json
    assert again.stderr.splitlines()[-1] == (
        f"历史库 {history}：新记录 0 份（评分 0，退回 0），已记录过 3 份，被重新提交替代 0 份。"
    )
    skipped = CliRunner().invoke(cli, [*args[:-2], "--history", str(tmp_path / "x.sqlite"),
                                       "--no-history"])  # fmt: skip
    assert not (tmp_path / "x.sqlite").exists() and "历史库" not in skipped.stdout


def test_json_text_prints_every_number_with_two_decimals():
    from audit_xls.outputs.exports import json_text

    document = {"workbooks": [{"score": 34.0, "percent": 89.7, "note": "34.0", "n": None}]}
    assert json_text(document) == (
        '{\n  "workbooks": [\n    {\n      "score": 34.00,\n      "percent": 89.70,\n'
        '      "note": "34.0",\n      "n": null\n    }\n  ]\n}'
    )
    assert json.loads(json_text(document)) == document


def test_zip_members_that_cannot_be_read_are_sent_back_and_the_batch_finishes(
    tmp_path, standard, issued_books
):
    books, _ = issued_books
    good = fill(books["P001"], standard, {}, default=ALL_PASS)
    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("crc.xlsx", good)
        zf.writestr(zipfile.ZipInfo("nodate.xlsx", date_time=(1980, 0, 0, 0, 0, 0)), good)
    raw = bytearray(archive.read_bytes())
    raw[30 + len("crc.xlsx") + 100] ^= 0xFF  # one byte of the first member: its CRC fails
    archive.write_bytes(bytes(raw))
    batch = grade_returns(archive, [standard], None)
    outcome = [(w.file, w.status, [d.code for d in w.diagnostics]) for w in batch.workbooks]
    assert outcome == [
        ("crc.xlsx", "sent_back", ["file.corrupt"]),
        ("nodate.xlsx", "graded", []),
    ]
    assert "BadZipFile: Bad CRC-32 for file 'crc.xlsx'" in batch.workbooks[0].diagnostics[0].message
    assert batch.workbooks[1].modified is None


def test_a_pipe_in_the_folder_is_skipped_not_read(tmp_path, standard, issued_books):
    books, _ = issued_books
    (tmp_path / "P001.xlsx").write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    os.mkfifo(tmp_path / "pipe.xlsx")  # reading it would wait forever
    batch = grade_returns(tmp_path, [standard], None)
    assert [w.file for w in batch.graded] == ["P001.xlsx"]
    assert [(s.file, s.reason) for s in batch.skipped] == [
        (
            "pipe.xlsx",
            "不是普通文件（管道、设备或失效的链接），未读取：请把检查表文件本身放进文件夹。",
        )
    ]


def test_account_names_each_file_to_act_on_with_its_first_cell(
    tmp_path, standard, issued_books, returns_folder
):
    from audit_xls.outputs.console import account_lines

    books, register = issued_books
    older = tmp_path / "returns" / "P001 (旧).xlsx"
    older.write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    os.utime(older, (1_600_000_000, 1_600_000_000))
    batch = grade_returns(returns_folder, [standard], register)
    wid = read_workbook(books["P001"]).manifest["workbook_id"]
    assert account_lines(batch) == [
        "共读取 4 个工作簿：评分 1 个，退回 2 个；跳过 4 个文件；未交 1 个。",
        "退回 2 个（按说明改正后重新交回）：",
        "  P002.xlsx：检查表!H8 问题点数填了「两个」，须为 0-99 的整数：请改为整数（例如 2）。",
        "  broken.xlsx：文件为空（0 字节），无法读取：请在 Excel/WPS 中重新保存检查表后发回。",
        "催交 1 个（已下发，未交回）：",
        "  P003 北岸（华北）",
        "核对 4 项（已评分但有警告、重复提交、未能读取的文件）：",
        f"  警告 华东/P001.xlsx：同一工作簿（编号 {wid}）交回了两次：以本文件（较新）为准，"
        "较旧的 P001 (旧).xlsx 不计入汇总。",
        "  重复提交 P001 (旧).xlsx：以较新的 华东/P001.xlsx 为准",
        "  跳过 P002.pdf：不是检查表文件（扩展名 .pdf，只读取 .xlsx/.xlsm/.xls/.ods/.et）：如为检查表请另存为 .xlsx。",
        "  跳过 readme.txt：不是检查表文件（扩展名 .txt，只读取 .xlsx/.xlsm/.xls/.ods/.et）：如为检查表请另存为 .xlsx。",
        "已忽略 2 个（临时或系统文件，无需处理）：Thumbs.db、~$P002.xlsx",
    ]
    assert account_lines(batch, limit=1) == [
        "共读取 4 个工作簿：评分 1 个，退回 2 个；跳过 4 个文件；未交 1 个。",
        "退回 2 个（按说明改正后重新交回）：",
        "  P002.xlsx：检查表!H8 问题点数填了「两个」，须为 0-99 的整数：请改为整数（例如 2）。",
        "  …另有 1 项，见汇总的「退回清单」。",
        "催交 1 个（已下发，未交回）：",
        "  P003 北岸（华北）",
        "核对 4 项（已评分但有警告、重复提交、未能读取的文件）：",
        f"  警告 华东/P001.xlsx：同一工作簿（编号 {wid}）交回了两次：以本文件（较新）为准，"
        "较旧的 P001 (旧).xlsx 不计入汇总。",
        "  …另有 3 项，见汇总的「警告清单」。",
        "已忽略 2 个（临时或系统文件，无需处理）：Thumbs.db …另有 1 个",
    ]
    english = account_lines(batch, "en", limit=1)
    assert english[1] == "Send back 2 (to be corrected and returned):"
    assert english[3] == "  ... and 1 more: see the summary's Sent back sheet."
    assert english[4:6] == ["Chase 1 (issued, not returned):", "  P003 北岸 (华北)"]
    assert english[-1] == (
        "Ignored 2 (temporary or system files, nothing to do): Thumbs.db ... and 1 more"
    )


def test_cli_grade_an_empty_folder_says_so_and_exits_1(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        cli, ["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "s.xlsx"), "--no-history"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"在 {tmp_path / 'empty'} 中没有找到任何文件：请确认交回文件夹是否正确。"
    )


def test_cli_grade_refuses_outputs_inside_the_returns_folder(tmp_path, returns_folder):
    before = hashes(returns_folder)
    for option in ("--out", "--csv"):
        args = ["grade", str(returns_folder), "--out", str(tmp_path / "s.xlsx"), "--no-history"]
        args += [option, str(returns_folder / "华东" / "P001.xlsx")]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (
            f"Error: {option} {returns_folder / '华东' / 'P001.xlsx'} 在 RETURNS 文件夹 "
            f"{returns_folder} 之内：输出会被当作输入读取或覆盖输入，已拒绝，什么也没写："
            "请把输出写到别的文件夹。"
        )
    assert hashes(returns_folder) == before


def test_cli_grade_with_another_months_register_says_so_and_writes_nothing(
    tmp_path, standard, issued_books, returns_folder
):
    _, register = issued_books
    october = tmp_path / "issued-2026-10.csv"
    write_issued(october, [replace(e, period="2026-10", workbook_id="x" + e.workbook_id[1:])
                           for e in register])  # fmt: skip
    history = tmp_path / "h.sqlite"
    result = CliRunner().invoke(cli, ["grade", str(returns_folder), "--issued", str(october),
                                      "--out", str(tmp_path / "s.xlsx"), "--history", str(history)])  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"发放登记表 {october} 是 2026-10 的，交回的检查表是 2026-11 的：请用 --issued 指定 2026-11 "
        "的登记表（issued-2026-11.csv）。本次未写出任何结果。"
    ) in result.stderr
    assert not (tmp_path / "s.xlsx").exists() and not history.exists()


def test_cli_grade_checks_history_and_outputs_before_grading(tmp_path, returns_folder, monkeypatch):
    import sqlite3

    monkeypatch.setattr(grade_module, "grade_returns", lambda *a, **k: pytest.fail("graded"))
    foreign = tmp_path / "other.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE customers (id INT)").connection.commit()
    base = ["grade", str(returns_folder), "--out"]
    result = CliRunner().invoke(cli, [*base, str(tmp_path / "s.xlsx"), "--history", str(foreign)])
    assert result.exit_code == 1 and "不是 audit-xls 的历史库" in result.stderr
    result = CliRunner().invoke(cli, [*base, str(tmp_path / "nodir" / "s.xlsx"), "--no-history"])
    assert (
        result.exit_code == 1
        and "文件夹" in result.stderr
        and "不存在：请先建好文件夹。" in result.stderr
    )
    result = CliRunner().invoke(cli, [*base, str(tmp_path / "s.csv"), "--no-history"])
    assert result.exit_code == 2 and "文件名请以 .xlsx 结尾" in result.stderr
    single = next(returns_folder.rglob("P001.xlsx"))
    result = CliRunner().invoke(cli, ["grade", str(single), "--out", str(tmp_path / "s.xlsx")])
    assert (
        result.exit_code == 2
        and "是单个文件：请指定交回检查表所在的文件夹（或 .zip）。" in result.stderr
    )
    result = CliRunner().invoke(cli, [*base, str(tmp_path / "s.xlsx"), "--issued", "nope.csv"])
    assert result.exit_code == 2


def test_cli_grade_json_keeps_stdout_for_json_and_tells_the_rest_on_stderr(
    tmp_path, returns_folder
):
    result = CliRunner().invoke(cli, ["grade", str(returns_folder), "--out",
                                      str(tmp_path / "s.xlsx"), "--json", "--no-history"])  # fmt: skip
    json.loads(result.stdout)
    assert result.stderr.splitlines()[0].startswith("共读取 3 个工作簿")


JUNK = ["~$P001.xlsx", ".~lock.P001.xlsx#", "Thumbs.db", ".DS_Store", "desktop.ini",
        "__MACOSX/._P001.xlsx", ".~P001.xlsx"]  # fmt: skip


def test_junk_does_not_fail_a_run_but_a_file_that_may_be_a_return_does(
    tmp_path, standard, issued_books
):
    books, _ = issued_books
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "P001.xlsx").write_bytes(fill(books["P001"], standard, {}, default=ALL_PASS))
    for name in JUNK:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"junk")
    batch = grade_returns(folder, [standard], None)
    assert sorted(s.file for s in batch.skipped) == sorted(JUNK)
    assert all(s.junk for s in batch.skipped)
    assert exit_code(batch) == 0
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["grade", str(folder), "--standards", str(standards), "--out", str(tmp_path / "s.xlsx"),
         "--no-history"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已忽略 7 个（临时或系统文件，无需处理）：" in result.output
    (folder / "P002.pdf").write_bytes(b"%PDF-1.4")  # may be a return saved wrongly
    batch = grade_returns(folder, [standard], None)
    assert exit_code(batch) == 1


def test_packed_results_come_back_equal_whatever_their_shape():
    """_pack sends answers and criterion scores as columns (the scores' codes only when they
    are not the answers'): each shape unpacks to the result packed, in the same order."""
    import dataclasses
    import pickle
    from decimal import Decimal

    from test_report import HYPERLINK, MINI, answers, graded, mini_batch

    from audit_xls.model.diagnostics import ERROR, Diagnostic
    from audit_xls.model.results import SENT_BACK, Photo, WorkbookResult
    from audit_xls.model.score import FAIL, NA, Answer, CriterionScore

    shapes = list(mini_batch().workbooks)
    partial = graded("p.xlsx", "S8", "八", "华东", {"B.1.02": Answer(NA), "A.1.01": Answer(None)})
    shapes.append(partial)  # answers fewer than the criteria scored, and in another order
    card = partial.card
    assert card is not None
    odd = (CriterionScore("X.9", FAIL, 3, Decimal("-0")), *card.criteria[1:])
    shapes.append(dataclasses.replace(partial, card=dataclasses.replace(card, criteria=odd)))
    shapes.append(dataclasses.replace(partial, answers={}))
    shapes.append(dataclasses.replace(partial, answers={}, card=dataclasses.replace(
        card, criteria=())))  # fmt: skip
    back = graded("b.xlsx", "S9", "九", "华东", answers(A_1_01=(FAIL, 7, HYPERLINK)))
    photo = Photo("A.1.01", "0" * 64, "png", "floating", "H8", 10, 20)
    shapes.append(dataclasses.replace(back, status=SENT_BACK, card=None, photos=[photo],
                                      diagnostics=[Diagnostic(ERROR, "file.empty", "x")]))  # fmt: skip
    shapes.append(WorkbookResult("u.xlsx", "", duplicate_of="a.xlsx", period="2025-13"))
    for w in shapes:
        packed = pickle.loads(pickle.dumps(grade_module._pack(w, (MINI,)), 5))
        assert grade_module._unpack(packed, (MINI,)) == w, w.file
        assert list(grade_module._unpack(packed, (MINI,)).answers) == list(w.answers)
