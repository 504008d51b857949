"""Build by patching: every site's workbook made from the period's stencil is, part by part and
byte for byte, the workbook a direct xlsxwriter build of that site gives."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_xls.grading.sites import Site
from audit_xls.model.standard import Standard
from audit_xls.workbook import build
from audit_xls.workbook.build import _build, _plan, _stenciled, build_all, build_workbook
from audit_xls.workbook.stencil import Stencil, StencilError

PERIOD = "2026-11"
ISSUED = date(2026, 11, 1)

SITES = [
    Site("P001", "滨江花园", "华东", "杭州公司", "住宅"),
    Site("P002", "西溪<一期>", "华东", "", ""),
    Site("Q\"3'", "\"引号\" 与 '单引号'", "华南>", "广州<公司>", "商业"),
    Site("P004", "𠀋𠀌 生僻字花园", "西南", "成都公司", "住宅"),
    Site("P005", "长" * 100, "华北", "北京公司", "写字楼"),
    # Texts equal to each other and to strings the workbook already has: merged strings.
    Site("P006", "华东", "华东", "华东", "华东"),
    Site("符合", "不符合", "不适用", "项目编码", "检查结果"),
    Site("P008", " 前后空格 ", "华东", " 杭州公司", "住宅 "),
    Site("P009", "_X0041_ 大写不转义", "华东", "杭州公司", "住宅"),
    Site("P010", "<r>rich</r>", "华东", "杭州公司", "住宅"),
]
# Built directly (texts a stencil does not place as xlsxwriter would): same bytes either way.
DIRECT_SITES = [
    Site("P&1", "A&B 花园", "华东", "杭州公司", "住宅"),
    Site("P011", "name_x0041_", "华东", "杭州公司", "住宅"),
    Site("P012", "控制\x01字符", "华东", "杭州公司", "住宅"),
    Site("P013", "换行\n名字", "华东", "杭州公司", "住宅"),
]


def _parts(data: bytes) -> list[tuple[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _same_as_direct(standard: Standard, site: Site, template: str = "zh", password=None) -> None:
    plan = _plan(standard, template)
    patched = build_workbook(
        standard, site, PERIOD, template=template, issued_on=ISSUED, password=password
    )
    direct = _build(plan, site, PERIOD, ISSUED, password)
    assert [name for name, _ in _parts(patched)] == [name for name, _ in _parts(direct)]
    for (name, ours), (_, theirs) in zip(_parts(patched), _parts(direct), strict=True):
        assert ours == theirs, f"{site}: {name} differs"
    assert patched == direct


@pytest.mark.parametrize("template", ["zh", "en"])
@pytest.mark.parametrize("password", [None, "秘密"])
def test_the_shipped_standard_is_built_by_patching(
    shipped_standard: Standard, template: str, password: str | None
) -> None:
    stenciled = _stenciled(_plan(shipped_standard, template), PERIOD, ISSUED, password)
    assert stenciled.stencil is not None
    _same_as_direct(shipped_standard, SITES[0], template, password)


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.code)
def test_patched_workbooks_are_the_direct_build(shipped_standard: Standard, site: Site) -> None:
    plan = _plan(shipped_standard, "zh")
    stenciled = _stenciled(plan, PERIOD, ISSUED, None)
    assert build._patchable(plan, site, PERIOD, stenciled.placeholders)
    _same_as_direct(shipped_standard, site)


@pytest.mark.parametrize("site", DIRECT_SITES, ids=lambda s: s.code)
def test_awkward_texts_are_built_directly(shipped_standard: Standard, site: Site) -> None:
    plan = _plan(shipped_standard, "zh")
    stenciled = _stenciled(plan, PERIOD, ISSUED, None)
    assert not build._patchable(plan, site, PERIOD, stenciled.placeholders)
    _same_as_direct(shipped_standard, site)


def test_merged_strings_are_counted(shipped_standard: Standard) -> None:
    site = SITES[5]
    strings = dict(_parts(build_workbook(shipped_standard, site, PERIOD, issued_on=ISSUED)))[
        "xl/sharedStrings.xml"
    ].decode()
    unique = strings.count("<si>")
    assert f'uniqueCount="{unique}"' in strings
    assert strings.count("<t>华东</t>") == 1


_TEXT = st.text(
    alphabet=st.sampled_from(list("aZ09 _x<>\"'&;/\\-　滨江花园华东符合𠀋\t\x01")), max_size=12
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=_TEXT, name=_TEXT, region=_TEXT, other=_TEXT)
def test_any_texts_give_the_direct_build(
    shipped_standard: Standard, code: str, name: str, region: str, other: str
) -> None:
    site = Site(code or "P", name or "N", region or "R", other, other)
    _same_as_direct(shipped_standard, site)


def test_build_all_writes_the_direct_build(tmp_path: Path, shipped_standard: Standard) -> None:
    entries = build_all(shipped_standard, SITES[:4] + DIRECT_SITES[:1], PERIOD, tmp_path,
                        issued_on=ISSUED)  # fmt: skip
    plan = _plan(shipped_standard, "zh")
    for site, entry in zip(SITES[:4] + DIRECT_SITES[:1], entries, strict=True):
        assert (tmp_path / entry.file).read_bytes() == _build(plan, site, PERIOD, ISSUED, None)


def test_a_site_text_the_stencil_cannot_place_means_direct_builds(
    shipped_standard: Standard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the build ever write a site's text transformed (here: upper-cased in the
    footer), the probe finds it and every workbook is built directly: still right."""
    original = build._footer

    def footer(plan, site, period):  # type: ignore[no-untyped-def]
        return original(plan, Site(site.code, site.name.upper(), site.region), period)

    monkeypatch.setattr(build, "_footer", footer)
    monkeypatch.setattr(build, "_STENCILS", {})
    plan = _plan(shipped_standard, "zh")
    assert _stenciled(plan, PERIOD, ISSUED, None).stencil is None
    site = Site("P001", "abc 花园", "华东")
    assert build_workbook(shipped_standard, site, PERIOD, issued_on=ISSUED) == _build(
        plan, site, PERIOD, ISSUED, None
    )


def test_stencil_needs_every_placeholder(shipped_standard: Standard) -> None:
    plan = _plan(shipped_standard, "zh")
    stenciled = _stenciled(plan, PERIOD, ISSUED, None)
    assert stenciled.stencil is not None
    with pytest.raises(StencilError, match="no text"):
        stenciled.stencil.fill({})
    with pytest.raises(StencilError, match="distinct"):
        Stencil(b"", ["a", "a"])
