"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    from audit_xls.standards.loader import load_standard

    return load_standard(SHIPPED_STANDARD)


# --- PostgreSQL: the history tests run against both backends ---------------------------------

POSTGRES_ENV = "AUDIT_XLS_TEST_POSTGRES"  # a URL of a server the tests may create databases on
REQUIRE_POSTGRES = "AUDIT_XLS_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """An administrator URL of a PostgreSQL server: $AUDIT_XLS_TEST_POSTGRES (set by .ci/run),
    else a throwaway cluster started here when the server binaries are installed, else None
    (the reason is kept for the skip message)."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _POSTGRES_MISSING.append("psycopg is not installed: pip install -e '.[test]'")
        yield None
        return
    import pgcluster

    if pgcluster.binaries() is None:
        _POSTGRES_MISSING.append(
            "no PostgreSQL server: set AUDIT_XLS_TEST_POSTGRES to a URL, or install the server "
            "(apt-get install postgresql) so the tests start their own"
        )
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="audit-xls-pg-"))
    try:
        environment = pgcluster.start(folder, watch=os.getpid())
    except Exception as exc:  # say why, as a skip (or a failure under AUDIT_XLS_REQUIRE_POSTGRES)
        _POSTGRES_MISSING.append(f"could not start a PostgreSQL cluster: {exc}")
        pgcluster.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
        yield None
        return
    saved = {k: os.environ.get(k) for k in environment}
    os.environ.update(environment)
    try:
        yield environment[POSTGRES_ENV]
    finally:
        pgcluster.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_POSTGRES_MISSING: list[str] = []


def need_postgres(server: str | None) -> str:
    """The server URL, or skip (fail under AUDIT_XLS_REQUIRE_POSTGRES=1) with the reason."""
    if server:
        return server
    reason = _POSTGRES_MISSING[0] if _POSTGRES_MISSING else "no PostgreSQL server"
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(f"{REQUIRE_POSTGRES}=1 but {reason}")
    pytest.skip(reason)


def with_database(server: str, name: str) -> str:
    """`server`'s URL naming database `name` instead."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(server)
    user = info.get("user", "")
    host = info.get("host", "localhost")
    port = info.get("port", "5432")
    base = f"postgresql://{user}@{host}:{port}/{name}"
    extra = {k: v for k, v in info.items() if k not in ("user", "host", "port", "dbname")}
    return base + ("?" + make_conninfo(**extra).replace(" ", "&") if extra else "")


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new empty database on `server` for one test; dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_server: str | None) -> Iterator[str]:
    """A URL of a new empty PostgreSQL database (skips without a server)."""
    with fresh_database(need_postgres(postgres_server)) as url:
        yield url


BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def history_in(request: pytest.FixtureRequest, folder: Path, backend: str) -> Iterator[Path | str]:
    """A new history for `backend` (a SQLite path in `folder`, or a PostgreSQL URL of a new
    empty database); usable from fixtures of any scope (params=BACKENDS)."""
    if backend == "sqlite":
        yield folder / "h.sqlite"
        return
    server = need_postgres(request.getfixturevalue("postgres_server"))
    with fresh_database(server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def history_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """Where a test's history lives, once per backend: a SQLite path, or a PostgreSQL URL of a
    new empty database."""
    if request.param == "sqlite":
        yield tmp_path / "h.sqlite"
        return
    server = need_postgres(request.getfixturevalue("postgres_server"))
    with fresh_database(server) as url:
        yield url
