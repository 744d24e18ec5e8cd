"""Figure 1: what our provider adds to a read, over a provider that returns canned outputs through the same server.

Both go through `python -m pulumi.dynamic` exactly as the engine calls it, so Pulumi's own server cost (about
1 ms per read) is on both sides and cancels; what remains is ours: unpickling aside (cached), settings,
signing, the HTTP GET to the local emulator and parsing. A direct NcrClient.get_image is timed too, to show
how much of that is the HTTP exchange itself (the emulator's own handling included).

Beside the judged wall-clock difference, CPU per read separates the two processes at work (not judged):
the provider server's CPU, ours minus the canned provider's, is what our code costs; this process's CPU,
ours minus canned (its gRPC client side is the same for both), is the emulator answering the GET.
"""

from __future__ import annotations

from common import REGISTRY, Row, Sizes, median, ms, process_cpu, provider_server, run_alone, seeded_emulator, task_cpu, timed
from noop_provider import NoopProvider

from ncr_provider.client import NcrClient
from ncr_provider.config import Settings
from ncr_provider.testing import provider_blob

NAME = "read overhead: ours vs canned provider"
TARGET_S = 0.0003
WARMUP = 20


def run(sizes: Sizes) -> list[Row]:
    """Sequential reads of one image, no latency: our Read RPC, a canned provider's Read RPC, and a direct GET."""
    n = sizes.overhead_reads
    registry, image = REGISTRY, "team/web"
    image_id, inputs = f"{registry}/{image}", {"registry": registry, "image_name": image}
    with seeded_emulator(0) as emu, provider_server(emu) as server:
        emu.add_image(registry, image, tag_mutability_enabled=False)
        # Built once: what the engine (a Go process) sends costs this process nothing, so these leave our harness out.
        request = server.read_request(image_id, inputs)
        noop_request = server.read_request(image_id, inputs, provider_blob(NoopProvider()))
        with NcrClient(Settings(endpoint=emu.url, access_key=emu.access_key, secret_key=emu.secret_key)) as client:
            paths = {
                "direct": lambda: client.get_image(registry, image),
                "rpc": lambda: server.call("Read", request),
                "noop_rpc": lambda: server.call("Read", noop_request),
            }
            for call in paths.values():  # connections open, provider unpickled and configured, code paths warm
                for _ in range(WARMUP):
                    call()
            per_read: dict[str, list[float]] = {key: [] for key in paths}
            # CPU seconds per read of the provider server process and of this one (the emulator and the gRPC client).
            server_cpu: dict[str, list[float]] = {key: [] for key in paths}
            own_cpu: dict[str, list[float]] = {key: [] for key in paths}
            assert server.pid is not None
            # Interleaved repeats: a noisy neighbour slows every path alike, and the paired difference cancels it.
            for _ in range(sizes.overhead_repeats):
                for key, call in paths.items():
                    server_before, own_before = task_cpu(server.pid), process_cpu()
                    per_read[key].append(timed(lambda call=call: [call() for _ in range(n)]) / n)
                    server_after, own_after = task_cpu(server.pid), process_cpu()
                    own_cpu[key].append((own_after - own_before) / n)
                    if server_before is not None and server_after is not None:
                        server_cpu[key].append((server_after - server_before) / n)

    def paired(a: str, b: str, values: dict[str, list[float]] = per_read) -> float:
        """Median over repeats of (a - b) per read: each difference taken within one repeat."""
        return median([x - y for x, y in zip(values[a], values[b], strict=True)])

    overhead = paired("rpc", "noop_rpc")
    direct = median(per_read["direct"])
    emulator_cpu = paired("rpc", "noop_rpc", own_cpu)
    provider_cpu = paired("rpc", "noop_rpc", server_cpu) if server_cpu["rpc"] else None
    measured = (f"+{ms(overhead)}/read ({ms(median(per_read['rpc']))} vs canned {ms(median(per_read['noop_rpc']))}); "
                f"of it the HTTP GET to the local emulator, timed alone: {ms(direct)}; CPU per read (not judged): "
                f"our provider +{ms(provider_cpu) if provider_cpu is not None else '?'} over canned, "
                f"the emulator answering {ms(emulator_cpu)}")
    raw = {"reads_per_repeat": n, "repeats": sizes.overhead_repeats, "overhead_s": overhead, "direct_get_s": direct,
           "beyond_the_get_s": overhead - direct, **{f"{k}_per_read_s": v for k, v in per_read.items()},
           "provider_cpu_added_per_read_s": provider_cpu, "emulator_cpu_per_request_s": emulator_cpu,
           **{f"{k}_server_cpu_per_read_s": v for k, v in server_cpu.items()},
           **{f"{k}_own_cpu_per_read_s": v for k, v in own_cpu.items()}}
    return [Row(NAME, f"<= +{ms(TARGET_S)}/read", measured, overhead <= TARGET_S, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
