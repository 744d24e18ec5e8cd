"""Smoke test of the benchmarks: `benchmarks/run.py` runs every figure and prints every row.

No timing is judged; what is checked is that each printed figure is the one its raw measurements give
(a ratio computed, not written in) and that the memory figure is in a unit a process can have.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# Every row of the table, in the order of the figures (the last one needs the Pulumi CLI, else says so).
ROW_NAMES = (
    "read overhead: ours vs canned provider",
    "provider reads: 16 in flight, 20 ms, vs sleeping provider",
    "ncr-image check: vs ideal",
    "ncr-image check: vs sequential GETs",
    "TCP connections: CLI",
    "TCP connections: provider",
    "__provider size",
    "ncr-image --version start-up",
    "ncr-image check: peak memory",
    "ncr-image check --from-file: peak memory",
    "Ctrl-C during check: time to exit",
    "ncr-image audit: vs ideal",
    "pulumi preview: 100 NcrImage reads, 20 ms, vs sleeping provider",
)


def run_script(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True, timeout=420)


def test_quick_run_with_tiny_sizes_prints_every_figure(tmp_path):
    # given tiny sizes, so the whole run takes seconds; when the benchmark command runs
    result = run_script("run.py", "--quick", "--tiny", "--json", str(tmp_path / "rows.json"))

    # then it completes, and its one table has every row, the machine's cores and a verdict per row
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "tiny sizes" in table and " cores, Python " in table
    lines = table.splitlines()
    rows = [line for line in lines if re.match(r"\d+ ", line)]  # table rows start with their figure number
    assert len(rows) == len(ROW_NAMES), table
    for name in ROW_NAMES:
        row = [line for line in rows if name in line]
        assert len(row) == 1, f"{name!r} missing or repeated in:\n{table}"
        assert row[0].rstrip().endswith(("yes", "NO")), row[0]
    assert "ERROR" not in table
    assert lines[-1].startswith("Targets met: ")

    # and each figure is what its raw numbers say
    raw = {row["name"]: row for row in json.loads((tmp_path / "rows.json").read_text())["rows"]}
    check = raw["ncr-image check: vs ideal"]
    ratio = statistics.median(check["raw"]["wall_s"]) / check["raw"]["ideal_s"]
    assert f"= {ratio:.3f}x" in check["measured"], check
    reads = raw["provider reads: 16 in flight, 20 ms, vs sleeping provider"]
    ratio = statistics.median([a / b for a, b in zip(reads["raw"]["ours_wall_s"], reads["raw"]["sleeping_wall_s"], strict=True)])
    assert reads["measured"].startswith(f"{ratio:.3f}x"), reads
    overhead = raw["read overhead: ours vs canned provider"]["raw"]
    diffs = [a - b for a, b in zip(overhead["rpc_per_read_s"], overhead["noop_rpc_per_read_s"], strict=True)]
    assert overhead["overhead_s"] == statistics.median(diffs)
    # the CPU split beside it: the provider server's CPU is read from /proc on Linux, this process's always
    cpu_diffs = [a - b for a, b in zip(overhead["rpc_own_cpu_per_read_s"], overhead["noop_rpc_own_cpu_per_read_s"],
                                       strict=True)]
    assert overhead["emulator_cpu_per_request_s"] == statistics.median(cpu_diffs)
    assert overhead["provider_cpu_added_per_read_s"] is not None or not os.path.isdir("/proc/self/task")
    startup = raw["ncr-image --version start-up"]
    ratio = statistics.median(startup["raw"]["ncr_image_s"]) / statistics.median(startup["raw"]["import_requests_s"])
    assert f"= {ratio:.2f}x" in startup["measured"], startup
    # ru_maxrss is KiB on Linux: a Python process with requests peaks at tens of MB, never under 5 or over 2000
    memory = raw["ncr-image check: peak memory"]
    megabytes = float(re.match(r"([\d.]+) MB", memory["measured"]).group(1))
    assert 5 < megabytes < 2000, memory
    assert abs(megabytes - memory["raw"]["max_rss_kib"] * 1.024 / 1000) < 0.1, memory


def test_a_figure_runs_alone():
    # when one figure's module is run as a script
    result = run_script("bench_provider_size.py", "--tiny")

    # then it prints its row on its own
    assert result.returncode == 0, result.stderr[-3000:]
    assert "__provider size:" in result.stdout and "(target <= 100 bytes)" in result.stdout
