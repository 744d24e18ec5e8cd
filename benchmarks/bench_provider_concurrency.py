"""Figure 2: 200 reads, 16 in flight, 20 ms of NCR latency, through the provider server, against a provider that
only sleeps 20 ms and returns canned outputs through the same server (Pulumi's 4 worker threads bound both)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from common import (
    LATENCY,
    PROVIDER_WORKERS,
    Row,
    Sizes,
    median,
    ms,
    provider_server,
    read_inputs,
    run_alone,
    seeded_emulator,
    timed,
)
from noop_provider import SleepingProvider

from ncr_provider.testing import provider_blob

NAME = "provider reads: 16 in flight, 20 ms, vs sleeping provider"
IN_FLIGHT = 16
TARGET_RATIO = 1.10


def run(sizes: Sizes) -> list[Row]:
    """Time `concurrent_reads` distinct reads sent 16 at a time, ours against the sleeping provider, interleaved."""
    n = sizes.concurrent_reads
    assert SleepingProvider.LATENCY == LATENCY
    with seeded_emulator(n) as emu, provider_server(emu) as server, ThreadPoolExecutor(IN_FLIGHT) as pool:
        # Built before the clock starts: the engine (Go) serializes its own requests, at no cost to this process.
        inputs = [read_inputs(i) for i in range(n)]
        ours = [server.read_request(id_, props) for id_, props in inputs]
        sleeping_blob = provider_blob(SleepingProvider())
        sleeping = [server.read_request(id_, props, sleeping_blob) for id_, props in inputs]

        def read_all(requests) -> None:
            ids = [response.id for response in pool.map(lambda request: server.call("Read", request), requests)]
            assert ids == [request.id for request in requests], "a read answered for the wrong image"

        read_all(ours)  # warm: providers unpickled and configured, 4 connections open, gRPC channel busy once
        read_all(sleeping)
        emu.latency = LATENCY
        times: dict[str, list[float]] = {"ours": [], "sleeping": []}
        for _ in range(sizes.concurrent_repeats):  # interleaved, so a noisy neighbour slows both alike
            times["ours"].append(timed(lambda: read_all(ours)))
            times["sleeping"].append(timed(lambda: read_all(sleeping)))
    ratio = median([a / b for a, b in zip(times["ours"], times["sleeping"], strict=True)])
    ideal = n * LATENCY / PROVIDER_WORKERS
    measured = (f"{ratio:.3f}x ({ms(median(times['ours']))} vs {ms(median(times['sleeping']))}; "
                f"{n} x 20 ms / {PROVIDER_WORKERS} workers = {ms(ideal)}), median of {len(times['ours'])}")
    raw = {"reads": n, "in_flight": IN_FLIGHT, "latency_s": LATENCY, "ideal_s": ideal, "ratio": ratio,
           **{f"{k}_wall_s": v for k, v in times.items()}}
    return [Row(NAME, f"<= {TARGET_RATIO}x the sleeping provider", measured, ratio <= TARGET_RATIO, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
