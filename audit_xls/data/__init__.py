"""What ships inside the package: workbook templates, the shipped standards, the sample sites.

The top-level `templates/`, `standards/` and `samples/` folders of the checkout are mapped into
this package when a wheel is built (pyproject.toml), so an installed tool finds them here; in a
source checkout (an editable install) they are read where they stand.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parent.parent


def _folder(name: str) -> Path:
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _CHECKOUT / name


def templates_folder() -> Path:
    return _folder("templates")


def standards_folder() -> Path:
    return _folder("standards")


def shipped_standard(name: str = "kefu-dudao.yaml") -> Path:
    return standards_folder() / name


def sample_sites() -> Path:
    return _folder("samples") / "sites.csv"
