"""Run every benchmark figure against the embedded NCR emulator and print one table: figure, target, measured, met."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

# Run as a script from anywhere: the bench modules sit next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_audit  # noqa: E402
import bench_check  # noqa: E402
import bench_connections  # noqa: E402
import bench_engine_preview  # noqa: E402
import bench_from_file  # noqa: E402
import bench_interrupt  # noqa: E402
import bench_memory  # noqa: E402
import bench_provider_concurrency  # noqa: E402
import bench_provider_size  # noqa: E402
import bench_read_overhead  # noqa: E402
import bench_startup  # noqa: E402
from common import Row, Sizes, add_size_options, sizes_from  # noqa: E402

# Figure number and the module that measures it, in the issues' order (1-7 issue 6; 11 is issue 11's).
FIGURES = (
    (1, bench_read_overhead),
    (2, bench_provider_concurrency),
    (3, bench_check),
    (4, bench_connections),
    (5, bench_provider_size),
    (6, bench_startup),
    (7, bench_memory),
    (8, bench_from_file),
    (9, bench_interrupt),
    (10, bench_audit),  # issue 15
    (11, bench_engine_preview),  # issue 11
)


def run_figures(sizes: Sizes) -> tuple[list[tuple[int, Row]], bool]:
    """Every figure's rows; a figure that crashes becomes a row saying so, and the run goes on."""
    rows: list[tuple[int, Row]] = []
    crashed = False
    for number, module in FIGURES:
        print(f"figure {number}: {module.__name__} ...", file=sys.stderr, flush=True)
        try:
            rows += [(number, row) for row in module.run(sizes)]
        except Exception as exc:
            traceback.print_exc()
            crashed = True
            rows.append((number, Row(module.__name__, "-", f"ERROR: {type(exc).__name__}: {exc}", False)))
    return rows, crashed


def table(rows: list[tuple[int, Row]]) -> str:
    """A plain-text table that reads well in a terminal and pasted into Markdown as a code block."""
    header = ("#", "figure", "target", "measured", "met")
    cells = [header] + [(str(n), r.name, r.target, r.measured, "yes" if r.met else "NO") for n, r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def machine() -> str:
    return (f"{os.cpu_count()} cores, Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.machine()}")


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when every figure ran, missed targets included (this is a report); 1 when a benchmark crashed."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_size_options(parser)
    parser.add_argument("--json", metavar="FILE", help="also write every row with its raw numbers to FILE")
    args = parser.parse_args(argv)
    sizes = sizes_from(args)
    started = time.perf_counter()
    rows, crashed = run_figures(sizes)
    elapsed = time.perf_counter() - started
    missed = [row.name for _, row in rows if not row.met]
    print(f"ncr_provider benchmarks, {sizes.name} sizes, {machine()}, {elapsed:.0f} s")
    print(table(rows))
    print(f"Targets met: {len(rows) - len(missed)} of {len(rows)}" + (f"; missed: {'; '.join(missed)}" if missed else ""))
    if args.json:
        document = {"sizes": sizes.name, "machine": machine(), "cores": os.cpu_count(), "elapsed_s": elapsed,
                    "rows": [{"figure": n, "name": r.name, "target": r.target, "measured": r.measured, "met": r.met,
                              "raw": r.raw} for n, r in rows]}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
