"""What every benchmark shares: sizes, the result row, timing, the seeded emulator and running `ncr-image`."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from ncr_provider.config import ENV_VARS, SITES
from ncr_provider.emulator import NcrEmulator
from ncr_provider.signing import NcpSignatureAuth
from ncr_provider.testing import ProviderServer

REGISTRY = "bench"
LATENCY = 0.020  # the injected API latency of figures 2, 3 and 7 (issue 6)
CLI_CONCURRENCY = 16
PROVIDER_WORKERS = 4  # pulumi.dynamic's server answers on a pool of 4 threads

# Variables that would point the CLI elsewhere than the emulator we give it.
_NCP_ENV = ENV_VARS


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each figure does: `full` is what the targets speak of, `quick` and `tiny` are smaller."""

    name: str
    overhead_reads: int  # sequential reads per repeat, figure 1
    overhead_repeats: int
    concurrent_reads: int  # figure 2 (200 in the issue)
    concurrent_repeats: int
    check_images: int  # figure 3 (1000 in the issue)
    check_repeats: int
    sequential_gets: int  # the sequential loop of figure 3 is timed on this many GETs and scaled
    sequential_repeats: int
    connection_reads: int  # figure 4 (1000 in the issue)
    startup_runs: int  # figure 6, runs of each command
    memory_images: int  # figure 7 (1000 in the issue)
    from_file_mb: int = 50  # figure 8: megabytes of --from-file lines (50 in issue 12)
    engine_reads: int = 100  # figure 11: NcrImage reads in one `pulumi preview` (100 in the issue)
    engine_repeats: int = 3


FULL = Sizes("full", overhead_reads=200, overhead_repeats=7, concurrent_reads=200, concurrent_repeats=9,
             check_images=1000, check_repeats=5, sequential_gets=200, sequential_repeats=3,
             connection_reads=1000, startup_runs=15, memory_images=1000)
QUICK = Sizes("quick", overhead_reads=100, overhead_repeats=5, concurrent_reads=200, concurrent_repeats=3,
              check_images=1000, check_repeats=1, sequential_gets=100, sequential_repeats=1,
              connection_reads=400, startup_runs=9, memory_images=1000, engine_repeats=2)
# For the smoke test: every code path, no meaningful numbers.
TINY = Sizes("tiny", overhead_reads=10, overhead_repeats=1, concurrent_reads=32, concurrent_repeats=1,
             check_images=40, check_repeats=1, sequential_gets=10, sequential_repeats=1,
             connection_reads=40, startup_runs=2, memory_images=40, from_file_mb=1,
             engine_reads=10, engine_repeats=1)


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its target, what was measured, whether the target holds, raw numbers."""

    name: str
    target: str
    measured: str
    met: bool
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)


def add_size_options(parser: argparse.ArgumentParser) -> None:
    """`--quick` / `--tiny`, shared by run.py and every bench_*.py."""
    parser.add_argument("--quick", action="store_true", help="smaller sizes: the whole run in under a minute")
    parser.add_argument("--tiny", action="store_true",
                        help="smallest sizes, for the smoke test; overrides --quick (the numbers mean little)")


def sizes_from(args: argparse.Namespace) -> Sizes:
    return TINY if args.tiny else QUICK if args.quick else FULL


def parse_sizes(argv: Sequence[str] | None = None, description: str | None = None) -> Sizes:
    """The sizes a bench_*.py run alone was asked for."""
    parser = argparse.ArgumentParser(description=description)
    add_size_options(parser)
    return sizes_from(parser.parse_args(argv))


def run_alone(run: Callable[[Sizes], Sequence[Row]], description: str | None) -> None:
    """A bench module run alone: its sizes from the command line, then its rows and their raw numbers."""
    for row in run(parse_sizes(description=description)):
        print(f"{row.name}: {row.measured} (target {row.target}) -> {'met' if row.met else 'MISSED'}")
        print(f"  raw: {json.dumps(row.raw, sort_keys=True)}")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call takes, on the monotonic high-resolution clock."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def process_cpu() -> float:
    """User + system CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def task_cpu(pid: int) -> float | None:
    """CPU seconds another process has run so far, every thread, to the nanosecond (Linux's per-task
    schedstat); None where /proc does not say."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        total = 0
        for task in tasks:
            with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
                with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                    total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def ms(seconds: float) -> str:
    """Milliseconds with three significant digits or so: 0.78 ms, 41.8 ms, 1770 ms."""
    value = seconds * 1000
    return f"{value:.2f} ms" if abs(value) < 10 else f"{value:.1f} ms" if abs(value) < 100 else f"{value:.0f} ms"


# -- the emulator ---------------------------------------------------------------------------

def image_name(i: int) -> str:
    return f"team/img-{i:05d}"


def image_ref(i: int) -> str:
    return f"{REGISTRY}/{image_name(i)}"


def image_url(emu: NcrEmulator, i: int) -> str:
    """The v2 API URL of seeded image `i` in the CLI's default region (KR), as the CLI fetches it."""
    return f"{emu.url}{SITES['public'].prefixes['KR']}/repositories/{REGISTRY}/{quote(image_name(i), safe='')}"


def sequential_per_get(emu: NcrEmulator, gets: int) -> float:
    """Mean seconds per GET of the naive baseline: one signed `requests` GET after another, one keep-alive session."""
    auth = NcpSignatureAuth(emu.access_key, emu.secret_key)
    urls = [image_url(emu, i) for i in range(gets)]  # the URLs the CLI fetches
    with requests.Session() as session:
        session.get(urls[0], auth=auth).raise_for_status()  # connect outside the clock, as the CLI's pool warms too

        def loop() -> None:
            for url in urls:
                session.get(url, auth=auth).raise_for_status()

        return timed(loop) / gets


