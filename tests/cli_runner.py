"""Run `ncr-image` as a user does: its own process, real HTTP to the emulator, output captured."""

from __future__ import annotations

import os
import subprocess
import sys

CLI = [sys.executable, "-m", "ncr_provider.cli"]


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd=None,
            timeout: float = 30) -> subprocess.CompletedProcess:
    """Run `ncr-image ARGS`; every run also proves it printed no secret key and no traceback."""
    environ = dict(os.environ if env is None else env)
    result = subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, env=environ, cwd=cwd,
                            timeout=timeout)
    printed = result.stdout + result.stderr
    for name in ("NCLOUD_SECRET_KEY", "NCLOUD_SECRET_ACCESS_KEY"):
        if environ.get(name):
            assert environ[name] not in printed, f"{name} leaked into the output of ncr-image {' '.join(args)}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def image_requests(emulator) -> list[str]:
    """Raw paths of the image-detail GETs the emulator received."""
    return [r.raw_path for r in emulator.requests if "/repositories/" in r.raw_path]
