"""Standard files: strict YAML loading (every problem located by file, line and key path),
saving, and the standards folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from audit_xls.i18n import Said
from audit_xls.model.standard import (
    DEFAULT_GRADE_BANDS,
    RULE_KINDS,
    VETO_SCOPES,
    Criterion,
    Group,
    Rule,
    Section,
    Standard,
    dec_str,
)
from audit_xls.rectify.policy import parse_rectification
from audit_xls.standards.phrases import RulePhraseError, parse_rule_phrase

# --- strict loading: every problem located by file, line and key path -------------------

STANDARD_KEYS = (
    "id",
    "name",
    "version",
    "description",
    "source",
    "assumed",
    "sections",
    "grade_bands",
    "rectification",
)
SECTION_KEYS = ("code", "name", "points", "groups", "assumed")
GROUP_KEYS = ("name", "points", "method", "rule", "criteria", "assumed")
CRITERION_KEYS = ("code", "text", "rule", "assumed")
RULE_KEYS = ("kind", "unit", "cap", "scope")
BAND_KEYS = ("name", "min")

_PHRASE_HINT = (
    "应为如「一个问题点扣0.5分」「一人一个问题点扣0.3分，最高扣1分」「每处扣1分，扣完为止」"
    "「否决项：出现即本一级指标不得分」的写法，或映射 {kind, unit, cap, scope}"
)


@dataclass(frozen=True)
class StandardProblem:
    """One problem in a standard file, where it is and what is expected instead."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class StandardError(ValueError):
    """Raised when a standard file (or table) is invalid; carries every problem found."""

    def __init__(self, problems: list[StandardProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _describe(node: object) -> str:
    """How a YAML value is named in a message: what was found."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "映射"
    if isinstance(node, yaml.SequenceNode):
        return "列表"
    assert isinstance(node, yaml.ScalarNode)
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return "空值"
    if tag == "bool":
        return f"布尔值 {node.value}"
    if tag in ("int", "float"):
        return f"数字 {node.value}"
    return f"文本「{node.value}」"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Checker:
    """Walks the composed YAML nodes, building the model and collecting every problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[StandardProblem] = []
        self.codes: dict[str, tuple[int, str]] = {}

    def problem(self, node: object, path: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None  # type: ignore[attr-defined]
        self.problems.append(StandardProblem(self.file, line, path, message))

    def mapping(
        self, node, path: str, allowed: tuple[str, ...], required: tuple[str, ...], what: str
    ) -> dict | None:
        import difflib

        import yaml

        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"{what}应为映射（键: 值），实际为{_describe(node)}")
            return None
        found: dict[str, object] = {}
        seen_at: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, path, f"键应为文本，实际为{_describe(key_node)}")
                continue
            if key in seen_at:
                self.problem(
                    key_node,
                    _join(path, key),
                    f"重复的键「{key}」（第 {seen_at[key]} 行已有）：每个键只能写一次",
                )
                continue
            seen_at[key] = key_node.start_mark.line + 1
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                hint = f"，是否想写「{close[0]}」？" if close else ""
                self.problem(
                    key_node,
                    _join(path, key),
                    f"未知的键「{key}」：{what}可用的键为 {', '.join(allowed)}{hint}",
                )
                continue
            found[key] = value_node
        for key in required:
            if key not in found and key not in seen_at:
                self.problem(node, _join(path, key), f"缺少「{key}」：{what}必须写出 {key}")
        return found

    def sequence(self, node, path: str, what: str) -> list:
        import yaml

        if not isinstance(node, yaml.SequenceNode):
            self.problem(
                node, path, f"{what}应为列表（以「- 」开头的各项），实际为{_describe(node)}"
            )
            return []
        if not node.value:
            self.problem(node, path, f"{what}为空：至少需要一项")
        return list(node.value)

    def text(self, node, path: str, what: str) -> str | None:
        import yaml

        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool")):
            self.problem(node, path, f"{what}应为非空文本，实际为{_describe(node)}")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, path, f"{what}为空：应为非空文本")
            return None
        return value

    def optional_text(self, node, path: str, what: str) -> str | None:
        return None if node is None else self.text(node, path, what)

    def number(self, node, path: str, what: str, positive: bool = True) -> Decimal | None:
        import yaml

        value: Decimal | None = None
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")):
            try:
                value = Decimal(node.value.replace("_", ""))
            except ArithmeticError:
                value = None
            if value is not None and not value.is_finite():
                value = None
        if value is None:
            self.problem(node, path, f"{what}应为数字，实际为{_describe(node)}")
            return None
        if positive and value <= 0:
            self.problem(node, path, f"{what}为 {node.value}：应大于 0")
            return None
        if not positive and value < 0:
            self.problem(node, path, f"{what}为 {node.value}：不能小于 0")
            return None
        return value

    def code(self, node, path: str, what: str) -> str | None:
        import yaml

        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(
            (":str", ":int", ":float")
        ):
            self.problem(node, path, f"{what}应为文本，实际为{_describe(node)}")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, path, f'{what}为空：应为非空文本，如 "1.1.01"')
            return None
        return value

    def rule(self, node, path: str, section_points: Decimal | None) -> Rule | None:
        import difflib

        import yaml

        rule: Rule | None = None
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str"):
            try:
                rule = parse_rule_phrase(node.value)
            except RulePhraseError as error:
                self.problem(node, path, f"{error}：{_PHRASE_HINT}")
                return None
        elif isinstance(node, yaml.MappingNode):
            keys = self.mapping(node, path, RULE_KEYS, ("kind",), "扣分规则")
            if keys is None or "kind" not in keys:
                return None
            kind = self.text(keys["kind"], _join(path, "kind"), "规则种类（kind）")
            if kind is None:
                return None
            if kind not in RULE_KINDS:
                close = difflib.get_close_matches(kind, RULE_KINDS, n=1, cutoff=0.5)
                hint = f"，是否想写「{close[0]}」？" if close else ""
                self.problem(
                    keys["kind"],
                    _join(path, "kind"),
                    f"未知的规则种类「{kind}」：应为 {', '.join(RULE_KINDS)} 之一{hint}",
                )
                return None
            unit = cap = None
            if "unit" in keys:
                unit = self.number(keys["unit"], _join(path, "unit"), "每次扣分（unit）")
                if unit is None:
                    return None
            if "cap" in keys:
                cap = self.number(keys["cap"], _join(path, "cap"), "最高扣分（cap）")
                if cap is None:
                    return None
            scope = None
            if "scope" in keys:
                scope = self.text(keys["scope"], _join(path, "scope"), "否决范围（scope）")
                if scope is None:
                    return None
            if kind == "veto":
                if scope not in VETO_SCOPES:
                    found = f"「{scope}」" if scope is not None else "未写"
                    self.problem(
                        keys.get("scope", node),
                        _join(path, "scope"),
                        f"否决范围为{found}：否决项的 scope 应为 section（本一级指标不得分）"
                        "或 inspection（本次检查不得分）",
                    )
                    return None
                for extra in ("unit", "cap"):
                    if extra in keys:
                        self.problem(
                            keys[extra], _join(path, extra), f"否决项不扣分，不应写 {extra}：请删去"
                        )
                        return None
            else:
                if scope is not None:
                    self.problem(
                        keys["scope"],
                        _join(path, "scope"),
                        f"规则种类 {kind} 不是否决项，不应写 scope：请删去",
                    )
                    return None
                if unit is None:
                    self.problem(
                        node,
                        _join(path, "unit"),
                        f"缺少「unit」：规则种类 {kind} 必须写出每次扣多少分",
                    )
                    return None
            rule = Rule(kind, unit=unit, cap=cap, scope=scope)
        else:
            self.problem(
                node, path, f"扣分规则应为文本或映射，实际为{_describe(node)}：{_PHRASE_HINT}"
            )
            return None
        if rule.unit is not None and rule.unit <= 0:
            self.problem(node, path, f"每次扣分为 {dec_str(rule.unit)}：应大于 0")
            return None
        if rule.cap is not None and rule.cap <= 0:
            self.problem(node, path, f"最高扣分为 {dec_str(rule.cap)}：应大于 0")
            return None
        if rule.cap is not None and section_points is not None and rule.cap > section_points:
            self.problem(
                node,
                path,
                f"最高扣分 {dec_str(rule.cap)} 超过本一级指标的 {dec_str(section_points)} 分："
                "应不超过一级指标分值",
            )
            return None
        return rule

    def standard(self, root, path: Path | None) -> Standard | None:
        keys = self.mapping(root, "", STANDARD_KEYS, ("id", "name", "version", "sections"), "标准")
        if keys is None:
            return None
        ident = self.code(keys["id"], "id", "标准编号（id）") if "id" in keys else None
        name = self.text(keys["name"], "name", "标准名称（name）") if "name" in keys else None
        version = (
            self.code(keys["version"], "version", "版本（version）") if "version" in keys else None
        )
        description = self.optional_text(keys.get("description"), "description", "说明")
        source = self.optional_text(keys.get("source"), "source", "来源说明")
        assumed = self.optional_text(keys.get("assumed"), "assumed", "假定说明（assumed）")
        sections = []
        section_codes: dict[str, int] = {}
        if "sections" in keys:
            for i, node in enumerate(self.sequence(keys["sections"], "sections", "sections")):
                section = self.section(node, f"sections[{i}]", section_codes)
                if section is not None:
                    sections.append(section)
        bands = DEFAULT_GRADE_BANDS
        if "grade_bands" in keys:
            bands = self.grade_bands(keys["grade_bands"], "grade_bands") or DEFAULT_GRADE_BANDS
        rectification = None
        if "rectification" in keys:
            codes = {s.code for s in sections} | {c.code for s in sections for c in s.criteria}
            rectification = parse_rectification(self, keys["rectification"], codes)
        if self.problems:
            return None
        assert ident and name and version
        return Standard(
            id=ident,
            name=name,
            version=version,
            sections=tuple(sections),
            grade_bands=bands,
            description=description,
            source=source,
            path=path,
            assumed=assumed,
            rectification=rectification,
        )

    def section(self, node, path: str, section_codes: dict[str, int]) -> Section | None:
        keys = self.mapping(
            node, path, SECTION_KEYS, ("code", "name", "points", "groups"), "一级指标"
        )
        if keys is None:
            return None
        code = (
            self.code(keys["code"], _join(path, "code"), "一级指标编号（code）")
            if "code" in keys
            else None
        )
        if code is not None:
            line = keys["code"].start_mark.line + 1
            if code in section_codes:
                self.problem(
                    keys["code"],
                    _join(path, "code"),
                    f"一级指标编号「{code}」重复（第 {section_codes[code]} 行已用）："
                    "每个一级指标的编号必须唯一",
                )
            else:
                section_codes[code] = line
        name = (
            self.text(keys["name"], _join(path, "name"), "一级指标名称（name）")
            if "name" in keys
            else None
        )
        points = (
            self.number(keys["points"], _join(path, "points"), "一级指标分值（points）")
            if "points" in keys
            else None
        )
        assumed = self.optional_text(
            keys.get("assumed"), _join(path, "assumed"), "假定说明（assumed）"
        )
        groups = []
        if "groups" in keys:
            nodes = self.sequence(keys["groups"], _join(path, "groups"), "二级指标（groups）")
            for i, group_node in enumerate(nodes):
                group = self.group(group_node, _join(_join(path, "groups"), i), points)
                if group is not None:
                    groups.append(group)
        if code is None or name is None or points is None:
            return None
        return Section(code, name, points, tuple(groups), assumed)

    def group(self, node, path: str, section_points: Decimal | None) -> Group | None:
        keys = self.mapping(node, path, GROUP_KEYS, ("method", "rule", "criteria"), "二级指标")
        if keys is None:
            return None
        name = self.optional_text(keys.get("name"), _join(path, "name"), "二级指标名称（name）")
        points = None
        if "points" in keys:
            points = self.number(keys["points"], _join(path, "points"), "二级指标分值（points）")
            if points is not None and section_points is not None and points > section_points:
                self.problem(
                    keys["points"],
                    _join(path, "points"),
                    f"二级指标分值 {dec_str(points)} 超过一级指标的 {dec_str(section_points)} 分："
                    "应不超过一级指标分值",
                )
        method = (
            self.text(keys["method"], _join(path, "method"), "检查方法（method）")
            if "method" in keys
            else None
        )
        rule = (
            self.rule(keys["rule"], _join(path, "rule"), section_points) if "rule" in keys else None
        )
        assumed = self.optional_text(
            keys.get("assumed"), _join(path, "assumed"), "假定说明（assumed）"
        )
        criteria = []
        if "criteria" in keys:
            nodes = self.sequence(keys["criteria"], _join(path, "criteria"), "检查标准（criteria）")
            for i, criterion_node in enumerate(nodes):
                criterion = self.criterion(
                    criterion_node, _join(_join(path, "criteria"), i), rule, section_points
                )
                if criterion is not None:
                    criteria.append(criterion)
        if method is None or rule is None:
            return None
        return Group(name, method, rule, tuple(criteria), points, assumed)

    def criterion(
        self, node, path: str, group_rule: Rule | None, section_points: Decimal | None
    ) -> Criterion | None:
        keys = self.mapping(node, path, CRITERION_KEYS, ("code", "text"), "检查标准")
        if keys is None:
            return None
        code = (
            self.code(keys["code"], _join(path, "code"), "检查标准编号（code）")
            if "code" in keys
            else None
        )
        if code is not None:
            if code in self.codes:
                line, first = self.codes[code]
                self.problem(
                    keys["code"],
                    _join(path, "code"),
                    f"检查标准编号「{code}」重复（第 {line} 行 {first} 已用）："
                    "编号在整个标准中必须唯一",
                )
            else:
                self.codes[code] = (keys["code"].start_mark.line + 1, _join(path, "code"))
        text = (
            self.text(keys["text"], _join(path, "text"), "检查标准文本（text）")
            if "text" in keys
            else None
        )
        own = (
            self.rule(keys["rule"], _join(path, "rule"), section_points) if "rule" in keys else None
        )
        assumed = self.optional_text(
            keys.get("assumed"), _join(path, "assumed"), "假定说明（assumed）"
        )
        rule = own or group_rule
        if code is None or text is None or rule is None or ("rule" in keys and own is None):
            return None
        return Criterion(code, text, rule, own_rule=own is not None, assumed=assumed)

    def grade_bands(self, node, path: str) -> tuple[tuple[str, Decimal], ...] | None:
        bands: list[tuple[str, Decimal]] = []
        ok = True
        names: dict[str, int] = {}
        minimums: dict[Decimal, int] = {}
        for i, band_node in enumerate(self.sequence(node, path, "等级（grade_bands）")):
            band_path = _join(path, i)
            keys = self.mapping(band_node, band_path, BAND_KEYS, BAND_KEYS, "等级")
            if keys is None or "name" not in keys or "min" not in keys:
                ok = False
                continue
            name = self.text(keys["name"], _join(band_path, "name"), "等级名称（name）")
            minimum = self.number(
                keys["min"], _join(band_path, "min"), "等级下限（min）", positive=False
            )
            if minimum is not None and minimum > 100:
                self.problem(
                    keys["min"],
                    _join(band_path, "min"),
                    f"等级下限为 {dec_str(minimum)}：应在 0 到 100 之间（百分制）",
                )
                minimum = None
            if name is None or minimum is None:
                ok = False
                continue
            line = band_node.start_mark.line + 1
            if name in names:
                self.problem(
                    keys["name"],
                    _join(band_path, "name"),
                    f"等级名称「{name}」重复（第 {names[name]} 行已有）：每个等级名称只能出现一次",
                )
                ok = False
            if minimum in minimums:
                self.problem(
                    keys["min"],
                    _join(band_path, "min"),
                    f"等级下限 {dec_str(minimum)} 重复（第 {minimums[minimum]} 行已有）："
                    "每个等级的下限应不同",
                )
                ok = False
            names.setdefault(name, line)
            minimums.setdefault(minimum, line)
            bands.append((name, minimum))
        if ok and bands and Decimal(0) not in minimums:
            self.problem(
                node, path, "没有下限为 0 的等级：最低一档的 min 应为 0，使任何得分都有等级"
            )
            ok = False
        if not ok or not bands:
            return None
        return tuple(sorted(bands, key=lambda band: band[1], reverse=True))


