"""Inputs are sacred: the one rule every command applies to its output paths, before it reads
or writes anything.

An output is refused when it
- is the same file as an input (the returns .zip, the issued register, a standard, the sites
  file, the history), however it is spelled: `os.path.samefile` for files that exist (hard
  links, `..`, case on Windows and macOS), the real path otherwise;
- lies inside an input folder (the returns folder, the standards folder): next month it would be
  read as a return, or it would replace one;
- is a symbolic link: writing (atomically: a temporary file renamed over the path) would replace
  the link by a file, and writing through it would change whatever it points to, perhaps an
  input elsewhere. We refuse rather than guess; name the file itself;
- is the same file as another output of the same run (`--out` and `--csv` one file).

Commands call `check_outputs` and turn `PathPolicyError` into a usage error (exit 2): nothing
is written. Works the same on Windows (`os.path.samefile`, `os.path.normcase`, `os.path.islink`
are portable; a Windows junction is not a symbolic link and is followed as a folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from audit_xls.i18n import Ref, t

Named = tuple[str, "str | Path | None"]  # (the option or argument that names it, the path)


class PathPolicyError(ValueError):
    """An output path that would overwrite or land among the inputs; `text(lang)` says which.
    A usage error: the user chooses another path on the command line."""

    usage = True

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(t(key, "zh", **params))
        self.key = key
        self.params = params

    def text(self, lang: str = "zh") -> str:
        return t(self.key, lang, **self.params)


def _real(path: Path) -> str:
    """The path as the file system resolves it (links, `..`), case-folded where names are."""
    return os.path.normcase(os.path.realpath(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _real(a) == _real(b)


def _inside(path: Path, folder: Path) -> bool:
    real, base = _real(path), _real(folder)
    return real != base and (real.startswith(base.rstrip(os.sep) + os.sep))


def check_outputs(outputs: Iterable[Named], inputs: Iterable[Named]) -> None:
    """PathPolicyError for the first output that breaks the rule (see the module docstring).

    `outputs` and `inputs` are (option, path) pairs; None paths are ignored. An input that is a
    folder protects everything inside it; an input file is protected wherever it is named from.
    """
    outs = [(option, Path(p)) for option, p in outputs if p is not None and str(p) != ""]
    ins = [(option, Path(p)) for option, p in inputs if p is not None and str(p) != ""]
    for option, out in outs:
        if os.path.islink(out):
            raise PathPolicyError(
                "paths.symlink", option=option, output=out, target=os.readlink(out)
            )
        for input_option, source in ins:
            if source.is_dir():
                if _inside(out, source) or _same_file(out, source):
                    raise PathPolicyError(
                        "paths.inside_input",
                        option=option,
                        output=out,
                        input_option=input_option,
                        folder=source,
                    )
            elif _same_file(out, source):
                raise PathPolicyError(
                    "paths.same_as_input",
                    option=option,
                    output=out,
                    input_option=input_option,
                    input=source,
                )
    seen: dict[str, str] = {}  # real path -> the option that names it (linear: build's 10k)
    for option, out in outs:
        other = seen.setdefault(_real(out), option)
        if other is not option:
            raise PathPolicyError("paths.same_output", option=other, other=option, output=out)


class CannotWrite(ValueError):
    """An output that could not be written (an OSError), located and saying what to do;
    `text(lang)` words it (str() in Chinese)."""

    def __init__(self, where: str, key: str, **params: object) -> None:
        self.where, self.key, self.params = where, key, params
        super().__init__(self.text("zh"))

    def text(self, lang: str = "zh") -> str:
        return t("cli.located", lang, where=self.where, message=Ref.to(self.key, **self.params))


def cannot_write(out: str | Path, error: OSError, example: str | None = None) -> CannotWrite:
    """Why `out` could not be written: a folder where a file was meant (`example`: a file name
    to suggest), a file where a folder is, a missing folder, no permission, or the system's
    reason."""
    target = Path(out)
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if example and target.is_dir():
        return CannotWrite(str(out), "cli.out_is_folder", example=target / example)
    if blocker is not None:
        return CannotWrite(str(out), "cli.out_parent_is_file", blocker=blocker)
    if example and not target.parent.is_dir():
        return CannotWrite(str(out), "cli.out_no_folder", folder=target.parent)
    if isinstance(error, PermissionError):
        return CannotWrite(str(out), "cli.out_no_permission")
    return CannotWrite(str(out), "cli.out_cannot_write", reason=error.strerror or error)
