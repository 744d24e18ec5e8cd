"""Figure 6: `ncr-image --version` start-up against `python -c "import requests"`, interleaved, medians."""

from __future__ import annotations

import subprocess
import sys

from common import Row, Sizes, cli_command, cli_env, median, ms, run_alone, timed

NAME = "ncr-image --version start-up"
TARGET_RATIO = 1.3


def run_once(command: list[str]) -> float:
    """Wall seconds of one process from spawn to exit; it must succeed."""
    return timed(lambda: subprocess.run(command, env=cli_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, check=True))


def run(sizes: Sizes) -> list[Row]:
    """Each command `startup_runs` times, round-robin so a noisy moment hits all alike; bare `python` is the floor."""
    commands = {
        "ncr_image": [*cli_command(), "--version"],
        "import_requests": [sys.executable, "-c", "import requests"],
        "bare_python": [sys.executable, "-c", "pass"],
    }
    for command in commands.values():  # page cache and .pyc files warm for all
        run_once(command)
    times: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(sizes.startup_runs):
        for key, command in commands.items():
            times[key].append(run_once(command))
    cli, requests, bare = (median(times[key]) for key in commands)
    ratio = cli / requests
    # Beyond the interpreter's own start: what each imports, the part our code controls.
    import_ratio = (cli - bare) / (requests - bare) if requests > bare else float("nan")
    measured = (f"{ms(cli)} vs {ms(requests)} = {ratio:.2f}x (bare python {ms(bare)}; "
                f"beyond it {ms(cli - bare)} vs {ms(requests - bare)} = {import_ratio:.2f}x)")
    raw = {"runs": sizes.startup_runs, "command": commands["ncr_image"], "ratio": ratio, "import_ratio": import_ratio,
           **{f"{key}_s": values for key, values in times.items()}}
    return [Row(NAME, f"<= {TARGET_RATIO}x import requests", measured, ratio <= TARGET_RATIO, raw)]


if __name__ == "__main__":
    run_alone(run, __doc__)