ALIAS_MESSAGE = "YAML 别名/锚点（&/*）不支持：请把内容直接写出。"


class _AliasFound(Exception):
    """Raised while composing a standard that uses a YAML anchor (&) or alias (*)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _compose(text: str):
    """The YAML node tree, refusing anchors and aliases as soon as the first one is met.

    A 1 KB file of nested aliases expands to millions of nodes when walked (billion laughs);
    a standard never needs them, so they are refused before any walking starts.
    """
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: object, index: object) -> object:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _AliasFound(event.start_mark.line + 1)
            return super().compose_node(parent, index)

    return yaml.compose(text, Loader=NoAliasLoader)


def _dump_yaml(data: object, **options: object) -> str:
    """safe_dump that writes shared objects out in full: the loader refuses aliases."""
    import yaml

    class NoAliasDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    return yaml.dump(data, Dumper=NoAliasDumper, allow_unicode=True, sort_keys=False, **options)


def _parse_text(text: str, file: str, path: Path | None) -> Standard:
    import yaml

    try:
        root = _compose(text)
    except _AliasFound as found:
        raise StandardError([StandardProblem(file, found.line, "", ALIAS_MESSAGE)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        found = error.problem or error.context or "无法解析"
        raise StandardError(
            [
                StandardProblem(
                    file, line, "", f"YAML 语法错误：{found}：请检查该行的缩进、冒号和引号"
                )
            ]
        ) from None
    except yaml.YAMLError as error:
        raise StandardError(
            [StandardProblem(file, None, "", f"YAML 语法错误：{error}：请检查文件内容")]
        ) from None
    if root is None:
        raise StandardError(
            [
                StandardProblem(
                    file, None, "", "文件为空：应为含 id、name、version、sections 的 YAML 映射"
                )
            ]
        )
    checker = _Checker(file)
    standard = checker.standard(root, path)
    if checker.problems or standard is None:
        # file order reads best: a person fixes the file from top to bottom
        raise StandardError(sorted(checker.problems, key=lambda p: p.line or 0))
    return standard


def load_standard(path: str | Path) -> Standard:
    """Load and check one standard file; raise StandardError listing every problem in it."""
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StandardError(
            [StandardProblem(file, None, "", f"无法读取文件（{reason}）：请检查路径和权限")]
        ) from None
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StandardError(
            [
                StandardProblem(
                    file,
                    None,
                    "",
                    "不是 UTF-8 文本文件（可能是 Excel 或其他二进制文件）："
                    "标准文件应为 UTF-8 编码的 YAML；Excel 表格请用 audit-xls standard import 导入",
                )
            ]
        ) from None
    return _parse_text(text, file, path)


class StandardsFolderError(Said, ValueError):
    """Raised when the folder given for the standards is not a folder."""


def standards_folder(option: str | Path | None = None) -> Path:
    """Where grading looks for standards: the folder given, else ./standards, else the
    standards shipped with audit-xls (StandardsFolderError when the given one is no folder)."""
    from audit_xls import data

    if option is not None:
        if not Path(option).is_dir():
            raise StandardsFolderError("standards.not_folder", folder=option)
        return Path(option)
    local = Path("standards")
    return local if local.is_dir() else data.standards_folder()


def load_standards(folder: str | Path) -> list[Standard]:
    """Load every *.yaml / *.yml in a folder; raise StandardError with all files' problems."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    problems: list[StandardProblem] = []
    standards: list[Standard] = []
    seen: dict[tuple[str, str], Path] = {}
    for file in files:
        try:
            standard = load_standard(file)
        except StandardError as error:
            problems.extend(error.problems)
            continue
        key = (standard.id, standard.version)
        if key in seen:
            problems.append(
                StandardProblem(
                    str(file),
                    None,
                    "id",
                    f"标准 {standard.label} 与 {seen[key]} 重复：同一编号和版本只能有一个文件",
                )
            )
            continue
        seen[key] = file
        standards.append(standard)
    if problems:
        raise StandardError(problems)
    return standards


