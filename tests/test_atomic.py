"""atomic.py: every file audit-xls writes is replaced in one step, readable like a plain open's."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from audit_xls.atomic import atomic_open, atomic_write_bytes, link_new
from audit_xls.grading.register import register_path
from audit_xls.grading.sites import Site
from audit_xls.standards.loader import save_standard
from audit_xls.standards.table import export_table
from audit_xls.workbook.build import build_all

UMASK = 0o002  # a shared-folder umask: group-writable, so 0600 and 0644 are both wrong


@pytest.fixture
def umask() -> Iterator[int]:
    before = os.umask(UMASK)
    try:
        yield UMASK
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_issued_files_have_plain_open_permissions(
    shipped_standard, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "issued"
    entries = build_all(
        shipped_standard,
        [Site("P001", "滨江花园", "华东")],
        "2026-11",
        out,
        issued_on=date(2026, 11, 1),
    )
    standard_file = tmp_path / "standard.yaml"
    save_standard(shipped_standard, standard_file)
    table_file = tmp_path / "table.xlsx"
    export_table(shipped_standard, table_file)
    written = [out / entries[0].file, register_path(out, "2026-11"), standard_file, table_file]
    assert [mode(p) for p in written] == [0o666 & ~umask] * 4 == [0o664] * 4
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []  # no temporary file left


def test_replacing_a_file_keeps_its_permissions(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "issued-2026-11.csv"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert (path.read_bytes(), mode(path)) == (b"new", 0o640)


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert path.read_text(encoding="utf-8") == "old"


def test_an_unwritable_folder_names_the_users_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "out.xlsx"
    with pytest.raises(FileNotFoundError) as caught:
        atomic_write_bytes(path, b"x")
    assert caught.value.filename == str(path)


def test_link_new_puts_a_file_in_place_but_never_over_one(tmp_path) -> None:
    """A new history is put in place so; never over one another program made meanwhile."""
    temp, path = tmp_path / ".new", tmp_path / "h.sqlite"
    temp.write_bytes(b"first")
    assert link_new(temp, path) is True
    assert path.read_bytes() == b"first"
    temp.unlink()  # linked: the caller removes its name
    temp.write_bytes(b"second")
    assert link_new(temp, path) is False
    assert path.read_bytes() == b"first"
