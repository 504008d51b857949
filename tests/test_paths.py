"""Inputs are sacred (audit_xls/paths.py): no command writes over an input, into the returns
or through a symbolic link. Every refusal is exit 2, nothing written, every input unchanged."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from returns import MINI_YAML, fill, issue, mini_standard

from audit_xls.cli import cli
from audit_xls.grading.register import write_issued
from audit_xls.paths import PathPolicyError, check_outputs

REPO = Path(__file__).resolve().parents[1]


def tree_hashes(*paths: Path) -> dict[str, str]:
    found = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            found[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


def can_symlink(tmp_path: Path) -> bool:
    try:
        (tmp_path / "probe-link").symlink_to(tmp_path)
    except (OSError, NotImplementedError):
        return False
    (tmp_path / "probe-link").unlink()
    return True


@pytest.fixture()
def setup(tmp_path):
    """Returns, standards, an issued register and a history, as HQ keeps them."""
    standards = tmp_path / "standards"
    standards.mkdir()
    standard = mini_standard(standards)
    returns = tmp_path / "returns"
    returns.mkdir()
    book = issue(standard, "P001", "滨江花园", "华东")
    (returns / "P001.xlsx").write_bytes(fill(book, standard, {}, default=("符合", None)))
    register = tmp_path / "issued-2026-11.csv"
    from audit_xls.workbook.read import read_workbook

    wid = read_workbook(book).manifest["workbook_id"]
    from audit_xls.grading.register import IssuedEntry

    write_issued(
        register,
        [
            IssuedEntry(wid, "P001", "滨江花园", "华东", "", "", "2026-11", standard.id,
                        standard.version, standard.content_hash, "P001.xlsx")
        ],
    )  # fmt: skip
    history = tmp_path / "h.sqlite"
    grade = ["grade", str(returns), "--standards", str(standards), "--issued", str(register),
             "--history", str(history)]  # fmt: skip
    first = CliRunner().invoke(cli, [*grade, "--out", str(tmp_path / "first.xlsx")])
    assert first.exit_code == 0, first.output
    return SimpleNamespace(
        tmp=tmp_path, returns=returns, standards=standards, register=register, history=history,
        grade=grade,
    )  # fmt: skip


def refused(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    return result.stderr.splitlines()[-1]


def test_grade_never_writes_over_an_input(setup) -> None:
    tmp, returns, standards, register, history, grade = (
        setup.tmp,
        setup.returns,
        setup.standards,
        setup.register,
        setup.history,
        setup.grade,
    )
    inputs = [returns, standards, register, history]
    before = tree_hashes(*inputs)
    summary = str(tmp / "s.xlsx")
    # the issue's two cases: --csv naming the register, --csv naming the history
    assert refused([*grade, "--out", summary, "--csv", str(register)]) == (
        f"Error: --csv {register} 与 --issued {register} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    assert refused([*grade, "--out", summary, "--csv", str(history)]) == (
        f"Error: --csv 和 --history 是同一个文件 {history}：后写的会覆盖先写的，已拒绝，"
        "什么也没写：请给它们不同的文件名。"
    )
    # spelled another way: through `..`, and a hard link to the register
    dotted = tmp / "returns" / ".." / register.name
    assert "是同一个文件" in refused([*grade, "--out", summary, "--csv", str(dotted)])
    linked = tmp / "hard-link.csv"
    os.link(register, linked)
    assert refused([*grade, "--out", summary, "--csv", str(linked)]) == (
        f"Error: --csv {linked} 与 --issued {register} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    # into the returns (history included: next month it would be a skipped file) or standards
    assert refused([*grade[:-1], str(returns / "h.sqlite"), "--out", summary]) == (
        f"Error: --history {returns / 'h.sqlite'} 在 RETURNS 文件夹 {returns} 之内：输出会被当作"
        "输入读取或覆盖输入，已拒绝，什么也没写：请把输出写到别的文件夹。"
    )
    assert "在 --standards 文件夹" in refused([*grade, "--out", str(standards / "s.xlsx")])
    # --out and --csv one file
    assert refused([*grade, "--out", summary, "--csv", summary]) == (
        f"Error: --out 和 --csv 是同一个文件 {summary}：后写的会覆盖先写的，已拒绝，"
        "什么也没写：请给它们不同的文件名。"
    )
    assert tree_hashes(*inputs) == before
    assert not (tmp / "s.xlsx").exists()
    english = CliRunner().invoke(cli, [*grade, "--out", summary, "--csv", str(register),
                                       "--lang", "en"])  # fmt: skip
    assert english.stderr.splitlines()[-1] == (
        f"Error: --csv {register} is the same file as --issued {register}: writing it would "
        "overwrite that input. Refused, nothing was written: write the output to another file."
    )


def test_grade_from_a_zip_never_writes_over_the_zip(setup) -> None:
    tmp, returns, standards = setup.tmp, setup.returns, setup.standards
    archive = Path(shutil.make_archive(str(tmp / "returns"), "zip", returns))
    before = tree_hashes(archive)
    args = ["grade", str(archive), "--standards", str(standards), "--no-history"]
    assert refused([*args, "--out", str(tmp / "s.xlsx"), "--csv", str(archive)]) == (
        f"Error: --csv {archive} 与 RETURNS {archive} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    assert tree_hashes(archive) == before


def test_a_symlinked_output_is_refused(setup) -> None:
    tmp, history, grade = setup.tmp, setup.history, setup.grade
    if not can_symlink(tmp):
        pytest.skip("symbolic links cannot be made here (Windows without the privilege)")
    elsewhere = tmp / "elsewhere.xlsx"
    elsewhere.write_bytes(b"HQ's other workbook")
    link = tmp / "summary.xlsx"
    link.symlink_to(elsewhere)
    assert refused([*grade, "--out", str(link)]) == (
        f"Error: --out {link} 是符号链接（指向 {elsewhere}）：写出会替换链接或改动它指向的文件，"
        "已拒绝，什么也没写：请直接指定要写的文件。"
    )
    assert link.is_symlink() and elsewhere.read_bytes() == b"HQ's other workbook"
    # a link to the history as --out of monthly: refused as a link, the history unchanged
    before = tree_hashes(history)
    to_history = tmp / "monthly.xlsx"
    to_history.symlink_to(history)
    monthly = ["monthly", "--history", str(history), "--out", str(to_history)]
    assert "是符号链接" in refused(monthly)
    assert tree_hashes(history) == before


def test_monthly_never_writes_over_the_history(setup) -> None:
    tmp, history = setup.tmp, setup.history
    before = tree_hashes(history)
    assert refused(["monthly", "--history", str(history), "--out", str(history)]) == (
        f"Error: --out {history} 与 --history {history} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    # --csv DIR whose 项目月度得分.csv is the history (a hard link under that name)
    csv_dir = tmp / "csv"
    csv_dir.mkdir()
    os.link(history, csv_dir / "项目月度得分.csv")
    message = refused(["monthly", "--history", str(history), "--out", str(tmp / "m.xlsx"),
                       "--csv", str(csv_dir)])  # fmt: skip
    assert message.startswith(f"Error: --csv {csv_dir / '项目月度得分.csv'} 与 --history ")
    assert tree_hashes(history) == before and not (tmp / "m.xlsx").exists()


def test_build_never_writes_over_its_inputs(tmp_path) -> None:
    out = tmp_path / "issued"
    out.mkdir()
    sites = out / "issued-2026-11.csv"  # HQ keeps the sites list where the register goes
    shutil.copy(REPO / "samples" / "sites.csv", sites)
    standard = tmp_path / "kefu.yaml"
    shutil.copy(REPO / "standards" / "kefu-dudao.yaml", standard)
    before = tree_hashes(sites, standard)
    args = ["build", "--standard", str(standard), "--sites", str(sites), "--period", "2026-11",
            "--out", str(out)]  # fmt: skip
    assert refused(args) == (
        f"Error: --out {sites} 与 --sites {sites} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    assert tree_hashes(sites, standard) == before
    assert sorted(p.name for p in out.iterdir()) == ["issued-2026-11.csv"]


def test_standard_import_and_export_never_write_over_their_input(tmp_path) -> None:
    standard = tmp_path / "kefu.yaml"
    standard.write_text(MINI_YAML, encoding="utf-8")
    before = tree_hashes(standard)
    assert refused(["standard", "export", str(standard), "--out", str(standard)]) == (
        f"Error: --out {standard} 与 FILE {standard} 是同一个文件：写出会覆盖这个输入，"
        "已拒绝，什么也没写：请把输出写到别的文件。"
    )
    table = tmp_path / "table.xlsx"
    assert CliRunner().invoke(cli, ["standard", "export", str(standard), "--out", str(table)])
    before |= tree_hashes(table)
    assert "与 TABLE" in refused(["standard", "import", str(table), "--out", str(table)])
    assert tree_hashes(standard, table) == before


def test_the_policy_is_one_library_function(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("x", encoding="utf-8")
    check_outputs([("--out", tmp_path / "out.xlsx")], [("IN", folder), ("X", None)])
    with pytest.raises(PathPolicyError) as error:
        check_outputs([("--out", folder / "sub" / "new.xlsx")], [("IN", folder)])
    assert error.value.key == "paths.inside_input"
    with pytest.raises(PathPolicyError) as error:
        check_outputs([("--out", folder)], [("IN", folder)])
    assert error.value.key == "paths.inside_input"
    if sys.platform == "win32" or sys.platform == "darwin":  # names are case-insensitive there
        with pytest.raises(PathPolicyError):
            check_outputs([("--out", folder / "A.CSV")], [("IN", folder / "a.csv")])
