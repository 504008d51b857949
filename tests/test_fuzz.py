"""Fuzz: a few hundred mutated returns (xlsx, and xls and ods saved by LibreOffice), fixed
seeds, graded in one batch through the reader processes: the batch never crashes.

Mutations flip, zero, cut and repeat bytes of the file, and (for the zip formats) of the
inflated XML parts, rezipped, so the reader's own parser is reached too. Every file comes
out graded or sent back with a code (a reader that aborts or panics gives file.reader_failed),
and none is an internal error of ours.
"""

from __future__ import annotations

import io
import random
import sys
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from returns import fill

from audit_xls.grading.grade import grade_returns
from audit_xls.grading.pool import Limits
from audit_xls.grading.sites import Site
from audit_xls.workbook.build import build_workbook

PER_KIND = {"xlsx": 140, "xls": 140, "ods": 80}


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 2, 4, 8, 16))):
        how = rng.random()
        at = rng.randrange(len(buf))
        if how < 0.55:  # one byte changed: lengths, counts, record types, flags
            buf[at] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif how < 0.7:  # a 16- or 32-bit field set to an extreme
            width = rng.choice((2, 4))
            buf[at : at + width] = rng.choice((b"\xff", b"\x00", b"\x7f")) * width
        elif how < 0.8:
            size = rng.randint(1, 64)
            buf[at : at + size] = bytes(size)
        elif how < 0.9:
            size = rng.randint(1, 256)
            buf[at:at] = buf[at : at + size]
        else:
            del buf[at : at + rng.randint(1, 256)]
    if rng.random() < 0.05:
        del buf[rng.randrange(len(buf)) :]
    return bytes(buf)


def mutate_xml(data: bytes, rng: random.Random) -> bytes:
    """One inflated part of the zip mutated as text, the archive rebuilt around it."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        infos = [i for i in src.infolist() if i.filename.endswith((".xml", ".rels"))]
        target = rng.choice(infos).filename
        parts = [(i.filename, src.read(i)) for i in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in parts:
            if name == target:
                body = mutate_text(body, rng)
            dst.writestr(name, body)
    return out.getvalue()


NASTY = [b"-1e20", b"NaN", b"1e400", b"XFD1048576", b"99999999999", b"&#0;", b"<", b">",
         b'"', b"#N/A", b"-0", b"1048577", b"</c>", b"<c>", b"<f>1</f>", b'r="A0"', b"\xff\xfe"]  # fmt: skip


def mutate_text(xml: bytes, rng: random.Random) -> bytes:
    buf = bytearray(xml)
    for _ in range(rng.choice((1, 2, 3, 6))):
        at = rng.randrange(len(buf))
        how = rng.random()
        if how < 0.4:  # a value or attribute replaced by something nasty
            end = at + rng.randint(0, 12)
            buf[at:end] = rng.choice(NASTY)
        elif how < 0.6:
            digit = buf.find(b'"', at)
            if digit > 0:
                buf[digit + 1 : digit + 1] = rng.choice((b"9999999", b"-", b"0", b"XFD"))
        elif how < 0.8:
            size = rng.randint(1, 200)
            buf[at:at] = buf[at : at + size] * rng.randint(1, 20)
        else:
            del buf[at : at + rng.randint(1, 40)]
    return bytes(buf)


@pytest.fixture(scope="module")
def bases(shipped_standard, tmp_path_factory):
    """A filled return of the shipped standard as .xlsx, and as LibreOffice saves it .xls/.ods."""
    from audit_xls.soffice import convert

    base = tmp_path_factory.mktemp("fuzz-base")
    issued = build_workbook(
        shipped_standard, Site("F01", "模糊项目", "华东"), "2026-11", issued_on=date(2026, 11, 1)
    )
    answers = {"1.1.01": ("不符合", 2, "工牌未佩戴"), "1.1.02": ("不适用", None)}
    data = fill(issued, shipped_standard, answers, default=("符合", None))
    (base / "base.xlsx").write_bytes(data)
    out = {"xlsx": data}
    for kind, to in (("ods", "ods"), ("xls", "xls:MS Excel 97")):
        out[kind] = convert([base / "base.xlsx"], to, base / kind)[0].read_bytes()
    return out


@pytest.mark.soffice
def test_a_batch_of_mutated_returns_never_crashes(shipped_standard, bases, tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    for kind, count in PER_KIND.items():
        for seed in range(count):
            rng = random.Random(f"{kind}-{seed}")
            data = bases[kind]
            if kind != "xls" and rng.random() < 0.6:
                data = mutate_xml(data, rng)
            else:
                data = mutate_bytes(data, rng)
            (folder / f"{kind}-{seed:03d}.{kind}").write_bytes(data)
    for kind in PER_KIND:  # and each base itself, which must grade
        (folder / f"base.{kind}").write_bytes(bases[kind])
    started = time.perf_counter()
    batch = grade_returns(folder, [shipped_standard], None, jobs=2, limits=Limits(seconds=20))
    seconds = time.perf_counter() - started
    listed = sorted([w.file for w in batch.workbooks] + [s.file for s in batch.skipped])
    assert listed == sorted(p.name for p in folder.iterdir())
    by_file = {w.file: w for w in batch.workbooks}
    for kind in PER_KIND:
        assert by_file[f"base.{kind}"].status == "graded", by_file[f"base.{kind}"].diagnostics
    codes = Counter(d.code for w in batch.workbooks for d in w.diagnostics)
    print(f"{len(listed)} files in {seconds:.1f} s; codes: {dict(codes.most_common())}")
    internal = [(w.file, d.message) for w in batch.workbooks for d in w.diagnostics
                if d.code == "internal.error"]  # fmt: skip
    assert internal == []
    for w in batch.workbooks:
        assert w.status == "graded" or w.errors, w.file
