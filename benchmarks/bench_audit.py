"""Figure 10: `ncr-image audit` of 5 registries x 200 images at 20 ms latency, concurrency 16, against its ideal."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from common import CLI_CONCURRENCY, LATENCY, Row, Sizes, cli_command, cli_env, median, ms, run_alone

from ncr_provider.emulator import NcrEmulator

NAME = "ncr-image audit: vs ideal"
TARGET_RATIO = 1.25
# (registries, images per registry, repeats) per size; the figure is 5 x 200.
SHAPES = {"full": (5, 200, 5), "quick": (5, 200, 1), "tiny": (2, 10, 1)}


@contextlib.contextmanager
def account(registries: int, images: int) -> Iterator[NcrEmulator]:
    """An emulator holding only the audited account: `registries` registries of `images` immutable images."""
    with NcrEmulator(data={"registries": []}) as emu:
        for r in range(registries):
            for i in range(images):
                emu.add_image(f"bench-{r}", f"team/image-{i:04d}", tag_mutability_enabled=False)
        yield emu


def run_audit(emu: NcrEmulator, images: int) -> tuple[float, float, int]:
    """One `ncr-image audit` subprocess: (wall seconds, seconds after its first request, requests sent)."""
    with tempfile.TemporaryDirectory(prefix="ncr-bench-") as tmp:
        command = [*cli_command(), "audit", "--concurrency", str(CLI_CONCURRENCY), "--output", "json",
                   "--endpoint", emu.url]
        emu.clear_requests()
        with open(Path(tmp, "out.json"), "w+b") as out, open(Path(tmp, "err.txt"), "w+b") as err:
            spawned_ms = time.time() * 1000
            started = time.perf_counter()
            code = subprocess.call(command, env=cli_env(emu), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            wall = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read().decode("utf-8", "replace")
    if code != 0:
        raise RuntimeError(f"ncr-image audit exited {code}: {stderr[-2000:]}")
    summary = json.loads(stdout)["summary"]
    if summary["passed"] != images:
        raise RuntimeError(f"ncr-image audit passed {summary['passed']} of {images} images: {summary}")
    signed_ms = [int(r.timestamp) for r in emu.requests if r.timestamp]
    startup = max(0.0, (min(signed_ms) - spawned_ms) / 1000)
    return wall, wall - startup, len(emu.requests)


def run(sizes: Sizes) -> list[Row]:
    registries, per_registry, repeats = SHAPES.get(sizes.name, SHAPES["quick"])
    images = registries * per_registry
    with account(registries, per_registry) as emu:
        emu.latency = LATENCY
        runs = [run_audit(emu, images) for _ in range(repeats)]
    requests = runs[0][2]  # the registry list, each registry's image list pages, one detail read per image
    ideal = requests * LATENCY / CLI_CONCURRENCY
    wall, after = median([r[0] for r in runs]), median([r[1] for r in runs])
    ratio = wall / ideal
    raw = {"registries": registries, "images": images, "requests": requests, "concurrency": CLI_CONCURRENCY,
           "latency_s": LATENCY, "ideal_s": ideal, "wall_s": [r[0] for r in runs],
           "after_startup_s": [r[1] for r in runs], "ratio_end_to_end": ratio, "cores": os.cpu_count()}
    return [Row(NAME, f"<= {TARGET_RATIO}x {requests} requests x 20 ms / {CLI_CONCURRENCY} = "
                      f"{ms(ideal * TARGET_RATIO)}",
                f"{ms(wall)} = {ratio:.3f}x end to end (judged; {registries} x {per_registry} images); after "
                f"start-up {ms(after)} = {after / ideal:.3f}x; median of {len(runs)}", ratio <= TARGET_RATIO, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
