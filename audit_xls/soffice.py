"""LibreOffice headless: convert and recalculate workbooks in one batch call per format.

Used to prove the workbook formulas in a real application, to save returns as .xls/.ods the
way a supervisor's LibreOffice would, and to print workbooks to PDF for the README pictures.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
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


# LibreOffice inserting pictures itself, driven headless: a Basic macro put in a fresh profile
# (its Standard library, Module1) and run by `soffice --headless macro:///...`. It opens the
# workbook hidden, adds a GraphicObjectShape per picture from GraphicProvider, anchored to its
# cell, and stores the result as .xlsx ("Calc MS Excel 2007 XML"). The arguments come through
# the environment (Basic's Environ): a macro URL takes none.
_LO_BASIC = r"""
Sub InsertPictures
  Dim args(0) As New com.sun.star.beans.PropertyValue
  Dim p(0) As New com.sun.star.beans.PropertyValue
  Dim o(0) As New com.sun.star.beans.PropertyValue
  Dim size As New com.sun.star.awt.Size
  doc = Nothing
  On Error GoTo Failed  ' headless: an error must end the run, not open a dialog
  args(0).Name = "Hidden" : args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(Environ("AUDIT_XLS_LO_SOURCE"), "_blank", 0, args())
  sheet = doc.Sheets.getByName(Environ("AUDIT_XLS_LO_SHEET"))
  provider = createUnoService("com.sun.star.graphic.GraphicProvider")
  If Len(Environ("AUDIT_XLS_LO_VALUES")) > 0 Then
    typed = Split(Environ("AUDIT_XLS_LO_VALUES"), Chr(30))
    For i = 0 To UBound(typed)
      parts = Split(typed(i), Chr(31))
      sheet.getCellRangeByName(parts(0)).setString(parts(1))
    Next i
  End If
  items = Split(Environ("AUDIT_XLS_LO_PICTURES"), ";")
  If Len(Environ("AUDIT_XLS_LO_PICTURES")) = 0 Then items = Array()
  For i = 0 To UBound(items)
    parts = Split(items(i), "|")
    target = sheet.getCellRangeByName(parts(0))
    p(0).Name = "URL" : p(0).Value = parts(1)
    shape = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
    shape.Graphic = provider.queryGraphic(p())
    sheet.DrawPage.add(shape)
    size.Width = CLng(Environ("AUDIT_XLS_LO_WIDTH"))
    size.Height = CLng(Environ("AUDIT_XLS_LO_HEIGHT"))
    shape.setSize(size)
    shape.setPosition(target.Position)
    shape.Anchor = target
  Next i
  o(0).Name = "FilterName" : o(0).Value = "Calc MS Excel 2007 XML"
  doc.storeToURL(Environ("AUDIT_XLS_LO_TARGET"), o())
  doc.close(True)
  Exit Sub
Failed:
  If Not IsNull(doc) Then doc.close(True)
End Sub
"""


def insert_pictures(
    data: bytes,
    sheet: str,
    pictures: Sequence[tuple[str, bytes, str]],
    folder: Path,
    *,
    size: tuple[int, int] = (1500, 1000),
    values: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> bytes:
    """The workbook `data` after LibreOffice inserted each (cell, bytes, ext) picture on
    `sheet`, as a supervisor or a site would, and saved it as .xlsx (for tests and the README
    pictures). `size`: each picture's, in 1/100 mm. One soffice run with its own profile in
    `folder`; its work files go there too. `values`: cell -> text typed first (as strings)."""
    import html
    import os

    soffice = find_soffice()
    if soffice is None:
        raise SofficeError("LibreOffice (soffice) is not installed")
    profile = folder / "profile"
    first = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    subprocess.run([*first, "--terminate_after_init"], capture_output=True, timeout=timeout)
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.exists():
        raise SofficeError(f"soffice made no profile in {profile}")
    module.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC '
        '"-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n<script:module '
        'xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        f'script:language="StarBasic">{html.escape(_LO_BASIC)}</script:module>\n',
        encoding="utf-8",
    )
    source, target = folder / "source.xlsx", folder / "inserted.xlsx"
    source.write_bytes(data)
    listed = []
    for index, (cell, picture, ext) in enumerate(pictures):
        path = folder / f"picture{index}.{ext}"
        path.write_bytes(picture)
        listed.append(f"{cell}|{path.resolve().as_uri()}")
    env = dict(
        os.environ,
        AUDIT_XLS_LO_SOURCE=source.resolve().as_uri(),
        AUDIT_XLS_LO_SHEET=sheet,
        AUDIT_XLS_LO_PICTURES=";".join(listed),
        AUDIT_XLS_LO_TARGET=target.resolve().as_uri(),
        AUDIT_XLS_LO_VALUES="\x1e".join(f"{c}\x1f{v}" for c, v in (values or {}).items()),
        AUDIT_XLS_LO_WIDTH=str(size[0]),
        AUDIT_XLS_LO_HEIGHT=str(size[1]),
    )
    run = subprocess.run(
        [*first, "macro:///Standard.Module1.InsertPictures"],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if not target.exists():
        raise SofficeError(f"the macro saved nothing (exit {run.returncode}): {run.stderr[-500:]}")
    return target.read_bytes()
