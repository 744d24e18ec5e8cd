"""Run the real Pulumi CLI against the NCR emulator: a local file backend, a passphrase, nothing from the network.

The Python language host cannot be built here (the Go module proxy refuses its module), so programs run as
Automation API *inline* programs: the CLI gets the address of a language runtime served by this test
process, and starts only the plugins the stack needs, `pulumi-resource-pulumi-python` (our dynamic
providers, in `python -m pulumi.dynamic`) and, for `--policy-pack`, `pulumi-analyzer-policy-python`.
Both are the scripts `scripts/pulumi-engine.sh` writes next to the CLI; a normally installed CLI ships
its own.

Every CLI call has a deadline (`EngineCommand.timeout`); its arguments, output and exit code are kept in
`EngineCommand.transcript`, so a test can grep all the CLI ever printed.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import runpy
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult, OnOutput, create_command_error
from semver import VersionInfo

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "engine-tests-passphrase"
COMMAND_TIMEOUT = 180.0
"""Seconds any one CLI command may take before it is killed (a cold preview takes a few seconds)."""
INLINE_REFRESH_CLI = VersionInfo(3, 181, 0)
"""The oldest CLI whose refresh and destroy the Automation API runs for an inline program (`--client`): it refuses
older ones, so with them the harness runs `pulumi refresh` / `pulumi destroy` itself, which need no program."""
PACK_AS_EXECUTABLE_CLI = VersionInfo(3, 221, 0)
"""From here the CLI runs a pack folder through the language host (absent here); older ones start
`pulumi-analyzer-policy-python` from PATH for it (CLI 3.139.0 does, with `<engine address> .` in the pack folder)."""


def default_engine_bin() -> Path:
    """Where `scripts/pulumi-engine.sh` builds the CLI when PULUMI_ENGINE_DIR is not set."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ncr-provider" / "pulumi-engine" / "bin"


def find_engine_bin() -> Path | None:
    """The folder holding the `pulumi` the tier runs: the script's build if it exists, else a `pulumi` on PATH."""
    candidates = [os.environ.get("NCR_PULUMI_ENGINE_BIN")]
    if os.environ.get("PULUMI_ENGINE_DIR"):
        candidates.append(os.path.join(os.environ["PULUMI_ENGINE_DIR"], "bin"))
    candidates.append(str(default_engine_bin()))
    on_path = shutil.which("pulumi")
    candidates.append(os.path.dirname(on_path) if on_path else None)
    for candidate in candidates:
        if candidate and os.access(os.path.join(candidate, "pulumi"), os.X_OK):
            return Path(candidate)
    return None


@dataclasses.dataclass
class Run:
    """One CLI command as it ran."""

    args: list[str]
    code: int | None
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr


