"""The sites (projects) a standard is issued to, read from HQ's CSV or xlsx list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    region: str
    city_company: str = ""
    project_type: str = ""