def standard_from_mapping(data: dict, path: Path | None = None) -> Standard:
    """Check and build a standard from already-parsed data (same rules as a file)."""

    text = _dump_yaml(data)
    return _parse_text(text, str(path) if path else "<mapping>", path)


def _yaml_number(value: Decimal) -> int | float:
    # YAML has no decimal type: integral values as int, others as their shortest float
    return int(value) if value == value.to_integral_value() else float(dec_str(value))


def standard_to_mapping(standard: Standard) -> dict:
    """The canonical YAML structure of a standard, rules written as phrases."""
    data: dict = {"id": standard.id, "name": standard.name, "version": standard.version}
    for key in ("description", "source", "assumed"):
        if getattr(standard, key):
            data[key] = getattr(standard, key)
    sections = []
    for s in standard.sections:
        section: dict = {"code": s.code, "name": s.name, "points": _yaml_number(s.points)}
        if s.assumed:
            section["assumed"] = s.assumed
        groups = []
        for g in s.groups:
            group: dict = {}
            if g.name:
                group["name"] = g.name
            if g.points is not None:
                group["points"] = _yaml_number(g.points)
            group["method"] = g.method
            group["rule"] = g.rule.phrase()
            if g.assumed:
                group["assumed"] = g.assumed
            criteria = []
            for c in g.criteria:
                criterion: dict = {"code": c.code, "text": c.text}
                if c.own_rule or c.rule != g.rule:
                    criterion["rule"] = c.rule.phrase()
                if c.assumed:
                    criterion["assumed"] = c.assumed
                criteria.append(criterion)
            group["criteria"] = criteria
            groups.append(group)
        section["groups"] = groups
        sections.append(section)
    data["sections"] = sections
    if standard.grade_bands != DEFAULT_GRADE_BANDS:
        data["grade_bands"] = [
            {"name": name, "min": _yaml_number(minimum)} for name, minimum in standard.grade_bands
        ]
    if standard.rectification is not None:
        data["rectification"] = standard.rectification.to_mapping()
    return data


def dump_standard(standard: Standard) -> str:
    """The standard as canonical YAML text; loading it back gives the same content hash."""

    header = f"# {standard.name} ({standard.label}). Format: docs/standard-format.md\n"
    body = _dump_yaml(standard_to_mapping(standard), width=100000, default_flow_style=False)
    return header + body


def save_standard(standard: Standard, path: str | Path) -> Standard:
    """Write the standard's canonical YAML atomically and return it loaded back from the file.

    Raises StandardError when the file would not load back to the same content hash.
    """
    from audit_xls.atomic import atomic_open

    path = Path(path)
    text = dump_standard(standard)
    # checked before writing: a file that would not load back must not replace a good one
    loaded = _parse_text(text, str(path), path)
    if loaded.content_hash != standard.content_hash:
        raise StandardError(
            [
                StandardProblem(
                    str(path),
                    None,
                    "",
                    "写出的文件读回后内容哈希不同：这是 audit-xls 的缺陷，请报告",
                )
            ]
        )
    with atomic_open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return load_standard(path)
