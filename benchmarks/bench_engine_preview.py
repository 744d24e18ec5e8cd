"""Figure 11: `pulumi preview` of 100 NcrImage reads at 20 ms of NCR latency, through the real Pulumi CLI, against the
same preview of 100 reads answered by a provider that only sleeps 20 ms and returns canned outputs.

Both programs run as Automation API inline programs on the CLI the engine tests use (tests/engine/harness.py);
the engine starts one provider server for each, runs the reads through its 4 worker threads, and the wall time
of each preview (CLI start, plugins, program, reads, display) is what a user waits for.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import LATENCY, REGISTRY, Row, Sizes, image_name, image_ref, median, run_alone, seeded_emulator, timed
from noop_provider import SleepingProvider, canned_read

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from engine.harness import EngineStack, find_engine_bin  # noqa: E402

NAME = "pulumi preview: 100 NcrImage reads, 20 ms, vs sleeping provider"
TARGET_RATIO = 1.10


def ours(n: int):
    def program() -> None:
        from ncr_provider import NcrImage
        for i in range(n):
            NcrImage(f"img-{i}", registry=REGISTRY, image_name=image_name(i))
    return program


def canned(n: int):
    def program() -> None:
        for i in range(n):
            canned_read(f"img-{i}", image_ref(i))
    return program


def run(sizes: Sizes) -> list[Row]:
    """Preview each program `engine_repeats` times, interleaved; the ratio of the medians and the seconds."""
    n = sizes.engine_reads
    target = f"<= {TARGET_RATIO}x the sleeping provider"
    engine_bin = find_engine_bin()
    if engine_bin is None:
        return [Row(NAME, target, "not measured: no Pulumi CLI (eval \"$(scripts/pulumi-engine.sh)\" builds one)", False)]
    assert SleepingProvider.LATENCY == LATENCY
    benchmarks = str(Path(__file__).resolve().parent)
    with seeded_emulator(n) as emu, tempfile.TemporaryDirectory(prefix="ncr-bench-engine-") as tmp:
        env = {"PYTHONPATH": benchmarks}  # the canned provider's module, imported by name in its provider server
        stacks = {"ours": EngineStack(engine_bin, Path(tmp, "ours"), project="bench-ours", program=ours(n), env=env),
                  "sleeping": EngineStack(engine_bin, Path(tmp, "sleeping"), project="bench-sleeping",
                                          program=canned(n), env=env)}
        stacks["ours"].config_set("ncloud:accessKey", emu.access_key)
        stacks["ours"].config_set("ncloud:secretKey", emu.secret_key, secret=True)
        stacks["ours"].config_set("ncr:endpoint", emu.url)
        emu.latency = LATENCY
        times: dict[str, list[float]] = {"ours": [], "sleeping": []}
        try:
            for _ in range(sizes.engine_repeats):
                for key, stack in stacks.items():
                    events: list = []
                    times[key].append(timed(lambda stack=stack, events=events: stack.stack.preview(on_event=events.append)))
                    reads = sum(1 for e in events if e.resource_pre_event and e.resource_pre_event.metadata.op == "read")
                    assert reads == n, f"{key}: {reads} reads in the preview, expected {n}"
        finally:
            for stack in stacks.values():
                stack.close()
    ratio = median(times["ours"]) / median(times["sleeping"])
    measured = (f"{ratio:.3f}x ({median(times['ours']):.2f} s vs {median(times['sleeping']):.2f} s for {n} reads), "
                f"median of {len(times['ours'])}")
    raw = {"reads": n, "latency_s": LATENCY, "ratio": ratio, **{f"{k}_preview_s": v for k, v in times.items()}}
    return [Row(NAME, target, measured, ratio <= TARGET_RATIO, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
