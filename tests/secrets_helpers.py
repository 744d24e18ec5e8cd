"""What the secret-leak tests share: canary keys, a capture of everything written, and the CLI run with them."""

from __future__ import annotations

import base64
import os
import pickle
import sys
import traceback

from helpers import NCP_ENV_VARS

from ncr_provider.errors import NcrError

ACCESS_KEY = "AKLEAKCANARY0123456X"
SECRET = "sk-LEAKCANARY-9f2e7c41b8d3a6e5"
WRONG_SECRET = "sk-WRONGCANARY-0d1e2a3b4c5f"
MASKED = ACCESS_KEY[:4] + "****"


class Captured:
    """Everything the paths under test wrote or returned, as text."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, value: object) -> None:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace") + " " + base64.b64encode(value).decode()
        self.items.append((where, str(value)))

    def add_error(self, where: str, error: BaseException) -> None:
        self.add(f"{where} str", str(error))
        self.add(f"{where} repr", repr(error))
        self.add(f"{where} traceback", "".join(traceback.format_exception(error)))
        if isinstance(error, NcrError):
            self.add(f"{where} pickle", pickle.dumps(error))

    def containing(self, text: str) -> list[str]:
        return [where for where, value in self.items if text in value]


def cli_env(emulator, secret):
    env = {k: v for k, v in os.environ.items() if k not in NCP_ENV_VARS}
    env.update(NCLOUD_ACCESS_KEY=ACCESS_KEY, NCLOUD_SECRET_KEY=secret, NCR_ENDPOINT=emulator.url)
    return env


def run_cli(captured, env, *args):
    import subprocess
    result = subprocess.run([sys.executable, "-m", "ncr_provider.cli", "-v", *args], capture_output=True, text=True,
                            env=env, timeout=60)
    captured.add(f"ncr-image {' '.join(args)} stdout", result.stdout)
    captured.add(f"ncr-image {' '.join(args)} stderr", result.stderr)
    return result
