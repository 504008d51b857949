"""The package as users get it: a wheel that carries its data and works outside the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("audit_xls-*.whl")
    return built


def test_the_wheel_carries_templates_standards_and_samples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "standards", "samples"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():  # templates/notice/ holds the 整改通知单's labels
                name = path.relative_to(ROOT / folder).as_posix()
                assert f"audit_xls/data/{folder}/{name}" in names


@pytest.mark.slow
def test_the_unpacked_wheel_builds_and_grades_away_from_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    # -I keeps the checkout off sys.path; the unpacked wheel goes first.
    run = [sys.executable, "-I", "-c",
           f"import sys; sys.path.insert(0, {str(site)!r}); "
           "from audit_xls.cli import main; sys.exit(main())"]  # fmt: skip
    standard = site / "audit_xls" / "data" / "standards" / "kefu-dudao.yaml"
    sites = site / "audit_xls" / "data" / "samples" / "sites.csv"
    built = subprocess.run(
        [*run, "build", "--standard", str(standard), "--sites", str(sites),
         "--period", "2026-11", "--out", "issued", "--issued-on", "2026-11-01"],
        cwd=work, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert len(list((work / "issued").glob("*.xlsx"))) == 24
    graded = subprocess.run(
        [*run, "grade", "issued", "--issued", "issued/issued-2026-11.csv", "--out", "s.xlsx",
         "--history", "h.sqlite", "--json"],
        cwd=work, capture_output=True, text=True,
    )  # fmt: skip
    # Unfilled workbooks are sent back as unanswered, not as foreign: the shipped standard was found.
    workbooks = json.loads(graded.stdout)["workbooks"]
    assert len(workbooks) == 24
    for workbook in workbooks:
        codes = {d["code"] for d in workbook["diagnostics"]}
        assert workbook["status"] == "sent_back"
        assert codes == {"cover.inspector_missing", "cover.date_missing", "answer.unanswered"}
    assert (work / "s.xlsx").is_file()


def test_the_console_script_imports_no_cli_until_run(wheel: Path, tmp_path: Path) -> None:
    """`audit-xls` is audit_xls:main, which imports the CLI when called: each reader process,
    spawned, runs the script again as its __main__ and must not pay for click and the history."""
    archive = zipfile.ZipFile(wheel)
    (points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "audit-xls = audit_xls:main" in archive.read(points).decode()
    site = tmp_path / "site-packages"
    archive.extractall(site)
    probe = (f"import sys; sys.path.insert(0, {str(site)!r}); from audit_xls import main; "
             "print(sorted(m for m in ('click', 'audit_xls.cli') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
