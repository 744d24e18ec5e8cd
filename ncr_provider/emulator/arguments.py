"""The emulator's command-line options, shared by `python -m ncr_provider.emulator` and `ncr-image emulator`.

Only argparse: `ncr-image` builds its parser from this without importing the server.
"""

from __future__ import annotations

import argparse

DEFAULT_HOST = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--host --port --data --access-key --secret-key --latency, with the emulator's defaults."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument("--data", metavar="FILE", help="seed data JSON (default: the bundled sample data)")
    parser.add_argument("--access-key", metavar="KEY", help="access key to accept (default: generated)")
    parser.add_argument("--secret-key", metavar="KEY", help="secret key to accept (default: generated)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="seconds to wait before each answer (default 0)")
