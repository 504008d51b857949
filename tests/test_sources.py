"""The returns as listed (grading/sources.py): readable names, nothing vanishes, zip members
checked before they are read, a site whose file was found but not read is not missing.

Every test hashes its inputs before and after: grading only reads them."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from returns import PERIOD, fill, issue, mini_standard

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.register import IssuedEntry
from audit_xls.grading.sources import open_sources, readable_name, zip_member_name
from audit_xls.outputs.exports import batch_to_json, json_text, write_csv
from audit_xls.outputs.summary import write_summary
from audit_xls.workbook.read import read_workbook

ALL_PASS = ("符合", None)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return mini_standard(tmp_path_factory.mktemp("std"))


@pytest.fixture(scope="module")
def good(standard) -> bytes:
    return fill(issue(standard, "P001", "滨江花园", "华东"), standard, {}, default=ALL_PASS)


def tree(root: Path) -> dict[str, str]:
    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    return {
        os.fsdecode(os.path.relpath(p, root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def outputs_accept(batch, tmp_path: Path) -> None:
    """The summary, the CSV and the JSON all take every name (no surrogate reaches them)."""
    write_summary(batch, tmp_path / "summary.xlsx")
    write_csv(batch, tmp_path / "results.csv")
    json.loads(json_text(batch_to_json(batch)))


def listing(batch) -> dict[str, str]:
    """file -> outcome code: 'graded', a diagnostic code, or a skip code."""
    found = {w.file: (w.errors[0].code if w.errors else "graded") for w in batch.workbooks}
    found |= {s.file: s.code for s in batch.skipped}
    return found


# --- names -------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux keeps names that are not UTF-8")
def test_gbk_file_names_from_an_unzipped_chinese_windows_zip(tmp_path, standard, good) -> None:
    returns = tmp_path / "returns"
    region = os.path.join(os.fsencode(returns), "华东".encode("gbk"))
    os.makedirs(region)
    with open(os.path.join(region, "滨江花园 督导表.xlsx".encode("gbk")), "wb") as out:
        out.write(good)
    with open(os.path.join(os.fsencode(returns), b"\xff\xfe-bad.xlsx"), "wb") as out:
        out.write(b"not a workbook")
    before = tree(returns)
    batch = grade_returns(returns, [standard], None, jobs=0)
    assert listing(batch) == {
        "华东/滨江花园 督导表.xlsx": "graded",  # as Windows shows it
        "\ufffd\ufffd-bad.xlsx": "file.not_spreadsheet",  # neither UTF-8 nor GBK: marked
    }
    outputs_accept(batch, tmp_path)
    assert tree(returns) == before


def test_readable_name_decodes_surrogates() -> None:
    gbk = os.fsdecode("测试项目.xlsx".encode("gbk"))
    assert gbk != "测试项目.xlsx" and readable_name(gbk) == "测试项目.xlsx"
    assert readable_name(os.fsdecode(b"\x80\xff.xlsx")) == "\ufffd\ufffd.xlsx"
    assert readable_name("滨江花园.xlsx") == "滨江花园.xlsx"


class Stored(zipfile.ZipInfo):
    """A member stored with given name bytes, no UTF-8 flag, and optional extra field."""

    def __init__(self, raw: bytes, extra: bytes = b"") -> None:
        super().__init__(raw.decode("cp437"))
        self.raw = raw
        self.extra = extra

    def _encodeFilenameFlags(self):
        return self.raw, self.flag_bits & ~0x800


def unicode_path_extra(raw: bytes, name: str, crc: int | None = None) -> bytes:
    body = b"\x01" + struct.pack("<I", zlib.crc32(raw) if crc is None else crc)
    body += name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


def test_zip_member_names_in_every_spelling(tmp_path, standard, good) -> None:
    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("utf8-flag/滨江花园.xlsx", good)  # Python sets the UTF-8 flag
        out.writestr(Stored("info-zip/江南名苑.xlsx".encode()), good)  # UTF-8, no flag
        raw = "unicode-path/北岸.xlsx".encode("gbk")
        out.writestr(Stored(raw, unicode_path_extra(raw, "unicode-path/北岸（新）.xlsx")), good)
        stale = "stale-extra/东城.xlsx".encode("gbk")
        out.writestr(Stored(stale, unicode_path_extra(stale, "wrong.xlsx", crc=1)), good)
        out.writestr(Stored("gbk/西湖.xlsx".encode("gbk")), good)
    before = tree(archive)
    with zipfile.ZipFile(archive) as opened:
        names = [zip_member_name(info) for info in opened.infolist()]
    assert names == [
        "utf8-flag/滨江花园.xlsx",
        "info-zip/江南名苑.xlsx",
        "unicode-path/北岸（新）.xlsx",
        "stale-extra/东城.xlsx",  # a stale field (CRC of another name) is ignored: GBK
        "gbk/西湖.xlsx",
    ]
    batch = grade_returns(archive, [standard], None, jobs=0)
    assert sorted(w.file for w in batch.workbooks) == sorted(names)  # one workbook, 5 copies
    assert all(not w.errors for w in batch.workbooks)
    outputs_accept(batch, tmp_path)
    assert tree(archive) == before


# --- nothing vanishes ----------------------------------------------------------------------


def can_symlink(tmp_path: Path) -> bool:
    try:
        (tmp_path / "probe").symlink_to(tmp_path, target_is_directory=True)
    except (OSError, NotImplementedError):
        return False
    (tmp_path / "probe").unlink()
    return True


def test_symlinked_folders_are_followed_once_loops_are_listed(tmp_path, standard, good) -> None:
    if not can_symlink(tmp_path):
        pytest.skip("symbolic links cannot be made here (Windows without the privilege)")
    elsewhere = tmp_path / "shared-drive" / "华南"
    elsewhere.mkdir(parents=True)
    (elsewhere / "P002.xlsx").write_bytes(good)
    returns = tmp_path / "returns"
    (returns / "华东").mkdir(parents=True)
    (returns / "华东" / "P001.xlsx").write_bytes(good)
    (returns / "华南").symlink_to(elsewhere, target_is_directory=True)  # a region linked in
    (returns / "华东" / "back").symlink_to(returns, target_is_directory=True)  # a loop
    (returns / "again").symlink_to(elsewhere, target_is_directory=True)  # the same folder twice
    before = tree(returns) | tree(elsewhere)
    batch = grade_returns(returns, [standard], None, jobs=0)
    assert listing(batch) == {
        "again/P002.xlsx": "graded",
        "华东/P001.xlsx": "graded",
        "华东/back/": "skip.folder_repeated",
        "华南/": "skip.folder_repeated",
    } or listing(batch) == {
        "again/": "skip.folder_repeated",
        "华东/P001.xlsx": "graded",
        "华东/back/": "skip.folder_repeated",
        "华南/P002.xlsx": "graded",
    }
    reasons = {s.file: s.reason for s in batch.skipped}
    assert reasons["华东/back/"] == (
        "链接指向已读过的文件夹 ./（循环链接或同一文件夹出现两次），未重复读取。"
    )
    outputs_accept(batch, tmp_path)
    assert tree(returns) | tree(elsewhere) == before


def test_a_folder_named_like_a_workbook_is_listed(tmp_path, standard, good) -> None:
    returns = tmp_path / "returns"
    unzipped = returns / "P001.xlsx"
    (unzipped / "xl").mkdir(parents=True)
    (unzipped / "[Content_Types].xml").write_text("<Types/>", encoding="utf-8")
    (returns / "P002.xlsx").write_bytes(good)
    batch = grade_returns(returns, [standard], None, jobs=0)
    assert listing(batch) == {
        "P001.xlsx/": "skip.folder_named_like_workbook",
        "P002.xlsx": "graded",
    }
    assert batch.skipped[0].reason == (
        "这是一个文件夹，名字却像工作簿（可能是解压开的 .xlsx），未读取："
        "请把工作簿文件本身放进交回文件夹。"
    )
    assert not batch.skipped[0].junk


def test_an_unreadable_subfolder_is_listed_with_the_error(
    tmp_path, standard, good, monkeypatch
) -> None:
    returns = tmp_path / "returns"
    (returns / "华北").mkdir(parents=True)
    (returns / "华北" / "P003.xlsx").write_bytes(good)
    (returns / "P002.xlsx").write_bytes(good)
    if sys.platform != "win32" and os.geteuid() != 0:
        (returns / "华北").chmod(0)  # a real permission error
    else:  # root reads through permissions (and Windows ACLs are not set here): simulate one
        real = os.scandir

        def scandir(path):
            if Path(path).name == "华北":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        batch = grade_returns(returns, [standard], None, jobs=0)
    finally:
        (returns / "华北").chmod(0o755)
    assert listing(batch) == {"P002.xlsx": "graded", "华北/": "skip.folder_unreadable"}
    assert batch.skipped[0].reason == (
        "文件夹无法打开（Permission denied），其中的文件未能列出和评分；"
        "未交清单中的项目可能就在其中：请检查该文件夹的权限后重新评分。"
    )


# --- zip members checked like workbook parts ------------------------------------------------


def encrypt_flag(archive: Path, member: str) -> None:
    """Mark a member encrypted (general purpose bit 0), as a zip tool with a password does,
    in its local header and its central directory entry."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as opened:
        info = opened.getinfo(member)
    data[info.header_offset + 6] |= 0x1
    name = member.encode("utf-8")
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 8] |= 0x1
    archive.write_bytes(bytes(data))


