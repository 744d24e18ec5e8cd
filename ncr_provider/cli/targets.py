"""Where the images to check come from: command-line REFs and `--from-file` lists, each parsed before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from ..errors import InvalidNameError
from ..names import ImageRef, parse_reference
from .common import UsageError


@dataclass(frozen=True)
class Target:
    """One image reference as written, what it names, and where it was written."""

    text: str
    ref: ImageRef
    origin: str
    """Human text: `argument`, `images.txt:3`, `stack.json: web (kubernetes:apps/v1:Deployment) inputs.spec...`."""
    file: str | None = None
    line: int | None = None


def from_arguments(texts: Iterable[str]) -> tuple[list[Target], list[str]]:
    """Targets from REF arguments, and one sentence per rejected one."""
    targets, problems = [], []
    for text in texts:
        try:
            targets.append(Target(text, parse_reference(text), "argument"))
        except InvalidNameError as exc:
            problems.append(str(exc))
    return targets, problems


def from_lines(lines: Iterable[str], name: str, file: str | None = None) -> tuple[list[Target], list[str]]:
    """Targets from one REF a line; blank lines and `#` comments (whole-line or trailing) skipped."""
    targets, problems = [], []
    for number, raw in enumerate(lines, start=1):
        # A name can hold neither '#' nor whitespace, so cutting at the first '#' never cuts a name.
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            targets.append(Target(text, parse_reference(text), f"{name}:{number}", file=file, line=number))
        except InvalidNameError as exc:
            problems.append(f"{name}:{number}: {exc}")
    return targets, problems


def from_file(path: str, stdin: IO[str]) -> tuple[list[Target], list[str]]:
    """Targets from `--from-file PATH` (`-` reads stdin)."""
    if path == "-":
        return from_lines(stdin, "stdin")
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --from-file {path}: {describe_os_error(exc)}") from None
    return from_lines(lines, path, file=path)


def describe_os_error(exc: Exception) -> str:
    """`No such file or directory` rather than `[Errno 2] No such file or directory: 'x'`."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return type(exc).__name__
