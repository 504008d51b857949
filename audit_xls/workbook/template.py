"""Workbook templates: the labels and look of an inspection workbook, from templates/*.yaml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from audit_xls import data
from audit_xls.i18n import Said

TEMPLATES_DIR = data.templates_folder()
DEFAULT_TEMPLATE = "zh"
COLUMN_COUNT = 11  # the checklist's columns, layout.Col
NOTICE_COLUMN_COUNT = 12  # the 整改事项 columns of templates/notice/*.yaml (rectify)


class TemplateError(Said, ValueError):
    """Raised when a template name is unknown or its file is incomplete."""


@dataclass(frozen=True)
class Template:
    name: str
    data: dict[str, Any]

    @property
    def sheets(self) -> dict[str, str]:
        return self.data["sheets"]

    @property
    def columns(self) -> list[str]:
        return self.data["columns"]

    @property
    def results(self) -> dict[str, str]:
        """Canonical result (pass/fail/na) -> the label a supervisor picks."""
        return self.data["results"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def template_names() -> list[str]:
    return sorted(
        p.name[: -len(".yaml")] for p in TEMPLATES_DIR.iterdir() if p.name.endswith(".yaml")
    )


# templates parsed by another process and handed over (adopt)
_ADOPTED: dict[str, Template] = {}


def adopt(templates: Iterable[Template]) -> None:
    """Templates parsed by another process: load_template gives them rather than reading their
    files (grade's reader processes get the grading process's, and import no YAML parser)."""
    for template in templates:
        _ADOPTED.setdefault(template.name, template)


@cache
def load_template(name: str = DEFAULT_TEMPLATE) -> Template:
    adopted = _ADOPTED.get(name)
    if adopted is not None:
        return adopted
    import yaml  # here, not at the top: a process given its templates never imports it

    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise TemplateError("template.unknown", name=name, names=template_names())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    count = NOTICE_COLUMN_COUNT if name.startswith("notice/") else COLUMN_COUNT
    if len(data.get("columns", [])) != count:
        raise TemplateError("template.columns", path=path, count=count)
    return Template(name, data)
