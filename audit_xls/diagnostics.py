"""Diagnostics: every problem found in a returned workbook (or an input file), as data.

The CLI, the JSON output, the summary workbook and the history all render these same objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # ERROR sends the workbook back; WARNING is noted on a graded one
    code: str  # stable machine code, e.g. "answer.invalid_points"
    message: str  # what was found and what to do, in the report language
    file: str = ""
    sheet: str = ""
    cell: str = ""  # A1 name as a person sees it, "" when the problem has no cell

    def location(self) -> str:
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        return " / ".join(parts)

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("file")
        return data
