"""LibreOffice headless: convert and recalculate workbooks in one batch call per format.

Used to prove the workbook formulas in a real application, to save returns as .xls/.ods the
way a supervisor's LibreOffice would, and to print workbooks to PDF for the README pictures.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

# Recalculate xlsx and ods on load (the default is never for xlsx): cached values written by
# other tools must not be trusted.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class SofficeError(RuntimeError):
    """Raised when LibreOffice is missing or a conversion produced no file."""


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(
    files: Sequence[Path],
    to: str,
    outdir: Path,
    *,
    timeout: float = 600,
) -> list[Path]:
    """Convert files with one soffice call; `to` is a --convert-to filter such as "xlsx",
    "ods", "xls:MS Excel 97" or "pdf". Returns the output paths, in the order of `files`."""
    soffice = find_soffice()
    if soffice is None:
        raise SofficeError("LibreOffice (soffice) is not installed")
    if not files:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    extension = to.split(":", 1)[0]
    stems = [Path(f).stem for f in files]
    if len(set(stems)) != len(stems):
        raise SofficeError("files converted in one call need distinct names")
    with tempfile.TemporaryDirectory(prefix="audit-xls-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            *[str(f) for f in files],
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    outputs = [outdir / f"{stem}.{extension}" for stem in stems]
    missing = [str(p) for p in outputs if not p.exists()]
    if missing:
        raise SofficeError(
            f"soffice did not write {', '.join(missing)} (exit {completed.returncode}): "
            f"{completed.stderr.strip()[-500:]}"
        )
    return outputs
