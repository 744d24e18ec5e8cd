"""The NCP profile file, `~/.ncloud/configure`, in both forms NCP's tools write.

NCP's Python SDK reads flat `key = value` lines with no section header; the `ncloud` CLI writes
INI sections (`[DEFAULT]`, `[staging]`). Both are read here: lines before any header belong to
DEFAULT, section names are case-insensitive, a UTF-8 BOM and CRLF line ends are accepted, and a
value may be quoted. configparser cannot be used: it refuses the flat form outright.

Reading never raises. A file that is broken, unreadable or a directory gives a `ProfileFile`
whose `problem` names the file (and line); the caller raises it only if it needs a value.
No problem text ever contains a line's content, since a line may hold a secret key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECTION = "default"
MAX_PROFILE_BYTES = 1024 * 1024


@dataclass(frozen=True, repr=False)
class ProfileFile:
    """What was read from one profile file: sections of lowercase keys, or why it could not be read."""

    path: str
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    problem: str | None = None
    exists: bool = True

    def section(self, name: str) -> dict[str, str]:
        """One section's keys (no inheritance from DEFAULT: a key pair comes from one place)."""
        return self.sections.get(name.strip().lower(), {})

    def missing_section_note(self, name: str) -> str | None:
        """`Profile file F has no section [nope]; its sections: [default], [staging].` (names only, never
        values), when the file exists and lacks that section; else None."""
        if not self.exists or self.problem or name.strip().lower() in self.sections:
            return None
        names = [n for n, keys in self.sections.items() if keys or n != DEFAULT_SECTION]
        listed = ", ".join(f"[{n[:40]}]" for n in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        return f"Profile file {self.path} has no section [{name.strip()[:40]}]; " + \
            (f"its sections: {listed}." if names else "it has no sections.")

    def __repr__(self) -> str:  # sections may hold a secret key
        return f"ProfileFile({self.path!r}, sections={sorted(self.sections)}, problem={self.problem!r})"


def read_profile_file(path: str | Path) -> ProfileFile:
    """Read and parse the profile file at `path`; a missing file is an empty, problem-free result."""
    shown = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        return ProfileFile(shown, exists=False)
    except IsADirectoryError:
        return ProfileFile(shown, problem=f"Cannot read profile file {shown}: it is a directory")
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        return ProfileFile(shown, problem=f"Cannot read profile file {shown}: {reason}")
    if len(raw) > MAX_PROFILE_BYTES:
        return ProfileFile(shown, problem=f"Cannot read profile file {shown}: it is over {MAX_PROFILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ProfileFile(shown, problem=f"Profile file {shown} line {line}: it is not UTF-8 text")
    sections, problem = parse_profile(text)
    if problem:
        return ProfileFile(shown, problem=f"Profile file {shown} {problem}")
    return ProfileFile(shown, sections)


def parse_profile(text: str) -> tuple[dict[str, dict[str, str]], str | None]:
    """Sections of `text` (flat lines go to `default`), or the first problem as `line N: what`."""
    sections: dict[str, dict[str, str]] = {DEFAULT_SECTION: {}}
    current = sections[DEFAULT_SECTION]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]") or not line[1:-1].strip():
                return {}, f"line {number}: a section header must look like [name]"
            current = sections.setdefault(line[1:-1].strip().lower(), {})
            continue
        key, sep, value = _split_assignment(line)
        if not sep or not key:
            return {}, f"line {number}: expected `key = value`, a [section] header or a # comment"
        key = key.lower()
        if key in current:
            return {}, f"line {number}: {key} is set twice in the same section"
        if _unbalanced(value):
            return {}, f"line {number}: the value of {key} has an unbalanced quote (a quoted value needs one at each end)"
        current[key] = _unquote(value)
    return sections, None


def _split_assignment(line: str) -> tuple[str, str, str]:
    """`key = value` or `key: value`, whichever separator comes first."""
    positions = [i for i in (line.find("="), line.find(":")) if i >= 0]
    if not positions:
        return line, "", ""
    at = min(positions)
    return line[:at].strip(), line[at], line[at + 1:].strip()


def _unbalanced(value: str) -> bool:
    """A value that starts or ends with a quote without the same quote at its other end."""
    ends = {value[:1], value[-1:]} & {'"', "'"}
    return bool(ends) and (len(value) < 2 or value[0] != value[-1])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value
