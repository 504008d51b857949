"""Workbook templates: the labels and look of an inspection workbook, from templates/*.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

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


@cache
def load_template(name: str = DEFAULT_TEMPLATE) -> Template:
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise TemplateError("template.unknown", name=name, names=template_names())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    count = NOTICE_COLUMN_COUNT if name.startswith("notice/") else COLUMN_COUNT
    if len(data.get("columns", [])) != count:
        raise TemplateError("template.columns", path=path, count=count)
    return Template(name, data)
