"""Standard files: strict YAML loading (every problem located by file, line and key path),
saving, and the standards folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from audit_xls.i18n import DEFAULT_LANG, Ref, Said, render_value
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

_PHRASE_HINT = Ref.to("standard.phrase_hint", keys="{kind, unit, cap, scope}")


@dataclass(frozen=True)
class StandardProblem:
    """One problem in a standard file (or HQ table), where it is and what is expected instead.

    `path` is the YAML key path or the table's sheet and cell; `message` is looked up in the
    catalogue of the language asked for (`text(lang)`; `str()` reads in Chinese)."""

    file: str
    line: int | None
    path: str | Ref
    message: Ref

    def text(self, lang: str = DEFAULT_LANG) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        message = render_value(self.message, lang)
        path = render_value(self.path, lang)
        return f"{where}: {path}: {message}" if path else f"{where}: {message}"

    def __str__(self) -> str:
        return self.text()


def problem_at(
    file: str, line: int | None, path: str | Ref, key: str, /, **params: object
) -> StandardProblem:
    """A located problem whose words are the catalogue entry `key` filled with `params`."""
    return StandardProblem(file, line, path, Ref(key, tuple(params.items())))


class StandardError(ValueError):
    """Raised when a standard file (or table) is invalid; carries every problem found."""

    def __init__(self, problems: list[StandardProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self, lang: str = DEFAULT_LANG) -> str:
        """Every problem, one a line, in `lang` (say(error, lang) reads this)."""
        return "\n".join(p.text(lang) for p in self.problems)


def _describe(node: object) -> Ref:
    """How a YAML value is named in a message: what was found."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return Ref.to("standard.found.mapping")
    if isinstance(node, yaml.SequenceNode):
        return Ref.to("standard.found.list")
    assert isinstance(node, yaml.ScalarNode)
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return Ref.to("standard.found.null")
    if tag == "bool":
        return Ref.to("standard.found.bool", value=node.value)
    if tag in ("int", "float"):
        return Ref.to("standard.found.number", value=node.value)
    return Ref.to("standard.found.text", value=node.value)


def _hint(close: list[str]) -> Ref | str:
    return Ref.to("standard.did_you_mean", close=close[0]) if close else ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _what(what: str) -> Ref:
    """What a value is, named in the reader's language: a key under standard.what."""
    return Ref.to(f"standard.what.{what}")


