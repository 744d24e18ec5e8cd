"""Figure 7: peak resident memory of `ncr-image check` over 1000 images (20 ms latency, concurrency 16)."""

from __future__ import annotations

from common import CLI_CONCURRENCY, LATENCY, Row, Sizes, run_alone, run_check, seeded_emulator

NAME = "ncr-image check: peak memory"
TARGET_MB = 80


def run(sizes: Sizes) -> list[Row]:
    """Peak RSS of one check run, from wait4 in a small launcher (ru_maxrss is KiB on Linux)."""
    n = sizes.memory_images
    with seeded_emulator(n) as emu:
        emu.latency = LATENCY
        check = run_check(emu, n, CLI_CONCURRENCY, memory=True)
    peak_mb = check.max_rss_kib * 1024 / 1e6  # decimal MB: the stricter reading of "80 MB"
    assert check.max_rss_kib is not None
    raw = {"images": n, "concurrency": CLI_CONCURRENCY, "max_rss_kib": check.max_rss_kib, "wall_s": check.wall}
    return [Row(NAME, f"<= {TARGET_MB} MB", f"{peak_mb:.1f} MB for {n} images", peak_mb <= TARGET_MB, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
