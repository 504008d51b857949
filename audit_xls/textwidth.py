"""How much room text takes in a cell, for row heights (no spreadsheet writer autofits rows).

One estimate for every workbook audit-xls writes: the issued workbook (build.py) and HQ's
summary and monthly workbooks (outputs/xlsx.py).
"""

from __future__ import annotations

import math
import unicodedata

# A CJK or full-width character of 10 pt 宋体/等线 is about 1.5 column units wide as Excel and
# LibreOffice print it (measured on the issued checklist's PDF: about 38 characters in 58
# units); 1.6 keeps a little margin, so a row is never cut and never much taller than its text.
WIDE = 1.6


def display_width(text: str) -> float:
    """Width in Excel column units of 10 pt text: CJK and full-width characters take WIDE."""
    return sum(WIDE if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in text)


def line_count(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` units needs to show `text` (a rough, safe estimate)."""
    usable = max(width - 1.5, 1.0)  # cell padding eats about a character
    return sum(max(1, math.ceil(display_width(p) / usable)) for p in text.split("\n"))
