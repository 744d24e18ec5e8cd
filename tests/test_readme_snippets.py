"""Every Python and shell snippet in the README and the examples' READMEs runs as written, against the emulator.

Python snippets that declare resources run as a Pulumi program whose reads go through the real
provider server (`ncr_provider.testing`); other Python runs as a script. Shell snippets run line by
line in bash with the installed `ncr-image`, each line's exit status checked: 0, or the N of a
trailing `# exits N` comment. The only edits are the placeholders a reader fills in (`...` keys,
`PORT`), filled with the emulator's URL and keys, `NCR_ENDPOINT` set to the emulator, and
`ncr-image emulator &`, replaced by the emulator this test already runs. A snippet this test cannot run says why, and where it is run instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from ncr_provider.testing import ProviderMocks, ProviderServer, run_program, use_mocks

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
RESOURCE_NAMES = re.compile(r"\b(NcrImage|NcrImageTag|NcrRegistry)\(|\bpulumi\.export\(")
EXPECTED_EXIT = re.compile(r"#.*\bexits? (\d+)\b")

# Snippets run elsewhere, with the reason; a snippet matching none of these must run here.
RUN_ELSEWHERE = [
    (re.compile(r"^\s*(pulumi|kubectl)\b", re.MULTILINE),
     "needs the Pulumi CLI with a stack (or a cluster): tests/test_program.py and the engine tier run these programs"),
    (re.compile(r"\bpip install\b|-m venv\b"),
     "installs packages: .ci/run runs the Quickstart's install and test command, scripts/check-wheel.sh installs the wheel"),
    (re.compile(r"scripts/pulumi-engine\.sh"),
     "builds the Pulumi CLI (minutes, needs Go): .ci/run runs the script where Go is, then requires the engine tier"),
]


@dataclass(frozen=True)
class Snippet:
    source: Path
    line: int
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for source in SOURCES:
        text = source.read_text()
        for match in FENCE.finditer(text):
            language = {"bash": "sh", "shell": "sh", "py": "python"}.get(match.group(1), match.group(1))
            if language in ("python", "sh"):
                line = text.count("\n", 0, match.start()) + 1
                found.append(Snippet(source, line, language, match.group(2)))
    return found


SNIPPETS = snippets()


def test_the_readmes_have_snippets_of_both_kinds():
    assert {s.language for s in SNIPPETS} == {"python", "sh"}
    assert len([s for s in SNIPPETS if s.language == "python"]) >= 4


def elsewhere(snippet: Snippet) -> str | None:
    if snippet.language != "sh":
        return None
    return next((reason for pattern, reason in RUN_ELSEWHERE if pattern.search(snippet.code)), None)


def test_every_snippet_run_elsewhere_really_is():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/check-wheel.sh" in ci and ".venv/bin/pytest" in ci
    assert "scripts/pulumi-engine.sh" in ci and "NCR_REQUIRE_ENGINE=1" in ci
    assert (ROOT / "tests" / "test_program.py").exists()
    # Every Python snippet, and every shell snippet of the gate, runs here.
    assert all(elsewhere(s) is None for s in SNIPPETS if s.language == "python")
    gate = [s for s in SNIPPETS if "ncr-image check" in s.code]
    assert len(gate) >= 2 and all(elsewhere(s) is None for s in gate)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs_as_written(snippet, emulator, tmp_path, clean_ncp_env):
    reason = elsewhere(snippet)
    if reason:
        pytest.skip(reason)
    if snippet.language == "python" and RESOURCE_NAMES.search(snippet.code):
        run_as_program(snippet, emulator, tmp_path)
    elif snippet.language == "python":
        run_as_script(snippet, tmp_path)
    else:
        run_shell(snippet, emulator, tmp_path, clean_ncp_env)


def run_as_program(snippet, emulator, tmp_path):
    # The dynamic provider server configures each provider once per process (as under the engine), so a
    # program against this test's fresh emulator gets a fresh server.
    with ProviderServer() as fresh:
        run_in_server(snippet, emulator, fresh, tmp_path)


def run_in_server(snippet, emulator, server, tmp_path):
    server.configure(emulator.stack_config())
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(snippet.code)
    # The same settings as stack config too: functions (get_image, ...) read them through pulumi.Config.
    config = emulator.stack_config()
    with use_mocks(ProviderMocks(server), project="readme", config=config) as mocks:
        run_program(program)
    assert mocks.reads, f"{snippet.id} declared no read resource"


def run_as_script(snippet, tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, f"{snippet.id}:\n{result.stderr}"


def shell_lines(code: str) -> list[tuple[int, str]]:
    """(offset in the snippet, command) for each command line; `\\` continuations joined."""
    lines, pending, start = [], "", 0
    for offset, raw in enumerate(code.splitlines(), start=1):
        if not pending:
            start = offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        command = (pending + raw).strip()
        pending = ""
        if command and not command.startswith("#"):
            lines.append((start, command))
    return lines


def fill_placeholders(command: str, emulator) -> str:
    if re.fullmatch(r"ncr-image emulator( --port \S+)?\s*&.*", command):
        return ":"  # the emulator this test runs is the one the snippet starts
    command = command.replace("http://127.0.0.1:PORT", emulator.url)
    command = command.replace("NCLOUD_ACCESS_KEY=...", f"NCLOUD_ACCESS_KEY={emulator.access_key}")
    command = command.replace("NCLOUD_SECRET_KEY=...", f"NCLOUD_SECRET_KEY={emulator.secret_key}")
    return command


def run_shell(snippet, emulator, tmp_path, home):
    work = tmp_path / "work"
    work.mkdir()
    # What the snippets name: the pipeline example's list, a stack export, and the examples folder.
    shutil.copy(ROOT / "examples" / "pipeline" / "images.txt", work / "images.txt")
    shutil.copy(ROOT / "tests" / "data" / "stack-export.json", work / "stack.json")
    (work / "examples").symlink_to(ROOT / "examples")
    script = ["set -u"]
    for offset, command in shell_lines(snippet.code):
        expected = EXPECTED_EXIT.search(command)
        want = int(expected.group(1)) if expected else 0
        where = f"{snippet.id} + {offset - 1}"
        script.append(fill_placeholders(command, emulator))
        script.append(f'rc=$?; [ "$rc" -eq {want} ] || {{ echo "{where}: exited $rc, expected {want}" >&2; exit 97; }}')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NCLOUD_", "NCR_"))}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               NCR_ENDPOINT=emulator.url)
    result = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=120,
                            cwd=work, env=env)
    assert result.returncode == 0, textwrap.shorten(result.stderr, 3000) + "\n" + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