def read_inputs(i: int) -> tuple[str, dict[str, str]]:
    """The id and the inputs of a Read of seeded image `i`, as the engine sends them."""
    return image_ref(i), {"registry": REGISTRY, "image_name": image_name(i)}


@contextlib.contextmanager
def seeded_emulator(images: int) -> Iterator[NcrEmulator]:
    """An emulator holding `images` distinct immutable images in registry `bench`, no latency yet."""
    with NcrEmulator() as emu:
        for i in range(images):
            emu.add_image(REGISTRY, image_name(i), tag_mutability_enabled=False, description=f"bench image {i}")
        yield emu


def server_env() -> dict[str, str]:
    """The provider server must import noop_provider by reference, as the engine's server imports our provider."""
    paths = [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


@contextlib.contextmanager
def provider_server(emu: NcrEmulator) -> Iterator[ProviderServer]:
    """Our provider's gRPC server (`python -m pulumi.dynamic`, as the engine runs it), configured as the engine would
    for this emulator, and able to import noop_provider for the canned side of a comparison."""
    with ProviderServer(env=server_env()) as server:
        server.configure(emu.stack_config())
        yield server


# -- the CLI --------------------------------------------------------------------------------

def cli_command() -> list[str]:
    """`ncr-image` as installed next to this interpreter (what a user runs), else `python -m ncr_provider.cli`."""
    script = Path(sys.executable).with_name("ncr-image")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ncr_provider.cli"]


def cli_env(emu: NcrEmulator | None = None) -> dict[str, str]:
    """The environment for `ncr-image`: this one, minus NCP settings, plus the emulator's keys."""
    env = {k: v for k, v in os.environ.items() if k not in _NCP_ENV}
    if emu is not None:
        env.update(NCLOUD_ACCESS_KEY=emu.access_key, NCLOUD_SECRET_KEY=emu.secret_key)
    return env


# A small launcher for peak-memory runs. A child's ru_maxrss starts at the RSS of the process that spawned it
# (Linux carries the pre-exec high-water mark over exec), so spawning the CLI from this benchmark process, with
# pulumi and grpc loaded, would report our size, not the CLI's. Bare python stays far below the CLI's peak.
_LAUNCHER = """import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nncr-bench-maxrss-kib={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""
_MAXRSS_MARK = "ncr-bench-maxrss-kib="


@dataclasses.dataclass(frozen=True)
class CheckRun:
    """One `ncr-image check` subprocess: wall time, its phases from the emulator's log, CPU, peak memory, summary."""

    wall: float
    startup: float  # from spawning to the first signed request: interpreter, imports, parsing, settings
    lookups: float  # from the first signed request to the last one's answer (its signing time + the latency)
    cpu: float  # user + system seconds of the CLI process
    max_rss_kib: int | None  # measured only with memory=True
    summary: dict[str, Any]
    connections: int

    @property
    def after_startup(self) -> float:
        return self.wall - self.startup


def run_check(emu: NcrEmulator, images: int, concurrency: int = CLI_CONCURRENCY, *, memory: bool = False) -> CheckRun:
    """Run `ncr-image check` of the first `images` images end to end; fail loudly unless every one passed.

    With memory=True the CLI runs under the small launcher above, which costs its start-up on the wall time.
    """
    with tempfile.TemporaryDirectory(prefix="ncr-bench-") as tmp:
        refs = Path(tmp, "refs.txt")
        refs.write_text("".join(image_ref(i) + "\n" for i in range(images)))
        command = [*cli_command(), "check", "--from-file", str(refs), "--concurrency", str(concurrency),
                   "--output", "json", "--endpoint", emu.url]
        if memory:
            command = [sys.executable, "-c", _LAUNCHER, *command]
        emu.clear_requests()
        connections_before = emu.connections
        # stdout to a file: 1000 images of JSON would fill a pipe nobody reads until the process ends.
        with open(Path(tmp, "out.json"), "w+b") as out, open(Path(tmp, "err.txt"), "w+b") as err:
            spawned_ms = time.time() * 1000
            started = time.perf_counter()
            process = subprocess.Popen(command, env=cli_env(emu), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            # wait4 gives this child's own rusage (CPU); RUSAGE_CHILDREN would add up every child so far.
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"ncr-image check exited {process.returncode}: {stderr[-2000:]}")
    summary = json.loads(stdout)["summary"]
    if summary["passed"] != images:
        raise RuntimeError(f"ncr-image check passed {summary['passed']} of {images} images: {summary}")
    max_rss = None
    if memory:
        max_rss = int(stderr.rpartition(_MAXRSS_MARK)[2].split()[0])
    # The signature timestamp is the CLI's own wall clock when it signed: the first one ends its start-up.
    signed_ms = [int(r.timestamp) for r in emu.requests if r.timestamp]
    startup = max(0.0, (min(signed_ms) - spawned_ms) / 1000)
    lookups = (max(signed_ms) - min(signed_ms)) / 1000 + float(emu.latency or 0)
    return CheckRun(wall=wall, startup=startup, lookups=lookups, cpu=usage.ru_utime + usage.ru_stime,
                    max_rss_kib=max_rss, summary=summary, connections=emu.connections - connections_before)
