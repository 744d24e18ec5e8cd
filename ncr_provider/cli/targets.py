"""Where the images to check come from: command-line REFs and `--from-file` lists, each parsed before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from ..errors import ConfigurationError, InvalidNameError, NcrError, UnmappedReferenceError
from ..names import ImageRef, parse_reference
from .common import UsageError

if TYPE_CHECKING:
    from ..lookup import ImageLookup


@dataclass(frozen=True)
class Target:
    """One image reference as written, what it names, and where it was written."""

    text: str
    ref: ImageRef | None
    """None when the text could not be read as a reference (then `error` says why)."""
    origin: str
    """Human text: `argument`, `images.txt:3`, `stack.json: web (kubernetes:apps/v1:Deployment) inputs.spec...`."""
    file: str | None = None
    line: int | None = None
    error: NcrError | None = None
    """Why a reference found in a stack cannot be looked up: it is reported, never skipped."""
    in_stack: bool = False
    """Found in a stack export (the deployment's text) rather than typed in a REF or a file."""
    resource: str | None = None
    """In a stack export: the URN of the resource that holds the reference (`file` is the export)."""
    path: str | None = None
    """In a stack export: where in that resource, e.g. `inputs.spec.template.spec.containers[0].image`."""


def from_arguments(texts: Iterable[str]) -> tuple[list[Target], list[str]]:
    """Targets from REF arguments, and one sentence per rejected one."""
    targets, problems = [], []
    for text in texts:
        try:
            targets.append(Target(text, parse_reference(text), "argument"))
        except InvalidNameError as exc:
            problems.append(str(exc))
    return targets, problems


MAX_PROBLEMS_SHOWN = 20
"""Problems printed one a line; past this, a count (a 50 MB file of bad lines must not print millions)."""
MAX_LINE_CHARS = 4096
"""A longer line is no reference (names are at most ~400 characters): reported, never held whole."""
MAX_DISTINCT_REFERENCES = 20_000
"""Distinct references one run will look up; each is an API call, and each is held in memory."""


class Problems:
    """Collects usage problems: keeps the first MAX_PROBLEMS_SHOWN sentences and counts the rest."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_PROBLEMS_SHOWN:
            self.shown.append(message)

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(message)

    def __bool__(self) -> bool:
        return self.count > 0

    def messages(self) -> list[str]:
        """The sentences to print: the first ones and, past the cap, how many more there were."""
        more = self.count - len(self.shown)
        return self.shown + ([f"... and {more} more problem{'s' if more != 1 else ''} not shown"] if more else [])


def from_lines(lines: Iterable[str], name: str, file: str | None = None,
               problems: Problems | None = None) -> tuple[list[Target], list[str]]:
    """Targets from one REF a line; blank lines and `#` comments (whole-line or trailing) skipped.

    Streams: each line is parsed and dropped, a repeated line is kept once (at its first line
    number), so memory grows with the distinct references, not with the input.
    """
    own = problems is None
    collected = Problems() if problems is None else problems
    targets: dict[str, Target] = {}
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix("\ufeff")  # a UTF-8 BOM from stdin (files are opened as utf-8-sig)
        if len(raw) > MAX_LINE_CHARS:
            collected.add(f"{name}:{number}: the line is over {MAX_LINE_CHARS} characters long; no reference is")
            continue
        # A name can hold neither '#' nor whitespace, so cutting at the first '#' never cuts a name.
        text = raw.split("#", 1)[0].strip()
        if not text or text in targets:
            continue
        try:
            targets[text] = Target(text, parse_reference(text), f"{name}:{number}", file=file, line=number)
        except InvalidNameError as exc:
            collected.add(f"{name}:{number}: {exc}")
            continue
        if len(targets) > MAX_DISTINCT_REFERENCES:
            raise UsageError(f"{name}: more than {MAX_DISTINCT_REFERENCES} distinct references (at line {number}); "
                             "split the list and check it in parts")
    return list(targets.values()), (collected.messages() if own else [])


def bounded_lines(fh: IO[str]) -> Iterator[str]:
    """The lines of a text stream, none read whole past MAX_LINE_CHARS (the rest of a long line is skipped)."""
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            while True:  # drain the rest of this line without holding it
                rest = fh.readline(64 * 1024)
                if not rest or rest.endswith("\n"):
                    break
        yield line


def from_file(path: str, stdin: IO[str], problems: Problems | None = None) -> tuple[list[Target], list[str]]:
    """Targets from `--from-file PATH` (`-` reads stdin); a file with no reference at all is a usage error."""
    name = "stdin" if path == "-" else path
    before = problems.count if problems is not None else 0
    try:
        if path == "-":
            targets, bad = from_lines(bounded_lines(stdin), "stdin", problems=problems)
        else:
            with open(path, encoding="utf-8-sig") as fh:
                targets, bad = from_lines(bounded_lines(fh), path, file=path, problems=problems)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --from-file {name}: {describe_os_error(exc)}") from None
    if not targets and not bad and (problems is None or problems.count == before):
        raise UsageError(f"--from-file {name} names no image: it is empty or only blank lines and comments")
    return targets, bad


def describe_os_error(exc: Exception) -> str:
    """`No such file or directory` rather than `[Errno 2] No such file or directory: 'x'`."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return type(exc).__name__


def check_places(lookup: ImageLookup, targets: Sequence[Target]) -> tuple[list[Target], list[tuple[Target, NcrError]]]:
    """Split targets into those that can be looked up and (target, error) pairs that cannot.

    A site or region NCR does not have is bad usage when typed (a REF, a file line) and an
    unplaceable reference when a stack holds it (an NcrImage may carry any text). Nothing is sent.
    """
    placeable, unplaced, problems = [], [], []
    for target in targets:
        if target.error is not None or target.ref is None:
            # A target without a reference always carries why (stack_export sets it); name it all the same.
            unplaced.append((target, target.error or InvalidNameError("reference", target.text, "it could not be read")))
            continue
        try:
            lookup.place(target.ref)
        except UnmappedReferenceError as exc:
            unplaced.append((target, exc))
        except ConfigurationError as exc:
            if target.in_stack:
                unplaced.append((target, exc))
            else:
                problems.append(f"{target.origin}: {target.text}: {exc}")
        else:
            placeable.append(target)
    if problems:
        raise UsageError(*problems)
    return placeable, unplaced
