"""Hostile returns (tests/hostile.py) graded together with good files and one by one.

For every case: the batch finishes, the file comes out graded, sent back or skipped as
documented in docs/hostile-returns.md (kept in step by a test), each diagnostic names the file,
sheet and cell, the returned bytes are untouched, bombs are refused fast in bounded memory,
and the CLI shows no traceback.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hostile import (
    FORMULA_NOTES,
    GBK_MEMBER,
    GRADED,
    LONG_NOTE,
    SKIPPED,
    SUPERSEDED,
    Case,
    Kit,
    cases,
    gbk_zip,
    generate,
    write_case,
)

from audit_xls.cli import cli
from audit_xls.grading.grade import exit_code, grade_returns
from audit_xls.model.diagnostics import ERROR, message
from audit_xls.model.results import BatchResult

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "hostile-returns.md"
DOC_START, DOC_END = "<!-- cases:start -->", "<!-- cases:end -->"
CASES = cases(Kit(ROOT))  # cell positions only: nothing is built at collection time
BOMBS = ("zip-bomb.xlsx", "zip-bomb-ratio.xlsx", "xml-bomb.xlsx", "cell-bomb.xlsx",
         "far-escaped-name.xlsx", "far-part-case.xlsx", "far-shadow-part.xlsx", "far-part-twice.xlsx",
         "string-amplifier.xlsx", "date-far-negative.xlsx")  # fmt: skip
# Issued this month and not identifiable among the returns: never returned (G04), returned
# unreadable (H01-H06: their site cannot be told), with an edited manifest whose workbook
# id cannot be trusted (H07), or last month's workbook instead (H09).
MISSING = ["G04", "H01", "H02", "H03", "H04", "H05", "H06", "H07", "H09",
           "K01", "K02", "K03", "K04", "K05", "K07", "K08", "K09", "K20", "K21"]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The issued month, every case's files written into one returns folder, and its hashes."""
    base = tmp_path_factory.mktemp("hostile")
    kit, all_cases, made = generate(base)
    folder = base / "returns"
    for case in all_cases:
        write_case(case, made[case.key], folder)
    return kit, made, folder, hashes(folder)


@pytest.fixture(scope="module")
def mixed(hostile) -> BatchResult:
    kit, _, folder, before = hostile
    batch = grade_returns(folder, [kit.standard], kit.register, standards_folder="standards")
    assert hashes(folder) == before  # returned files are only read
    return batch


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def outcomes(batch: BatchResult, names) -> dict[str, tuple[str, tuple]]:
    """file -> (outcome, ((code, sheet, cell), ...)) as the batch reports it."""
    found: dict[str, tuple[str, tuple]] = {}
    for w in batch.workbooks:
        if w.file in names:
            outcome = SUPERSEDED if w.duplicate_of else w.status
            found[w.file] = (outcome, tuple((d.code, d.sheet, d.cell) for d in w.diagnostics))
    for s in batch.skipped:
        if s.file in names:
            found[s.file] = (SKIPPED, ("?",))
    return found


def expected_outcomes(case: Case) -> dict[str, tuple[str, tuple]]:
    return {
        name: (outcome, ("?",) if outcome == SKIPPED else expected)
        for name, (outcome, expected) in case.files.items()
    }


def check_messages(batch: BatchResult, case: Case) -> None:
    """Every diagnostic names its file and (errors) says what to do; skips say why."""
    for w in batch.workbooks:
        if w.file not in case.files:
            continue
        for d in w.diagnostics:
            assert d.file == w.file
            assert d.location().startswith(w.file)
            if d.severity == ERROR:
                assert "请" in d.message, d.message
    for s in batch.skipped:
        if s.file in case.files:
            code = case.files[s.file][1][0][0]
            assert s.reason == message(code, ext=Path(s.file).suffix)


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_case_in_the_mixed_folder_and_alone(case, hostile, mixed, tmp_path):
    kit, made, _, _ = hostile
    assert outcomes(mixed, case.files) == expected_outcomes(case)
    check_messages(mixed, case)

    alone = tmp_path / "returns"
    write_case(case, made[case.key], alone)
    before = hashes(alone)
    batch = grade_returns(alone, [kit.standard], kit.register, standards_folder="standards")
    assert hashes(alone) == before
    assert outcomes(batch, case.files) == expected_outcomes(case)
    check_messages(batch, case)
    # the same messages whether graded alone or among 50 other files
    assert rendered(batch, {case.key: case}) == rendered(mixed, {case.key: case})


