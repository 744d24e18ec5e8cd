"""Figure 2: 200 reads, 16 in flight, through the provider server with 20 ms latency, against its 4-worker ceiling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from common import (
    LATENCY,
    PROVIDER_WORKERS,
    REGISTRY,
    Row,
    Sizes,
    image_name,
    image_ref,
    median,
    ms,
    parse_sizes,
    print_rows,
    provider_config,
    seeded_emulator,
    timed,
)

from ncr_provider.testing import ProviderServer

NAME = "provider reads: 16 in flight, 20 ms"
IN_FLIGHT = 16
TARGET_RATIO = 1.15


def run(sizes: Sizes) -> list[Row]:
    """Time `concurrent_reads` distinct reads sent 16 at a time; the ideal is reads x latency / 4 workers."""
    n = sizes.concurrent_reads
    ideal = n * LATENCY / PROVIDER_WORKERS
    with seeded_emulator(n) as emu, ProviderServer() as server, ThreadPoolExecutor(IN_FLIGHT) as pool:
        server.configure(provider_config(emu))
        # Built before the clock starts: the engine (Go) serializes its own requests, at no cost to this process.
        requests = [server.read_request(image_ref(i), {"registry": REGISTRY, "image_name": image_name(i)})
                    for i in range(n)]

        def read_all() -> None:
            ids = [response.id for response in pool.map(lambda request: server.call("Read", request), requests)]
            assert ids == [request.id for request in requests], "a read answered for the wrong image"

        read_all()  # warm: provider unpickled and configured, its 4 connections open, gRPC channel busy once
        emu.latency = LATENCY
        times = [timed(read_all) for _ in range(sizes.concurrent_repeats)]
    wall = median(times)
    ratio = wall / ideal
    measured = f"{ms(wall)} = {ratio:.3f}x ideal ({ms(ideal)}), median of {len(times)}"
    raw = {"reads": n, "in_flight": IN_FLIGHT, "latency_s": LATENCY, "ideal_s": ideal, "wall_s": times, "ratio": ratio}
    return [Row(NAME, f"<= {TARGET_RATIO}x {n} x 20 ms / {PROVIDER_WORKERS}", measured, ratio <= TARGET_RATIO, raw)]


if __name__ == "__main__":
    print_rows(run(parse_sizes(description=__doc__)))
