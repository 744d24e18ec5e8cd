"""Run `ncr-image` as a user does: its own process, real HTTP to the emulator, output captured."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable

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


def run_cli_on_terminal(*args: str, timeout: float = 30) -> tuple[int, str, bytes]:
    """Run `ncr-image ARGS` with stderr attached to a terminal (a pty), as in an interactive shell; returns the
    exit code, stdout, and every byte written to the terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=terminal, text=True)
        os.close(terminal)
        stdout, _ = process.communicate(timeout=timeout)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    return process.returncode, stdout, shown


def run_cli_interrupted(*args: str, ready: Callable[[], bool], timeout: float = 15) -> tuple[int, str, str]:
    """Run `ncr-image ARGS`, press Ctrl-C (SIGINT) once `ready()` is true; returns exit code, stdout, stderr."""
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    try:
        while not ready():
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stdout, stderr


def image_requests(emulator) -> list[str]:
    """Raw paths of the image-detail GETs the emulator received."""
    return [r.raw_path for r in emulator.requests if "/repositories/" in r.raw_path]
