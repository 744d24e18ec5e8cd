"""Figure 8 (issue 12): peak resident memory of `ncr-image check --from-file` over 50 MB of lines.

The lines name 100 images, each many times (a generated list, a log grepped for references): memory
must follow the distinct images, not the input. Before streaming, this took 2.7 GB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import _LAUNCHER, _MAXRSS_MARK, Row, Sizes, cli_command, cli_env, image_ref, run_alone, seeded_emulator

NAME = "ncr-image check --from-file: peak memory"
TARGET_MB = 100
DISTINCT = 100


def run(sizes: Sizes) -> list[Row]:
    with seeded_emulator(DISTINCT) as emu, tempfile.TemporaryDirectory(prefix="ncr-bench-") as tmp:
        refs = Path(tmp, "refs.txt")
        block = "".join(f"{image_ref(i)}   # line of a generated list\n" for i in range(DISTINCT)).encode()
        target = sizes.from_file_mb * 1_000_000
        with open(refs, "wb") as fh:
            for _ in range(target // len(block) + 1):
                fh.write(block)
        command = [sys.executable, "-c", _LAUNCHER, *cli_command(), "check", "--from-file", str(refs),
                   "--output", "json", "--endpoint", emu.url]
        result = subprocess.run(command, env=cli_env(emu), capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"ncr-image check exited {result.returncode}: {result.stderr[-2000:]}")
        summary = json.loads(result.stdout)["summary"]
        if summary["passed"] != DISTINCT:
            raise RuntimeError(f"expected {DISTINCT} images to pass: {summary}")
        max_rss_kib = int(result.stderr.rpartition(_MAXRSS_MARK)[2].split()[0])
        size = refs.stat().st_size
    peak_mb = max_rss_kib * 1024 / 1e6
    raw = {"input_bytes": size, "distinct_images": DISTINCT, "max_rss_kib": max_rss_kib}
    return [Row(NAME, f"<= {TARGET_MB} MB", f"{peak_mb:.1f} MB for {size / 1e6:.0f} MB of lines", peak_mb <= TARGET_MB, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
