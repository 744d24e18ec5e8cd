"""Figure 4: TCP connections the CLI and the provider process open for many reads: keep-alive keeps it to the concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from common import (
    CLI_CONCURRENCY,
    PROVIDER_WORKERS,
    Row,
    Sizes,
    provider_server,
    read_inputs,
    run_alone,
    run_check,
    seeded_emulator,
)

NAME_CLI = "TCP connections: CLI"
NAME_PROVIDER = "TCP connections: provider"
IN_FLIGHT = 16
# Enough latency that every worker has a request outstanding at once, so the pool really needs all its connections.
LATENCY = 0.005


def provider_connections(emu, reads: int) -> int:
    """Connections the provider process opens for `reads` reads sent 16 at a time (at most 4 run at once)."""
    with provider_server(emu) as server, ThreadPoolExecutor(IN_FLIGHT) as pool:
        requests = [server.read_request(*read_inputs(i)) for i in range(reads)]
        before = emu.connections
        list(pool.map(lambda request: server.call("Read", request), requests))
        return emu.connections - before


def run(sizes: Sizes) -> list[Row]:
    """Count the emulator's accepted connections around one CLI check and one burst of provider reads."""
    n = sizes.connection_reads
    with seeded_emulator(n) as emu:
        emu.latency = LATENCY
        cli = run_check(emu, n, CLI_CONCURRENCY).connections
        provider = provider_connections(emu, n)
    return [
        Row(NAME_CLI, f"<= {CLI_CONCURRENCY} (--concurrency)", f"{cli} for {n} reads", cli <= CLI_CONCURRENCY,
            {"reads": n, "latency_s": LATENCY, "concurrency": CLI_CONCURRENCY, "connections": cli}),
        Row(NAME_PROVIDER, f"<= {PROVIDER_WORKERS} (server workers)", f"{provider} for {n} reads ({IN_FLIGHT} in flight)",
            provider <= PROVIDER_WORKERS,
            {"reads": n, "latency_s": LATENCY, "workers": PROVIDER_WORKERS, "in_flight": IN_FLIGHT, "connections": provider}),
    ]


if __name__ == "__main__":
    run_alone(run, __doc__)
