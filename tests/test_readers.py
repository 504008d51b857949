"""grading/readers.py: `audit-xls grade` starts its readers before the CLI is imported."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from returns import MINI_YAML, fill, issue, mini_standard

from audit_xls.cli import cli
from audit_xls.grading import pool, readers


@pytest.mark.parametrize(
    ("args", "jobs"),
    [
        (["grade", "returns", "--out", "s.xlsx", "--jobs", "3"], 3),
        (["grade", "returns", "--jobs=1", "--out", "s.xlsx"], 1),
        (["grade", "returns", "--out", "s.xlsx"], None),  # one per core, as grade's default
        (["grade", "--jobs", "2", "returns", "--jobs", "1"], 1),  # the last given, as click
    ],
)
def test_grade_starts_its_readers_with_the_jobs_it_asks_for(monkeypatch, args, jobs):
    started = []
    monkeypatch.setattr(readers, "start_readers", started.append)
    readers.start_early(args)
    assert started == [jobs]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["build", "--jobs", "2"],
        ["monthly", "grade"],
        ["grade", "--help"],
        ["grade", "returns", "--jobs", "0"],  # the CLI refuses these: nothing to start
        ["grade", "returns", "--jobs", "65"],
        ["grade", "returns", "--jobs=two"],
        ["grade", "returns", "--jobs", "\u0663"],  # an Arabic-Indic 3: a digit, not ASCII
        ["grade", "returns", "--jobs"],
    ],
)
def test_anything_else_starts_nothing(monkeypatch, args):
    started = []
    monkeypatch.setattr(readers, "start_readers", started.append)
    readers.start_early(args)
    assert started == []


def test_a_reader_that_cannot_start_early_is_left_to_grade(monkeypatch):
    def fail(jobs):
        raise OSError("no more processes")

    monkeypatch.setattr(readers, "start_readers", fail)
    readers.start_early(["grade", "returns", "--jobs", "2"])  # says nothing, raises nothing
    assert pool.current_pool() is None


def test_grade_reads_with_the_readers_started_early(tmp_path):
    (tmp_path / "std").mkdir()
    standard = mini_standard(tmp_path / "std")
    standards = tmp_path / "standards"
    standards.mkdir()
    (standards / "mini.yaml").write_text(MINI_YAML, encoding="utf-8")
    folder = tmp_path / "returns"
    folder.mkdir()
    for code in ("P001", "P002", "P003"):
        book = issue(standard, code, code, "华东")
        (folder / f"{code}.xlsx").write_bytes(fill(book, standard, {}, default=("符合", None)))
    args = ["grade", str(folder), "--standards", str(standards), "--out",
            str(tmp_path / "s.xlsx"), "--jobs", "2", "--no-history"]  # fmt: skip
    pool.close_shared_pool()
    try:
        readers.start_early(args)
        early = pool.current_pool()
        assert early is not None and early.started == 2
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("共读取 3 个工作簿：评分 3 个")
        assert pool.current_pool() is early and early.started == 2  # no reader started again
    finally:
        pool.close_shared_pool()