def test_mixed_folder_lists_every_file_and_missing_site(hostile, mixed):
    _, _, folder, _ = hostile
    listed = [w.file for w in mixed.workbooks] + [s.file for s in mixed.skipped]
    assert sorted(listed) == sorted(hashes(folder))  # every file once, none dropped
    assert [m.site_code for m in mixed.missing] == MISSING
    # graded excludes the superseded resubmission (status graded, not counted)
    assert (len(mixed.graded), len(mixed.sent_back), len(mixed.skipped)) == (20, 49, 7)
    assert exit_code(mixed) == 1


def test_scores_of_graded_hostile_files(mixed):
    by_file = {w.file: w for w in mixed.workbooks}
    totals = {f: str(w.card.total) for f, w in by_file.items() if w.card is not None}
    assert totals == {
        "good-pass.xlsx": "34.00",
        "华东/滨江花园.xlsx": "23.10",  # 房屋交付 not applicable: out of 24
        "good-no-count.xlsx": "33.70",
        "manifest-visible.xlsx": "34.00",
        "rows-hidden.xlsx": "34.00",
        "unprotected.xlsx": "33.40",
        "points-fullwidth.xlsx": "33.10",  # ３ read as 3 problem points x 0.3
        "long-description.xlsx": "33.70",
        "formula-like-notes.xlsx": "32.80",
        "H27 交回.xlsx": "33.40",
        "H27 交回（修改后）.xlsx": "34.00",
        "part-case.xlsx": "34.00",
        # pictures never change a score: 1.1.01 fails with 2 (photos-*) or 1 problem points
        "photos-floating-wps.xlsx": "33.40",
        "photos-excel-in-cell.xlsx": "33.40",
        "picture-pixel-bomb.xlsx": "33.70",
        "picture-truncated.xlsx": "33.70",
        "picture-svg.xlsx": "33.70",
        "picture-50mb.xlsx": "33.70",
        "pictures-500.xlsx": "33.40",
        "picture-last-row.xlsx": "33.70",
        "cellimages-bad-targets.xlsx": "33.40",
    }
    assert by_file["long-description.xlsx"].answers["1.1.01"].note == LONG_NOTE
    assert by_file["华东/滨江花园.xlsx"].card.max_score == 24