class _Checker:
    """Walks the composed YAML nodes, building the model and collecting every problem.

    `what` arguments name the value checked: a key under standard.what in the catalogue."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[StandardProblem] = []
        self.codes: dict[str, tuple[int, str]] = {}

    def problem(self, node: object, path: str, message: str, /, **params: object) -> None:
        """A problem at `node`, worded by the catalogue entry standard.`message`."""
        line = node.start_mark.line + 1 if node is not None else None  # type: ignore[attr-defined]
        self.problems.append(problem_at(self.file, line, path, f"standard.{message}", **params))

    def once(
        self, seen: dict, value: object, node, path: str, message: str, at: int, /, **params
    ) -> bool:
        """True the first time `value` is met (line `at` kept in `seen`); else the problem
        `message` at `node`, naming the line where it was met first."""
        if value in seen:
            self.problem(node, path, message, line=seen[value], **params)
            return False
        seen[value] = at
        return True

    def mapping(
        self, node, path: str, allowed: tuple[str, ...], required: tuple[str, ...], what: str
    ) -> dict | None:
        import difflib

        import yaml

        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, "not_mapping", what=_what(what), found=_describe(node))
            return None
        found: dict[str, object] = {}
        seen_at: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, path, "key_not_text", found=_describe(key_node))
                continue
            at = key_node.start_mark.line + 1
            if not self.once(seen_at, key, key_node, _join(path, key), "key_twice", at, key=key):
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                self.problem(
                    key_node,
                    _join(path, key),
                    "key_unknown",
                    key=key,
                    what=_what(what),
                    keys=", ".join(allowed),
                    hint=_hint(close),
                )
                continue
            found[key] = value_node
        for key in required:
            if key not in found and key not in seen_at:
                self.problem(node, _join(path, key), "key_missing", key=key, what=_what(what))
        return found

    def sequence(self, node, path: str, what: str) -> list:
        import yaml

        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, path, "not_list", what=_what(what), found=_describe(node))
            return []
        if not node.value:
            self.problem(node, path, "list_empty", what=_what(what))
        return list(node.value)

    def text(self, node, path: str, what: str) -> str | None:
        import yaml

        scalar = isinstance(node, yaml.ScalarNode) and not node.tag.endswith((":null", ":bool"))
        return self._stripped(node, path, what, scalar, "not_text", "text_empty")

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
            self.problem(node, path, "not_number", what=_what(what), found=_describe(node))
            return None
        if positive and value <= 0:
            self.problem(node, path, "not_positive", what=_what(what), value=node.value)
            return None
        if not positive and value < 0:
            self.problem(node, path, "negative", what=_what(what), value=node.value)
            return None
        return value

    def code(self, node, path: str, what: str) -> str | None:
        import yaml

        scalar = isinstance(node, yaml.ScalarNode) and node.tag.endswith((":str", ":int", ":float"))
        return self._stripped(node, path, what, scalar, "code_not_text", "code_empty")

    def _stripped(
        self, node, path: str, what: str, scalar: bool, not_text: str, empty: str
    ) -> str | None:
        """A scalar's text without surrounding spaces; a problem (`not_text` when the node is
        not an accepted scalar, `empty` when nothing is left) and None otherwise."""
        if not scalar:
            self.problem(node, path, not_text, what=_what(what), found=_describe(node))
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, path, empty, what=_what(what))
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
                self.problem(node, path, "phrase_unknown", error=error.ref(), hint=_PHRASE_HINT)
                return None
        elif isinstance(node, yaml.MappingNode):
            keys = self.mapping(node, path, RULE_KEYS, ("kind",), "rule")
            if keys is None or "kind" not in keys:
                return None
            kind = self.text(keys["kind"], _join(path, "kind"), "kind")
            if kind is None:
                return None
            if kind not in RULE_KINDS:
                close = difflib.get_close_matches(kind, RULE_KINDS, n=1, cutoff=0.5)
                self.problem(
                    keys["kind"],
                    _join(path, "kind"),
                    "kind_unknown",
                    kind=kind,
                    kinds=", ".join(RULE_KINDS),
                    hint=_hint(close),
                )
                return None
            unit = cap = None
            if "unit" in keys:
                unit = self.number(keys["unit"], _join(path, "unit"), "unit")
                if unit is None:
                    return None
            if "cap" in keys:
                cap = self.number(keys["cap"], _join(path, "cap"), "cap")
                if cap is None:
                    return None
            scope = None
            if "scope" in keys:
                scope = self.text(keys["scope"], _join(path, "scope"), "scope")
                if scope is None:
                    return None
            if kind == "veto":
                if scope not in VETO_SCOPES:
                    found = (
                        Ref.to("standard.scope_written", scope=scope)
                        if scope is not None
                        else Ref.to("standard.scope_not_written")
                    )
                    self.problem(
                        keys.get("scope", node), _join(path, "scope"), "scope_unknown", found=found
                    )
                    return None
                for extra in ("unit", "cap"):
                    if extra in keys:
                        self.problem(keys[extra], _join(path, extra), "veto_no_unit", key=extra)
                        return None
            else:
                if scope is not None:
                    self.problem(keys["scope"], _join(path, "scope"), "scope_not_veto", kind=kind)
                    return None
                if unit is None:
                    self.problem(node, _join(path, "unit"), "unit_missing", kind=kind)
                    return None
            rule = Rule(kind, unit=unit, cap=cap, scope=scope)
        else:
            self.problem(node, path, "rule_shape", found=_describe(node), hint=_PHRASE_HINT)
            return None
        if rule.unit is not None and rule.unit <= 0:
            self.problem(node, path, "unit_not_positive", value=dec_str(rule.unit))
            return None
        if rule.cap is not None and rule.cap <= 0:
            self.problem(node, path, "cap_not_positive", value=dec_str(rule.cap))
            return None
        if rule.cap is not None and section_points is not None and rule.cap > section_points:
            self.problem(
                node,
                path,
                "cap_over_section",
                cap=dec_str(rule.cap),
                points=dec_str(section_points),
            )
            return None
        return rule

    def standard(self, root, path: Path | None) -> Standard | None:
        keys = self.mapping(
            root, "", STANDARD_KEYS, ("id", "name", "version", "sections"), "standard"
        )
        if keys is None:
            return None
        ident = self.code(keys["id"], "id", "id") if "id" in keys else None
        name = self.text(keys["name"], "name", "name") if "name" in keys else None
        version = self.code(keys["version"], "version", "version") if "version" in keys else None
        description = self.optional_text(keys.get("description"), "description", "description")
        source = self.optional_text(keys.get("source"), "source", "source")
        assumed = self.optional_text(keys.get("assumed"), "assumed", "assumed")
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
            node, path, SECTION_KEYS, ("code", "name", "points", "groups"), "section"
        )
        if keys is None:
            return None
        code = (
            self.code(keys["code"], _join(path, "code"), "section_code") if "code" in keys else None
        )
        if code is not None:
            at = keys["code"].start_mark.line + 1
            where = _join(path, "code")
            self.once(section_codes, code, keys["code"], where, "section_code_twice", at, code=code)
        name = (
            self.text(keys["name"], _join(path, "name"), "section_name") if "name" in keys else None
        )
        points = (
            self.number(keys["points"], _join(path, "points"), "section_points")
            if "points" in keys
            else None
        )
        assumed = self.optional_text(keys.get("assumed"), _join(path, "assumed"), "assumed")
        groups = []
        if "groups" in keys:
            nodes = self.sequence(keys["groups"], _join(path, "groups"), "groups")
            for i, group_node in enumerate(nodes):
                group = self.group(group_node, _join(_join(path, "groups"), i), points)
                if group is not None:
                    groups.append(group)
        if code is None or name is None or points is None:
            return None
        return Section(code, name, points, tuple(groups), assumed)

    def group(self, node, path: str, section_points: Decimal | None) -> Group | None:
        keys = self.mapping(node, path, GROUP_KEYS, ("method", "rule", "criteria"), "group")
        if keys is None:
            return None
        name = self.optional_text(keys.get("name"), _join(path, "name"), "group_name")
        points = None
        if "points" in keys:
            points = self.number(keys["points"], _join(path, "points"), "group_points")
            if points is not None and section_points is not None and points > section_points:
                self.problem(
                    keys["points"],
                    _join(path, "points"),
                    "group_over_section",
                    points=dec_str(points),
                    section=dec_str(section_points),
                )
        method = (
            self.text(keys["method"], _join(path, "method"), "method") if "method" in keys else None
        )
        rule = (
            self.rule(keys["rule"], _join(path, "rule"), section_points) if "rule" in keys else None
        )
        assumed = self.optional_text(keys.get("assumed"), _join(path, "assumed"), "assumed")
        criteria = []
        if "criteria" in keys:
            nodes = self.sequence(keys["criteria"], _join(path, "criteria"), "criteria")
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
        keys = self.mapping(node, path, CRITERION_KEYS, ("code", "text"), "criterion")
        if keys is None:
            return None
        code = (
            self.code(keys["code"], _join(path, "code"), "criterion_code")
            if "code" in keys
            else None
        )
        if code is not None:
            if code in self.codes:
                line, first = self.codes[code]
                self.problem(
                    keys["code"],
                    _join(path, "code"),
                    "criterion_code_twice",
                    code=code,
                    line=line,
                    first=first,
                )
            else:
                self.codes[code] = (keys["code"].start_mark.line + 1, _join(path, "code"))
        text = (
            self.text(keys["text"], _join(path, "text"), "criterion_text")
            if "text" in keys
            else None
        )
        own = (
            self.rule(keys["rule"], _join(path, "rule"), section_points) if "rule" in keys else None
        )
        assumed = self.optional_text(keys.get("assumed"), _join(path, "assumed"), "assumed")
        rule = own or group_rule
        if code is None or text is None or rule is None or ("rule" in keys and own is None):
            return None
        return Criterion(code, text, rule, own_rule=own is not None, assumed=assumed)

    def grade_bands(self, node, path: str) -> tuple[tuple[str, Decimal], ...] | None:
        bands: list[tuple[str, Decimal]] = []
        ok = True
        names: dict[str, int] = {}
        minimums: dict[Decimal, int] = {}
        for i, band_node in enumerate(self.sequence(node, path, "grade_bands")):
            band_path = _join(path, i)
            keys = self.mapping(band_node, band_path, BAND_KEYS, BAND_KEYS, "band")
            if keys is None or "name" not in keys or "min" not in keys:
                ok = False
                continue
            name = self.text(keys["name"], _join(band_path, "name"), "band_name")
            minimum = self.number(keys["min"], _join(band_path, "min"), "band_min", positive=False)
            if minimum is not None and minimum > 100:
                self.problem(
                    keys["min"], _join(band_path, "min"), "band_over_100", value=dec_str(minimum)
                )
                minimum = None
            if name is None or minimum is None:
                ok = False
                continue
            at = band_node.start_mark.line + 1
            name_path, min_path = _join(band_path, "name"), _join(band_path, "min")
            new_name = self.once(
                names, name, keys["name"], name_path, "band_name_twice", at, name=name
            )
            value = dec_str(minimum)
            new_min = self.once(
                minimums, minimum, keys["min"], min_path, "band_min_twice", at, value=value
            )
            ok = ok and new_name and new_min
            bands.append((name, minimum))
        if ok and bands and Decimal(0) not in minimums:
            self.problem(node, path, "band_no_zero")
            ok = False
        if not ok or not bands:
            return None
        return tuple(sorted(bands, key=lambda band: band[1], reverse=True))


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
        raise StandardError([problem_at(file, found.line, "", "standard.yaml_alias")]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        found = error.problem or error.context
        detail = found if found else Ref.to("standard.yaml_unparsable")
        raise StandardError(
            [problem_at(file, line, "", "standard.yaml_syntax", found=detail)]
        ) from None
    except yaml.YAMLError as error:
        raise StandardError(
            [problem_at(file, None, "", "standard.yaml_error", error=error)]
        ) from None
    if root is None:
        raise StandardError([problem_at(file, None, "", "standard.file_empty")])
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
            [problem_at(file, None, "", "standard.unreadable", reason=reason)]
        ) from None
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StandardError([problem_at(file, None, "", "standard.not_utf8")]) from None
    return _parse_text(text, file, path)


class StandardsFolderError(Said, ValueError):
    """Raised when the folder given for the standards is not a folder: a usage error about
    the option that names it."""

    option = "--standards"


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
                problem_at(
                    str(file),
                    None,
                    "id",
                    "standard.same_label",
                    label=standard.label,
                    other=seen[key],
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
        raise StandardError([problem_at(str(path), None, "", "standard.hash_changed")])
    with atomic_open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return load_standard(path)
