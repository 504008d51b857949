"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit_xls.soffice import find_soffice

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_STANDARD = ROOT / "standards" / "kefu-dudao.yaml"


@pytest.fixture(autouse=True)
def _soffice_gate(request: pytest.FixtureRequest) -> None:
    """Tests marked `soffice` skip without LibreOffice, and fail instead when CI demands it."""
    if request.node.get_closest_marker("soffice") is None or find_soffice():
        return
    if os.environ.get("AUDIT_XLS_REQUIRE_SOFFICE") == "1":
        pytest.fail("AUDIT_XLS_REQUIRE_SOFFICE=1 but LibreOffice (soffice) is not installed")
    pytest.skip(
        "LibreOffice (soffice) is not installed: "
        "apt-get install libreoffice-calc-nogui to run the real-application tests"
    )


@pytest.fixture(autouse=True)
def _isolated_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`grade` records into the history by default: keep each test's history its own."""
    path = tmp_path / "history.sqlite"
    monkeypatch.setenv("AUDIT_XLS_HISTORY", str(path))
    return path


@pytest.fixture(scope="session")
def shipped_standard():
    from audit_xls.model.standard import load_standard

    return load_standard(SHIPPED_STANDARD)