def test_bombs_refused_fast_in_bounded_memory(hostile, tmp_path):
    """Each bomb refused by the checks before the reader, in this process (jobs=0, so the
    process measured is the one reading): under 1 s and under 200 MB above the baseline."""
    _, _, folder, _ = hostile
    script = textwrap.dedent(
        f"""
        import json, resource, shutil, sys, time
        from pathlib import Path
        from audit_xls.grading.grade import grade_returns
        from audit_xls.standards.loader import load_standard
        standard = load_standard({str(ROOT / "standards" / "kefu-dudao.yaml")!r})
        warm = Path({str(tmp_path)!r}) / "warm"
        warm.mkdir()
        shutil.copy({str(folder / "good-pass.xlsx")!r}, warm)
        grade_returns(warm, [standard], None, jobs=0)  # imports and caches loaded: the baseline
        out = {{}}
        for name in {list(BOMBS)!r}:
            one = Path({str(tmp_path)!r}) / name.replace(".", "-")
            one.mkdir()
            shutil.copy(Path({str(folder)!r}) / name, one)
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.perf_counter()
            batch = grade_returns(one, [standard], None, jobs=0)
            seconds = time.perf_counter() - start
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
            codes = [d.code for d in batch.workbooks[0].diagnostics]
            out[name] = [seconds, grown / 1024, codes]
        print(json.dumps(out))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    print("bombs (seconds, MB above baseline, codes):", measured)
    for name, (seconds, grown_mb, codes) in measured.items():
        assert seconds < 1.0, (name, seconds)
        assert grown_mb < 200, (name, grown_mb)
        assert len(codes) == 1 and codes[0].startswith(("file.", "cell.")), (name, codes)


def test_the_whole_mixed_batch_in_reader_processes_stays_under_1_gb(hostile, tmp_path):
    """The mixed folder (bombs, amplifiers, crashers and good returns) graded by the CLI with
    two reader processes: it finishes, and the grading process plus both readers at their
    peaks stay under 1 GB together."""
    kit, _, folder, before = hostile
    script = textwrap.dedent(
        f"""
        import json, resource, sys
        from click.testing import CliRunner
        from audit_xls.cli import cli
        from audit_xls.grading.pool import close_shared_pool
        result = CliRunner().invoke(cli, ["grade", {str(folder)!r}, "--standards",
            {str(ROOT / "standards")!r}, "--issued", {str(kit.issued_dir / "issued-2026-11.csv")!r},
            "--out", {str(tmp_path / "s.xlsx")!r}, "--jobs", "2", "--no-history", "--json"])
        close_shared_pool()  # the readers are waited for: their peak is counted below
        usage = resource.getrusage
        print(json.dumps([result.exit_code, len(json.loads(result.stdout)["workbooks"]),
            usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr
    exit_code_, workbooks, own_kb, reader_kb = json.loads(run.stdout.strip().splitlines()[-1])
    assert (exit_code_, workbooks) == (1, 70)
    peak_mb = (own_kb + 2 * reader_kb) / 1024  # each reader counted at the largest one's peak
    print(f"peak: grading process {own_kb / 1024:.0f} MB, reader {reader_kb / 1024:.0f} MB")
    assert peak_mb < 1024
    assert hashes(folder) == before


def test_cli_on_the_mixed_folder(hostile, tmp_path):
    kit, _, folder, before = hostile
    out, results = tmp_path / "summary.xlsx", tmp_path / "results.csv"
    register = kit.issued_dir / "issued-2026-11.csv"
    result = CliRunner().invoke(
        cli,
        ["grade", str(folder), "--standards", str(ROOT / "standards"), "--issued",
         str(register), "--out", str(out), "--csv", str(results), "--json"],
    )  # fmt: skip
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert len(document["workbooks"]) == 70 and len(document["skipped"]) == 7
    assert [m["site_code"] for m in document["missing"]] == MISSING
    assert hashes(folder) == before

    # free text reaches HQ as text: never a formula, in the workbook and in the CSV
    problems = openpyxl.load_workbook(out)["问题清单"]
    rows = [list(r) for r in problems.iter_rows()]
    head = next(i for i, r in enumerate(rows) if "问题描述" in [c.value for c in r])
    note_col = [c.value for c in rows[head]].index("问题描述")
    notes = {r[note_col].value: r[note_col].data_type for r in rows[head + 1 :]}
    for note in FORMULA_NOTES:
        assert notes[note] == "s", note
    assert LONG_NOTE in notes  # 32,767 characters, intact (Excel's cell limit)
    with results.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    written = [r["note"] for r in table if r["file"] == "formula-like-notes.xlsx" and r["note"]]
    assert written == ["'" + note for note in FORMULA_NOTES]
    long = [r["note"] for r in table if r["file"] == "long-description.xlsx" and r["note"]]
    assert long == [LONG_NOTE]


def test_gbk_zip_of_returns(hostile, tmp_path):
    """A .zip made on Chinese Windows (GBK names, no UTF-8 flag) is graded in place."""
    kit, made, _, _ = hostile
    archive = tmp_path / "returns.zip"
    archive.write_bytes(gbk_zip(GBK_MEMBER, made["good-pass"]["good-pass.xlsx"]))
    before = archive.read_bytes()
    batch = grade_returns(archive, [kit.standard], kit.register)
    assert archive.read_bytes() == before
    assert [(w.file, w.status, w.site_code) for w in batch.workbooks] == [
        (GBK_MEMBER, GRADED, "G01")
    ]


# --- the docs page, generated from what grading actually says --------------------------------

OUTCOME_LABELS = {
    "graded": "评分",
    "sent_back": "退回",
    SKIPPED: "跳过",
    SUPERSEDED: "评分（被较新文件取代，不计入汇总）",
}


def rendered(batch: BatchResult, by_key: dict[str, Case]) -> list[str]:
    """Markdown table rows: one per diagnostic (or per file with none), in case order."""
    workbooks = {w.file: w for w in batch.workbooks}
    skipped = {s.file: s for s in batch.skipped}
    rows = []
    for case in by_key.values():
        for name in case.files:
            if name in skipped:
                code = case.files[name][1][0][0]
                rows.append([case.title, name, "跳过", code, "", skipped[name].reason])
                continue
            w = workbooks[name]
            outcome = OUTCOME_LABELS[SUPERSEDED if w.duplicate_of else w.status]
            if not w.diagnostics:
                rows.append([case.title, name, outcome, "", "", ""])
            for d in w.diagnostics:
                where = "!".join(p for p in (d.sheet, d.cell) if p)
                rows.append([case.title, name, outcome, d.code, where, d.message])
    return ["| " + " | ".join(cell_text(c) for c in row) + " |" for row in rows]


def cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def doc_table(mixed: BatchResult) -> str:
    head = [
        "| 情形 | 文件 | 结果 | 代码 | 位置 | 提示信息 |",
        "|---|---|---|---|---|---|",
    ]
    zip_row = [
        "| 中文文件名的 .zip（中文 Windows 压缩，GBK 编码、无 UTF-8 标志），整个作为 RETURNS "
        f"| {GBK_MEMBER} | 评分 |  |  |  |"
    ]
    return "\n".join(head + rendered(mixed, {c.key: c for c in CASES}) + zip_row)


def test_docs_page_lists_every_case_with_its_message(mixed):
    expected = doc_table(mixed)
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(DOC_START) + len(DOC_START), text.index(DOC_END)
    if os.environ.get("AUDIT_XLS_UPDATE_DOCS") == "1":
        DOC.write_text(text[:start] + "\n" + expected + "\n" + text[end:], encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(DOC_START) + len(DOC_START), text.index(DOC_END)
    assert text[start:end].strip() == expected, (
        "docs/hostile-returns.md is out of date: run "
        "AUDIT_XLS_UPDATE_DOCS=1 pytest tests/test_hostile.py -k docs, and review the diff"
    )


def test_folder_cases_join_the_mixed_batch(hostile, tmp_path):
    """The mixed folder plus what a careless copy makes of a returns folder (a region linked in
    from a shared drive, a link loop, an unzipped workbook, a GBK file name from a Chinese-Windows
    zip): one CLI run finishes, every entry is listed, the linked-in return is graded and its
    site is no longer missing, and nothing that was read changed."""
    import shutil

    kit, _, mixed_folder, _ = hostile
    returns = tmp_path / "returns"
    shutil.copytree(mixed_folder, returns)
    shared = tmp_path / "shared-drive" / "华东"
    shared.mkdir(parents=True)
    (shared / "G04-linked.xlsx").write_bytes(kit.fill("G04"))
    (returns / "unzipped.xlsx" / "xl").mkdir(parents=True)
    (returns / "unzipped.xlsx" / "[Content_Types].xml").write_text("<Types/>", encoding="utf-8")
    linked = os.name != "nt" or _can_symlink(tmp_path)
    if linked:
        (returns / "linked-region").symlink_to(shared, target_is_directory=True)
        (returns / "loop").symlink_to(returns, target_is_directory=True)
    gbk = sys.platform.startswith("linux")
    if gbk:  # a name as Linux unzip leaves it: GBK bytes
        with open(os.path.join(os.fsencode(returns), "说明.txt".encode("gbk")), "wb") as f:
            f.write("请查收".encode("gbk"))
    before = hashes(returns) | hashes(shared)
    result = CliRunner().invoke(
        cli,
        ["grade", str(returns), "--standards", str(ROOT / "standards"), "--issued",
         str(kit.issued_dir / "issued-2026-11.csv"), "--out", str(tmp_path / "s.xlsx"),
         "--csv", str(tmp_path / "r.csv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    skipped = {s["file"]: s["reason"] for s in document["skipped"]}
    assert skipped["unzipped.xlsx/"] == (
        "这是一个文件夹，名字却像工作簿（可能是解压开的 .xlsx），未读取："
        "请把工作簿文件本身放进交回文件夹。"
    )
    assert len(document["workbooks"]) == 70 + linked
    assert len(document["skipped"]) == 7 + 1 + linked + gbk
    missing = [m["site_code"] for m in document["missing"]]
    if linked:
        assert skipped["loop/"].startswith("链接指向已读过的文件夹")
        (g04,) = [w for w in document["workbooks"] if w["site_code"] == "G04"]
        assert (g04["file"], g04["status"]) == ("linked-region/G04-linked.xlsx", "graded")
        assert missing == [code for code in MISSING if code != "G04"]
    if gbk:
        assert "说明.txt" in skipped
    assert hashes(returns) | hashes(shared) == before


def _can_symlink(folder: Path) -> bool:
    try:
        (folder / ".link-probe").symlink_to(folder, target_is_directory=True)
    except OSError:
        return False
    (folder / ".link-probe").unlink()
    return True