class EngineCommand(auto.PulumiCommand):
    """The CLI in `bin_dir`, with a deadline on every command and a transcript of all it printed."""

    def __init__(self, bin_dir: Path, timeout: float = COMMAND_TIMEOUT):
        # PulumiCommand runs <root>/bin/pulumi and checks its version (which is why the build stamps one).
        super().__init__(root=str(bin_dir.parent))
        self.bin_dir = bin_dir
        self.timeout = timeout
        self.transcript: list[Run] = []
        self._lock = threading.Lock()

    def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
            on_output: OnOutput | None = None, on_error: OnOutput | None = None) -> CommandResult:
        """Run one command as PulumiCommand.run does, but kill it (and say so) past the deadline."""
        if "--non-interactive" not in args:
            args = ["--non-interactive", *args]
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        # The CLI runs in its own process group, so a timeout also ends the plugins it started.
        process = subprocess.Popen([self.command, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
                                   start_new_session=True)
        chunks: dict[str, list[str]] = {"out": [], "err": []}

        def pump(stream, callback, lines: list[str]) -> None:
            for line in iter(stream.readline, ""):
                lines.append(line.rstrip("\n"))
                if callback:
                    callback(line.rstrip())
            stream.close()

        pumps = [threading.Thread(target=pump, args=(process.stdout, on_output, chunks["out"]), daemon=True),
                 threading.Thread(target=pump, args=(process.stderr, on_error, chunks["err"]), daemon=True)]
        for thread in pumps:
            thread.start()
        try:
            code: int | None = process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            code = None
        for thread in pumps:
            thread.join(timeout=10)
        run = Run(list(args), code, "\n".join(chunks["out"]), "\n".join(chunks["err"]))
        with self._lock:
            self.transcript.append(run)
        if code is None:
            raise TimeoutError(f"`pulumi {' '.join(args)}` did not finish within {self.timeout:g}s:\n{run.output[-3000:]}")
        result = CommandResult(stdout=run.stdout, stderr=run.stderr, code=code)
        if code != 0:
            raise create_command_error(result)
        return result

    def all_output(self, but_show_secrets: bool = False) -> str:
        """Everything every command printed so far, stdout and stderr; optionally not what `--show-secrets` asked for."""
        with self._lock:
            return "\n".join(run.output for run in self.transcript
                             if not (but_show_secrets and "--show-secrets" in run.args))


def program_from(path: Path) -> Callable[[], None]:
    """An inline program that runs a program folder's __main__.py, as the language host would run it."""
    def program() -> None:
        runpy.run_path(str(path), run_name="__main__")
    return program


class EngineStack:
    """One stack of one project in its own folder, backend and PULUMI_HOME, run by the real CLI."""

    def __init__(self, bin_dir: Path, base: Path, *, project: str, program: Callable[[], None],
                 stack: str = "dev", project_yaml: str | None = None, env: Mapping[str, str] | None = None):
        self.base = base
        self.work_dir = base / "project"
        self.backend = base / "backend"
        self.home = base / "pulumi-home"
        for folder in (self.work_dir, self.backend, self.home):
            folder.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "Pulumi.yaml").write_text(project_yaml or f"name: {project}\nruntime: python\n")
        self.env = {
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Inline programs leave PULUMI_RUNTIME_VIRTUALENV unset: the plugin scripts run this interpreter.
            "PULUMI_PYTHON_CMD": sys.executable,
            **(env or {}),
        }
        self.command = EngineCommand(bin_dir)
        self.stack_name = stack
        self.stack = auto.create_or_select_stack(
            stack_name=stack, project_name=project, program=program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(self.work_dir), pulumi_home=str(self.home),
                                            env_vars=self.env, pulumi_command=self.command))

    def policy_pack(self, pack_dir: Path) -> str:
        """What to pass to `--policy-pack` for a Python pack folder with this CLI.

        With Pulumi's Python language host (a normal install) that is the folder itself. Without it, CLI
        3.274 can still launch a pack given as an executable file, with the engine address as its only
        argument: a folder of links to the pack's files plus a link to `pulumi-analyzer-policy-python`,
        which then serves the pack of the folder it sits in. The pack's own files run either way.
        """
        if shutil.which("pulumi-language-python", path=str(self.command.bin_dir)) or shutil.which("pulumi-language-python"):
            return str(pack_dir)
        if self.cli_version < PACK_AS_EXECUTABLE_CLI:
            return str(pack_dir)  # such a CLI starts the launcher from PATH itself, in the pack folder
        mirror = self.base / f"policy-pack-{pack_dir.name}"
        mirror.mkdir(exist_ok=True)
        for source in pack_dir.iterdir():
            if source.name != "__pycache__" and not (mirror / source.name).exists():
                (mirror / source.name).symlink_to(source)
        launcher = mirror / "analyzer"
        if not launcher.exists():
            launcher.symlink_to(self.command.bin_dir / "pulumi-analyzer-policy-python")
        return str(launcher)

    @property
    def cli_version(self) -> VersionInfo:
        """The version `pulumi version` reported when the Automation API checked it."""
        assert self.command.version is not None, "PulumiCommand checks the CLI's version on creation"
        return self.command.version

    def refresh(self) -> auto.UpdateSummary:
        """`refresh` of this stack; its summary. Through the Automation API where the CLI allows it for inline
        programs (3.181 on), else as the user types it (an older CLI's refresh does not run the program)."""
        if self.cli_version >= INLINE_REFRESH_CLI:
            return self.stack.refresh().summary
        self.cli("refresh", "--yes", "--skip-preview")
        return self.stack.history(page_size=1)[0]

    def destroy(self) -> auto.UpdateSummary:
        """`destroy` of this stack; its summary. As `refresh`: the Automation API from CLI 3.181, else the CLI."""
        if self.cli_version >= INLINE_REFRESH_CLI:
            return self.stack.destroy().summary
        self.cli("destroy", "--yes", "--skip-preview")
        return self.stack.history(page_size=1)[0]

    def cli(self, *args: str, check: bool = True) -> Run:
        """A plain `pulumi ...` in the project folder on this stack, as a user types it (not through the API)."""
        try:
            self.command.run([*args, "--stack", self.stack_name], str(self.work_dir), self.env)
        except auto.CommandError:
            if check:
                raise
        return self.command.transcript[-1]

    def config_set(self, key: str, value: str, *, secret: bool = False) -> Run:
        """`pulumi config set [--secret] KEY VALUE`, exactly as the README tells users."""
        return self.cli("config", "set", *(["--secret"] if secret else []), key, value)

    def use_emulator(self, emu: Any, *, endpoint: bool = True) -> None:
        """The README's `pulumi config set` lines for the emulator's keys (the secret one with --secret), and
        `ncr:endpoint` unless `endpoint=False` (a pack that takes its endpoint from its own policy config)."""
        self.config_set("ncloud:accessKey", emu.access_key)
        self.config_set("ncloud:secretKey", emu.secret_key, secret=True)
        if endpoint:
            self.config_set("ncr:endpoint", emu.url)

    def export(self) -> dict[str, Any]:
        """`pulumi stack export` as a document."""
        return json.loads(self.cli("stack", "export").stdout)

    def resources(self, type_: str | None = None) -> list[dict[str, Any]]:
        """The resources in the exported state, optionally of one type."""
        deployment = self.export()["deployment"]
        return [r for r in deployment.get("resources") or [] if type_ is None or r["type"] == type_]

    def files_text(self) -> Iterable[tuple[Path, str]]:
        """(path, text) of every file the CLI wrote: backend, PULUMI_HOME and the project folder."""
        for folder in (self.backend, self.home, self.work_dir):
            for path in folder.rglob("*"):
                if path.is_file():
                    yield path, path.read_bytes().decode("utf-8", "replace")

    def close(self) -> None:
        """Forget the stack's resources (reads only: nothing to delete in NCR) and its files."""
        try:
            self.stack.workspace.remove_stack(self.stack_name, force=True)
        except auto.CommandError:
            pass
        # An older CLI (3.139) ends a failed update without waiting for the inline program, whose coroutine is then
        # left unfinished. Finalize such leftovers here: the garbage collector would otherwise close them at any
        # later moment, e.g. inside an import's ast.parse, which Python 3.11.7 then fails with "SystemError: AST
        # constructor recursion depth mismatch" (python/cpython#106905).
        gc.collect()
