"""The README pictures are what the code prints now (issue 13): the test run makes the pictured
workbooks again, prints them with LibreOffice and compares each pictured page, as text, with the
text kept beside the picture (docs/img/*.txt, written by `make pictures`). A stale picture fails
here; AUDIT_XLS_UPDATE_DOCS=1 regenerates the pictures and their text instead."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from audit_xls.soffice import convert

pytestmark = pytest.mark.soffice

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "make_pictures", ROOT / "scripts" / "make_pictures.py"
)
assert _spec is not None and _spec.loader is not None
pictures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pictures)


def test_readme_pictures_show_what_the_code_prints(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in pictures.PICTURES:
        assert f"docs/img/{name}" in readme, name
    if os.environ.get("AUDIT_XLS_UPDATE_DOCS") == "1":
        pictures.main()
    made = pictures.sources(tmp_path)
    names = list(pictures.PICTURES)
    pdfs = convert([made[pictures.PICTURES[n][0]] for n in names], "pdf", tmp_path / "pdf")
    stale = []
    for name, pdf in zip(names, pdfs, strict=True):
        kept = (pictures.IMG / name).with_suffix(".txt")
        now = pictures.page_text(pdf, pictures.PICTURES[name][1])
        if not kept.exists() or kept.read_text(encoding="utf-8") != now:
            stale.append(name)
    assert not stale, (
        f"README pictures out of date: {stale}. Run `make pictures` (or "
        "AUDIT_XLS_UPDATE_DOCS=1 pytest tests/test_pictures_soffice.py) and review the pictures"
    )
