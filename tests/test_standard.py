"""The standard as data: shipped standard, rule phrases, strict located loading, hash."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from audit_xls.model.standard import Rule
from audit_xls.standards.loader import (
    StandardError,
    dump_standard,
    load_standard,
    load_standards,
    save_standard,
    standard_from_mapping,
)
from audit_xls.standards.phrases import RulePhraseError, parse_rule_phrase

D = Decimal

TINY = """\
id: tiny
name: 小标准
version: "1"
sections:
  - code: "1"
    name: 行为规范
    points: 10
    groups:
      - method: 现场抽查
        rule: 一个问题点扣0.5分
        criteria:
          - code: "1.1.01"
            text: 甲
          - code: "1.1.02"
            text: 乙
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    return [str(p) for p in caught.value.problems]


# --- the shipped standard ------------------------------------------------------------------


def test_shipped_standard_sections_points_and_counts(shipped_standard) -> None:
    std = shipped_standard
    assert (std.id, std.name, std.version) == ("kefu-dudao", "客户服务督导标准", "1.0")
    assert len(std.criteria) == 42
    assert [(s.code, s.name, s.points, len(s.criteria)) for s in std.sections] == [
        ("1", "行为规范", D(10), 15),
        ("2", "房屋交付", D(10), 23),
        ("3", "装修服务", D(14), 4),
    ]
    assert std.points == D(34)
    assert [c.code for c in std.criteria][:2] == ["1.1.01", "1.1.02"]
    assert std.criteria[-1].code == "3.1.04"


def test_shipped_standard_rules_and_assumption(shipped_standard) -> None:
    behaviour, delivery, decoration = shipped_standard.sections
    assert [g.name for g in behaviour.groups] == [None]
    assert behaviour.groups[0].rule == Rule("per_person_point", unit=D("0.3"))
    assert [g.name for g in delivery.groups] == ["交付准备", "交付手续办理"]
    assert {g.rule for g in delivery.groups} == {Rule("per_point", unit=D("0.5"))}
    (preparation,) = decoration.groups
    assert preparation.name == "装修服务准备"
    assert preparation.assumed is not None and "并非出自源文件" in preparation.assumed
    assert all(not c.own_rule for c in shipped_standard.criteria)
    assert behaviour.assumed is None and delivery.groups[0].assumed is None


# --- rule phrases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "rule"),
    [
        ("一个问题点扣0.5分", Rule("per_point", unit=D("0.5"))),
        ("每个问题点扣1分", Rule("per_point", unit=D(1))),
        ("一人一个问题点扣0.3分", Rule("per_person_point", unit=D("0.3"))),
        ("一人一个问题点扣0.3分，最高扣1分", Rule("per_person_point", unit=D("0.3"), cap=D(1))),
        ("每处扣1分", Rule("per_place", unit=D(1))),
        ("一处扣0.5分", Rule("per_place", unit=D("0.5"))),
        ("发现一处扣2分，扣完为止", Rule("per_place", unit=D(2))),
        ("每项扣1分", Rule("per_item", unit=D(1))),
        ("一项不符合扣2分，最高扣4分", Rule("per_item", unit=D(2), cap=D(4))),
        ("一个问题点扣0.5分, 最高扣2分。", Rule("per_point", unit=D("0.5"), cap=D(2))),
        ("一个问题点扣０.５分", Rule("per_point", unit=D("0.5"))),
        ("一个问题点扣0.5分 最高扣2分", Rule("per_point", unit=D("0.5"), cap=D(2))),
        ("每处扣1分；扣完为止", Rule("per_place", unit=D(1))),
        ("否决项：出现即本一级指标不得分", Rule("veto", scope="section")),
        ("否决项:出现即本次检查不得分", Rule("veto", scope="inspection")),
    ],
)
def test_rule_phrases(phrase: str, rule: Rule) -> None:
    assert parse_rule_phrase(phrase) == rule


@pytest.mark.parametrize("phrase", ["酌情扣分", "一个问题点扣分", "每处扣1分，视情况加扣", ""])
def test_unknown_rule_phrases_refused(phrase: str) -> None:
    with pytest.raises(RulePhraseError):
        parse_rule_phrase(phrase)


def test_phrase_round_trip() -> None:
    for text in [
        "一人一个问题点扣0.3分，最高扣1分",
        "每处扣1分",
        "每项扣2分",
        "否决项：出现即本次检查不得分",
    ]:
        assert parse_rule_phrase(text).phrase() == text