def test_zip_members_are_checked_before_they_are_read(tmp_path, standard, good) -> None:
    wid = read_workbook(good).manifest["workbook_id"]
    register = [
        IssuedEntry(wid, "P001", "滨江花园", "华东", "", "", PERIOD, standard.id,
                    standard.version, standard.content_hash, "2026-11_P001_滨江花园.xlsx"),
        IssuedEntry("other", "P002", "江南名苑", "华南", "", "", PERIOD, standard.id,
                    standard.version, standard.content_hash, "2026-11_P002_江南名苑.xlsx"),
    ]  # fmt: skip
    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("2026-11_P002_江南名苑.xlsx", good)
        out.writestr("bomb.xlsx", b"\0" * (30 * 2**20))  # 30 MB of zeros: ratio about 1000:1
        out.writestr("2026-11_P001_滨江花园.xlsx", good)
    encrypt_flag(archive, "2026-11_P002_江南名苑.xlsx")
    before = tree(archive)
    batch = grade_returns(archive, [standard], register, jobs=0)
    assert listing(batch) == {
        "2026-11_P002_江南名苑.xlsx": "file.zip_member_encrypted",
        "bomb.xlsx": "file.compression_ratio",
        "2026-11_P001_滨江花园.xlsx": "graded",
    }
    by_file = {w.file: w for w in batch.workbooks}
    encrypted = by_file["2026-11_P002_江南名苑.xlsx"]
    assert encrypted.errors[0].message == (
        "压缩包中的这个文件加了密码（加密压缩），未读取：请把压缩包解压（输入密码）后将文件夹作为 "
        "RETURNS 重新评分，或请对方不加密重新压缩发回。"
    )
    assert "ZipInfo" not in encrypted.errors[0].message
    assert (encrypted.site_code, encrypted.site_name) == ("P002", "江南名苑")  # from the register
    assert batch.missing == []  # P002's file was found: its site returned, it is not 未交
    ratio = by_file["bomb.xlsx"].errors[0].message
    assert ratio.startswith("文件部件 bomb.xlsx 的压缩比为 ") and "超过上限 100:1" in ratio
    assert tree(archive) == before


def test_open_sources_lists_a_zip_in_archive_order(tmp_path, good) -> None:
    archive = tmp_path / "r.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("b.xlsx", good)
        out.writestr("a.xlsx/", b"")
        out.writestr("a.xlsx/inner.xml", b"<x/>")
    with open_sources(archive) as sources:
        assert [(s.name, s.refused) for s in sources] == [
            ("b.xlsx", ""),
            ("a.xlsx/", "skip.folder_named_like_workbook"),
            ("a.xlsx/inner.xml", ""),
        ]


def test_a_returns_zip_of_an_unsupported_version_is_a_clear_error(tmp_path, good) -> None:
    from returns import unsupported_zip_version

    from audit_xls.grading.sources import GradeError

    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w") as made:
        made.writestr("P001.xlsx", good)
    archive.write_bytes(unsupported_zip_version(archive.read_bytes()))
    with pytest.raises(GradeError) as caught, open_sources(archive):
        pass
    assert str(caught.value) == (
        f"文件已损坏，无法读取（{archive}: zip file version 12.8）："
        "请在 Excel/WPS 中打开确认内容完好，另存为 .xlsx 后发回。"
    )
