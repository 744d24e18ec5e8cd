"""Figure 9 (issue 12): how long `ncr-image check` takes to stop after Ctrl-C while it waits out a Retry-After.

NCR answers 429 with `Retry-After: 3600` (clamped to 30 s); once the first attempts are in, SIGINT is
sent, and the time to the process's exit is measured. Before close() ended waits, this was the rest
of the 30 s wait, for every attempt left.
"""

from __future__ import annotations

import signal
import subprocess
import time

from common import Row, Sizes, cli_command, cli_env, image_ref, median, ms, run_alone, seeded_emulator

NAME = "Ctrl-C during check: time to exit"
TARGET_S = 1.0


def run(sizes: Sizes) -> list[Row]:
    runs = max(1, min(5, sizes.startup_runs))
    stops, codes = [], []
    with seeded_emulator(2) as emu:
        for _ in range(runs):
            emu.clear_requests()
            for _ in range(8):
                emu.enqueue(status=429, headers={"Retry-After": "3600"})
            process = subprocess.Popen([*cli_command(), "check", image_ref(0), image_ref(1), "--endpoint", emu.url],
                                       env=cli_env(emu), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while len(emu.requests) < 2 and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.005)
            time.sleep(0.1)  # into the wait
            sent = time.perf_counter()
            process.send_signal(signal.SIGINT)
            codes.append(process.wait(timeout=120))
            stops.append(time.perf_counter() - sent)
    worst = max(stops)
    raw = {"runs": runs, "seconds": stops, "exit_codes": codes}
    met = worst <= TARGET_S and all(code == 130 for code in codes)
    return [Row(NAME, f"<= {TARGET_S:g} s, exit 130", f"median {ms(median(stops))}, worst {ms(worst)}", met, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
