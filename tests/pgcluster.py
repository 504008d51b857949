"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, started on a
local port, password authentication over TCP (so the libpq password paths are real).

Used by .ci/run (`python tests/pgcluster.py start DIR` prints `export ...` lines for the shell,
`stop DIR` stops it) and by tests/conftest.py when no AUDIT_XLS_TEST_POSTGRES URL is given
and the server binaries are installed. initdb refuses to run as root: as root, the cluster
runs as the user `postgres` (created by Debian's package) or `nobody`.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "audit"  # the cluster's superuser


def binaries() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _run_as() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None  # not root (or Windows): run it as ourselves
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no user 'postgres' or 'nobody' to run PostgreSQL")


def _command(args: list[str], user: str | None) -> list[str]:
    if user is None:
        return args
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *args]
    return ["su", user, "-s", "/bin/sh", "-c", " ".join(args)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(folder: Path, watch: int | None = None) -> dict[str, str]:
    """Create and start a cluster in `folder`; the environment the tests need. With `watch`
    (a process id), a watchdog stops the cluster and removes `folder` once that process is
    gone, however it ended (a test run killed by a timeout leaves no server behind)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    folder.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    data, socket_dir = folder / "data", folder / "socket"
    socket_dir.mkdir(exist_ok=True)
    password = secrets.token_hex(12)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        for path in (folder, socket_dir, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    log = folder / "server.log"
    subprocess.run(
        _command(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            user,
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pwfile.unlink()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    if user is not None:
        log.touch()
        os.chown(log, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        _command(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
             "start"],
            user,
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    if watch is not None and os.name == "posix":
        stop_command = " ".join(
            _command([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)
        )
        subprocess.Popen(
            ["sh", "-c", f"while kill -0 {watch} 2>/dev/null; do sleep 3; done; "
             f"{stop_command} >/dev/null 2>&1; rm -rf '{folder}'"],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    return {
        "AUDIT_XLS_TEST_POSTGRES": f"postgresql://{USER}@127.0.0.1:{port}/postgres",
        "PGPASSWORD": password,
    }


def stop(folder: Path) -> None:
    bin_dir = binaries()
    data = folder / "data"
    if bin_dir is None or not data.exists():
        return
    subprocess.run(
        _command([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], _run_as()),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: pgcluster.py start|stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1]).resolve()
    if argv[0] == "stop":
        stop(folder)
        return 0
    for name, value in start(folder).items():
        print(f"export {name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