# --- strict, located loading ---------------------------------------------------------------


def test_tiny_standard_loads(tmp_path: Path) -> None:
    std = load_standard(write(tmp_path, TINY))
    assert [c.code for c in std.criteria] == ["1.1.01", "1.1.02"]
    assert std.sections[0].groups[0].rule == Rule("per_point", unit=D("0.5"))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    name: 行为规范",
            "    nme: 行为规范",
            [
                "s.yaml:5: sections[0].name: 缺少「name」：一级指标必须写出 name",
                "s.yaml:6: sections[0].nme: 未知的键「nme」：一级指标可用的键为 code, name, "
                "points, groups, assumed，是否想写「name」？",
            ],
        ),
        (
            "    points: 10",
            "    points: 10\n    points: 12",
            ["s.yaml:8: sections[0].points: 重复的键「points」（第 7 行已有）：每个键只能写一次"],
        ),
        (
            'code: "1.1.02"',
            'code: "1.1.01"',
            [
                "s.yaml:14: sections[0].groups[0].criteria[1].code: 检查标准编号「1.1.01」重复"
                "（第 12 行 sections[0].groups[0].criteria[0].code 已用）：编号在整个标准中必须唯一"
            ],
        ),
        (
            "text: 乙",
            'text: "  "',
            [
                "s.yaml:15: sections[0].groups[0].criteria[1].text: "
                "检查标准文本（text）为空：应为非空文本"
            ],
        ),
        (
            "            text: 乙\n",
            "",
            [
                "s.yaml:14: sections[0].groups[0].criteria[1].text: "
                "缺少「text」：检查标准必须写出 text"
            ],
        ),
        (
            "points: 10",
            "points: 0",
            ["s.yaml:7: sections[0].points: 一级指标分值（points）为 0：应大于 0"],
        ),
        (
            "points: 10",
            "points: 十分",
            ["s.yaml:7: sections[0].points: 一级指标分值（points）应为数字，实际为文本「十分」"],
        ),
        (
            "扣0.5分",
            "扣0分",
            ["s.yaml:10: sections[0].groups[0].rule: 每次扣分为 0：应大于 0"],
        ),
        (
            "扣0.5分",
            "扣0.5分，最高扣11分",
            [
                "s.yaml:10: sections[0].groups[0].rule: 最高扣分 11 超过本一级指标的 10 分："
                "应不超过一级指标分值"
            ],
        ),
        (
            "rule: 一个问题点扣0.5分",
            "rule: {kind: per_point, unit: 0.5, cap: 0}",
            ["s.yaml:10: sections[0].groups[0].rule.cap: 最高扣分（cap）为 0：应大于 0"],
        ),
        (
            "rule: 一个问题点扣0.5分",
            "rule: {kind: per_pont, unit: 0.5}",
            [
                "s.yaml:10: sections[0].groups[0].rule.kind: 未知的规则种类「per_pont」：应为 "
                "per_point, per_person_point, per_place, per_item, veto 之一，"
                "是否想写「per_point」？"
            ],
        ),
        (
            "rule: 一个问题点扣0.5分",
            "rule: {kind: veto, scope: site}",
            [
                "s.yaml:10: sections[0].groups[0].rule.scope: 否决范围为「site」：否决项的 scope "
                "应为 section（本一级指标不得分）或 inspection（本次检查不得分）"
            ],
        ),
        (
            "rule: 一个问题点扣0.5分",
            "rule: 酌情扣分",
            [
                "s.yaml:10: sections[0].groups[0].rule: 无法识别的扣分标准「酌情扣分」：应为如"
                "「一个问题点扣0.5分」「一人一个问题点扣0.3分，最高扣1分」「每处扣1分，扣完为止」"
                "「否决项：出现即本一级指标不得分」的写法，或映射 {kind, unit, cap, scope}"
            ],
        ),
        (
            "      - method: 现场抽查",
            "      - points: 12\n        method: 现场抽查",
            [
                "s.yaml:9: sections[0].groups[0].points: 二级指标分值 12 超过一级指标的 10 分："
                "应不超过一级指标分值"
            ],
        ),
        (
            TINY[TINY.index("    groups:") :],
            "    groups: []\n",
            ["s.yaml:8: sections[0].groups: 二级指标（groups）为空：至少需要一项"],
        ),
        (
            'version: "1"',
            'version: "1"\ngrade_bands:\n  - {name: 优, min: 90}\n  - {name: 优, min: 120}',
            [
                "s.yaml:6: grade_bands[1].min: 等级下限为 120：应在 0 到 100 之间（百分制）",
            ],
        ),
        (
            'version: "1"',
            'version: "1"\ngrade_bands:\n  - {name: 好, min: 60}\n  - {name: 差, min: 10}',
            [
                "s.yaml:5: grade_bands: 没有下限为 0 的等级："
                "最低一档的 min 应为 0，使任何得分都有等级"
            ],
        ),
    ],
)
def test_each_mistake_is_located(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    assert old in TINY
    path = write(tmp_path, TINY.replace(old, new, 1))
    assert [p.replace(f"{tmp_path}/", "") for p in problems(path)] == expected


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = TINY.replace("points: 10", "points: -1").replace("text: 甲", "txt: 甲")
    path = write(tmp_path, text)
    assert [p.replace(f"{tmp_path}/", "") for p in problems(path)] == [
        "s.yaml:7: sections[0].points: 一级指标分值（points）为 -1：应大于 0",
        "s.yaml:12: sections[0].groups[0].criteria[0].text: 缺少「text」：检查标准必须写出 text",
        "s.yaml:13: sections[0].groups[0].criteria[0].txt: 未知的键「txt」：检查标准可用的键为 "
        "code, text, rule, assumed，是否想写「text」？",
    ]


def test_problem_fields(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("points: 10", "points: 0"))
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (str(path), 7, "sections[0].points")


def test_invalid_yaml_located(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: x\nname: "unclosed\n')
    assert problems(path) == [
        f"{path}:3: YAML 语法错误：found unexpected end of stream：请检查该行的缩进、冒号和引号"
    ]


def test_binary_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    assert problems(path) == [
        f"{path}: 不是 UTF-8 文本文件（可能是 Excel 或其他二进制文件）：标准文件应为 UTF-8 编码的 "
        "YAML；Excel 表格请用 audit-xls standard import 导入"
    ]


def test_missing_and_empty_files(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    assert problems(missing) == [
        f"{missing}: 无法读取文件（No such file or directory）：请检查路径和权限"
    ]
    empty = write(tmp_path, "# nothing\n")
    assert problems(empty) == [
        f"{empty}: 文件为空：应为含 id、name、version、sections 的 YAML 映射"
    ]


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- b\n")
    assert problems(path) == [f"{path}:1: 标准应为映射（键: 值），实际为列表"]


def test_rule_mapping_and_criterion_override(tmp_path: Path) -> None:
    text = TINY.replace(
        "            text: 乙\n",
        "            text: 乙\n            rule: 否决项：出现即本次检查不得分\n"
        "            assumed: 源文件未写\n",
    ).replace("rule: 一个问题点扣0.5分", "rule: {kind: per_item, unit: 1, cap: 2}")
    std = load_standard(write(tmp_path, text))
    first, second = std.criteria
    assert first.rule == Rule("per_item", unit=D(1), cap=D(2)) and not first.own_rule
    assert second.rule == Rule("veto", scope="inspection") and second.own_rule
    assert second.assumed == "源文件未写"


# --- content hash --------------------------------------------------------------------------


def test_hash_stable_under_reformatting_key_order_and_comments(tmp_path: Path) -> None:
    base = load_standard(write(tmp_path, TINY)).content_hash
    reformatted = """\
    # a comment
    version: '1'
    sections: [{groups: [{criteria: [{text: 甲, code: '1.1.01'}, {code: '1.1.02', text: 乙}],
                          rule: '一个问题点扣0.50分',   method: 现场抽查}],
                points: 10.0, name: 行为规范, code: '1'}]
    name: 另一个名字        # names, ids, versions and notes are not content
    id: other
    assumed: 整份假定
    """
    assert load_standard(write(tmp_path, reformatted, "r.yaml")).content_hash == base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('code: "1.1.02"', 'code: "1.1.03"'),
        ('code: "1"', 'code: "9"'),
        ("text: 乙", "text: 乙。"),
        ("points: 10", "points: 11"),
        ("扣0.5分", "扣0.3分"),
        ("一个问题点", "一人一个问题点"),
        ("扣0.5分", "扣0.5分，最高扣2分"),
        ("method: 现场抽查", "method: 查看记录"),
        ("name: 行为规范", "name: 行为"),
        ("            text: 乙\n", "            text: 乙\n            rule: 每项扣1分\n"),
        ('version: "1"', 'version: "1"\ngrade_bands: [{name: 好, min: 60}, {name: 差, min: 0}]'),
    ],
)
def test_hash_changes_with_content(tmp_path: Path, old: str, new: str) -> None:
    base = load_standard(write(tmp_path, TINY)).content_hash
    assert old in TINY
    changed = load_standard(write(tmp_path, TINY.replace(old, new, 1), "c.yaml")).content_hash
    assert changed != base


# --- dump, save, folders -------------------------------------------------------------------


def test_dump_round_trip_keeps_hash_and_notes(shipped_standard, tmp_path: Path) -> None:
    text = dump_standard(shipped_standard)
    assert "rule: 一人一个问题点扣0.3分" in text
    back = load_standard(write(tmp_path, text))
    assert back.content_hash == shipped_standard.content_hash
    assert back.sections[2].groups[0].assumed == shipped_standard.sections[2].groups[0].assumed
    assert back.source == shipped_standard.source


def test_save_standard_writes_atomically(shipped_standard, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    saved = save_standard(shipped_standard, out)
    assert saved.content_hash == shipped_standard.content_hash
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]


def test_load_standards_folder(tmp_path: Path) -> None:
    write(tmp_path, TINY, "a.yaml")
    write(tmp_path, TINY.replace("id: tiny", "id: tiny2"), "b.yml")
    (tmp_path / "notes.txt").write_text("not a standard", encoding="utf-8")
    assert [s.id for s in load_standards(tmp_path)] == ["tiny", "tiny2"]
    write(tmp_path, TINY, "c.yaml")
    write(tmp_path, TINY.replace("points: 10", "points: 0"), "d.yaml")
    with pytest.raises(StandardError) as caught:
        load_standards(tmp_path)
    assert [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems] == [
        "c.yaml: id: 标准 tiny v1 与 a.yaml 重复：同一编号和版本只能有一个文件",
        "d.yaml:7: sections[0].points: 一级指标分值（points）为 0：应大于 0",
    ]


def test_standard_from_mapping_is_checked_too() -> None:
    import yaml

    data = yaml.safe_load(TINY)
    assert len(standard_from_mapping(data).criteria) == 2
    data["sections"][0]["points"] = 0
    with pytest.raises(StandardError, match="一级指标分值（points）为 0：应大于 0"):
        standard_from_mapping(data)


SHIPPED_FILE = Path(__file__).resolve().parent.parent / "standards" / "kefu-dudao.yaml"
# The content hash issued workbooks carry: a comment edit must never change it.
SHIPPED_HASH = "be5d8b1616bf3c551f0313d09c39920080282722519647c20f7e91a624d156cf"


def test_shipped_standard_hash_is_fixed(shipped_standard) -> None:
    assert shipped_standard.content_hash == SHIPPED_HASH


def test_shipped_header_cites_only_paths_in_this_repository() -> None:
    import re

    root = SHIPPED_FILE.parent.parent
    header = []
    for line in SHIPPED_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    cited = re.findall(r"[\w./-]+/[\w.-]+\.\w+", "\n".join(header))
    assert cited == ["docs/standard-format.md"]
    assert all((root / path).is_file() for path in cited)


ALIAS_BOMB = """\
id: bomb
name: 别名炸弹
version: "1"
a: &a [笑, 笑, 笑, 笑, 笑, 笑, 笑, 笑]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e]
sections: [*f, *f, *f, *f, *f, *f, *f, *f]
"""


def test_yaml_aliases_are_refused_before_walking(tmp_path: Path) -> None:
    import time

    path = write(tmp_path, ALIAS_BOMB)
    started = time.perf_counter()
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    assert time.perf_counter() - started < 0.5
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4: YAML 别名/锚点（&/*）不支持：请把内容直接写出。"
    ]


def test_an_alias_without_anchor_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("text: 乙", "text: *b"))
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:15: YAML 别名/锚点（&/*）不支持：请把内容直接写出。"
    ]


def test_shared_objects_in_a_mapping_are_written_out_not_aliased() -> None:
    import yaml

    data = yaml.safe_load(TINY)
    shared = {"name": "甲"}
    data["sections"][0]["groups"][0]["criteria"][0]["extra"] = shared
    data["sections"][0]["groups"][0]["criteria"][1]["extra"] = shared
    with pytest.raises(StandardError) as caught:
        standard_from_mapping(data)
    assert "别名" not in str(caught.value)
    assert len(caught.value.problems) == 2
