"""Figure 1: what a read costs through the provider's gRPC server, over a direct NcrClient.get_image."""

from __future__ import annotations

import os
from pathlib import Path

from common import REGISTRY, Row, Sizes, median, ms, parse_sizes, print_rows, provider_config, seeded_emulator, timed
from noop_provider import NoopProvider

from ncr_provider.client import NcrClient
from ncr_provider.config import Settings
from ncr_provider.testing import ProviderServer, provider_blob

NAME = "read overhead: provider gRPC vs direct"
TARGET_S = 0.001
WARMUP = 20


def server_env() -> dict[str, str]:
    """The provider server must import noop_provider by reference, as the engine's server imports our provider."""
    paths = [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def run(sizes: Sizes) -> list[Row]:
    """Sequential reads of one image, no latency: direct, ProviderServer.read, the bare Read RPC, and a no-op provider."""
    n = sizes.overhead_reads
    registry, image = REGISTRY, "team/web"
    image_id, inputs = f"{registry}/{image}", {"registry": registry, "image_name": image}
    with seeded_emulator(0) as emu, ProviderServer(env=server_env()) as server:
        emu.add_image(registry, image, tag_mutability_enabled=False)
        server.configure(provider_config(emu))
        # Built once: what the engine (a Go process) sends costs this process nothing, so these leave our harness out.
        request = server.read_request(image_id, inputs)
        noop_request = server.read_request(image_id, inputs, provider_blob(NoopProvider()))
        with NcrClient(Settings(endpoint=emu.url, access_key=emu.access_key, secret_key=emu.secret_key)) as client:
            paths = {
                "direct": lambda: client.get_image(registry, image),
                "provider": lambda: server.read(image_id, inputs),
                "rpc": lambda: server.call("Read", request),
                "noop_rpc": lambda: server.call("Read", noop_request),
            }
            for call in paths.values():  # connections open, provider unpickled and configured, code paths warm
                for _ in range(WARMUP):
                    call()
            per_read: dict[str, list[float]] = {key: [] for key in paths}
            # Interleaved repeats: a noisy neighbour slows every path alike, and the paired difference cancels it.
            for _ in range(sizes.overhead_repeats):
                for key, call in paths.items():
                    per_read[key].append(timed(lambda call=call: [call() for _ in range(n)]) / n)

    def paired(a: str, b: str) -> float:
        """Median over repeats of (a - b) per read: each difference taken within one repeat."""
        return median([x - y for x, y in zip(per_read[a], per_read[b], strict=True)])

    overhead = paired("provider", "direct")
    rpc_overhead = paired("rpc", "direct")
    floor = median(per_read["noop_rpc"])  # the SDK's server and gRPC alone, no HTTP at all
    measured = (f"+{ms(overhead)}/read ({ms(median(per_read['provider']))} vs {ms(median(per_read['direct']))}); "
                f"bare Read RPC +{ms(rpc_overhead)} = SDK+gRPC floor {ms(floor)} + ours {ms(rpc_overhead - floor)}")
    raw = {"reads_per_repeat": n, "repeats": sizes.overhead_repeats, "overhead_s": overhead,
           "rpc_overhead_s": rpc_overhead, "noop_floor_s": floor, "harness_serialize_s": paired("provider", "rpc"),
           **{f"{k}_per_read_s": v for k, v in per_read.items()}}
    return [Row(NAME, f"<= +{ms(TARGET_S)}/read", measured, overhead <= TARGET_S, raw)]


if __name__ == "__main__":
    print_rows(run(parse_sizes(description=__doc__)))
