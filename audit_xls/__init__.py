"""audit-xls: run inspection standards through Excel."""

__version__ = "0.1.0"


def main() -> None:
    """The `audit-xls` command (the console script's entry point). The CLI is imported here,
    not at the top of the script: each reader process (grading/pool.py, spawned) runs that
    script again as its __main__, and needs none of the CLI (click, the history)."""
    import sys

    if sys.argv[1:2] == ["grade"]:  # its readers boot while the CLI is imported
        from audit_xls.grading.readers import start_early

        start_early(sys.argv[1:])
    from audit_xls.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as stop:
        if sys.gettrace() is not None or sys.getprofile() is not None:
            raise  # under a debugger, cProfile, trace or coverage: their own ending runs
        exit_now(stop.code)


def exit_now(code: object) -> None:
    """End the process as `sys.exit(code)` would, less the interpreter's tear-down: threads
    that are not daemons are waited for, the atexit handlers run (the readers are stopped;
    multiprocessing's and tempfile's clean-ups), stdout and stderr are flushed, then the
    process ends without freeing one by one the objects it held (about 0.1 s after grading
    1,000 returns, for nothing). So what must happen at the end is done by a `with` block or
    an atexit handler, never by a finalizer (`__del__`, an unclosed file's buffer)."""
    import atexit
    import os
    import sys
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as Python does: the text to stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    for thread in threading.enumerate():
        if not thread.daemon and thread is not threading.main_thread():
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # a reader that stopped reading (`| head`): nothing to tell
            pass
        except (OSError, ValueError):  # as Python's own exit does when a flush fails
            status = 120
    os._exit(status)
