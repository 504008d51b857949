"""What a reader process imports: the usual return (no 复查 rows, no pictures) is read and
checked without rectify.recheck, the ledger or the XML parsers the pictures use (each reader
would boot them for nothing); a return holding a picture still brings its parsers in, where
it is met."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from picture_files import add_floating, png
from returns import fill, issue, mini_standard

WHEN_MET = ("audit_xls.rectify.recheck", "audit_xls.rectify.ledger", "defusedxml",
            "xml.etree.ElementTree")  # fmt: skip

SCRIPT = f"""
import sys

def loaded(conn, names):  # run in the reader, after the batch (ReaderPool.call)
    conn.send(("loaded", sorted(name for name in names if name in sys.modules)))

if __name__ == "__main__":  # (a reader runs this file again, as __mp_main__)
    from audit_xls.grading.grade import grade_returns
    from audit_xls.grading.readers import tail_pool
    from audit_xls.standards.loader import load_standard

    standard = load_standard(sys.argv[1])
    for folder in sys.argv[2:]:  # one reader, the same process for every batch
        batch = grade_returns(folder, [standard], None, jobs=1)
        call = tail_pool(1).call(loaded, {WHEN_MET!r})
        print([w.card is not None for w in batch.workbooks], call.receive()[1])
"""


def test_a_reader_imports_the_rare_parts_only_where_a_return_needs_them(tmp_path: Path) -> None:
    standard = mini_standard(tmp_path)
    usual = fill(issue(standard, "P001"), standard, {}, default=("符合", None))
    (tmp_path / "usual").mkdir()
    (tmp_path / "usual" / "P001.xlsx").write_bytes(usual)
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "P001.xlsx").write_bytes(
        add_floating(usual, "检查表", [("K4", png("red"))])
    )
    (tmp_path / "run.py").write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run.py"), str(tmp_path / "mini.yaml"),
         str(tmp_path / "usual"), str(tmp_path / "pictures")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "[True] []",
        "[True] ['defusedxml', 'xml.etree.ElementTree']",
    ]
