"""The emulator's command-line options, shared by `python -m ncr_provider.emulator` and `ncr-image emulator`.

Only argparse: `ncr-image` builds its parser from this without importing the server.
"""

from __future__ import annotations

import argparse

DEFAULT_HOST = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--host --port --data --access-key --secret-key --latency, with the emulator's defaults."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=port_number, default=0, help="port to bind, 0-65535 (default 0: any free port)")
    parser.add_argument("--data", metavar="FILE", help="seed data JSON (default: the bundled sample data)")
    parser.add_argument("--access-key", metavar="KEY", help="access key to accept (default: generated)")
    parser.add_argument("--secret-key", metavar="KEY", help="secret key to accept (default: generated)")
    parser.add_argument("--latency", type=seconds, default=0.0, metavar="SECONDS",
                        help="seconds to wait before each answer (default 0)")


def shorten(text: str) -> str:
    """errors.shorten, imported only when a value is refused (this module stays argparse-only at import)."""
    from ..errors import shorten as cut

    return cut(text)


def port_number(text: str) -> int:
    """A TCP port, 0-65535: anything else is argparse's usage error (exit 2), never a bind traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {shorten(text)}: expected a whole number 0-65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {shorten(text)}: expected 0-65535")
    return port


def seconds(text: str) -> float:
    """A finite number of seconds, 0 or more (a negative wait would fail every answer)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {shorten(text)}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid number of seconds {shorten(text)}: expected a finite number, 0 or more")
    return value
