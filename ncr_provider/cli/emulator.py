"""`ncr-image emulator`: serve the local NCR API emulator until interrupted (see ncr_provider.emulator)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator", parents=parents, help="serve a local NCR API emulator (prints its URL and keys)",
        description="Serve a local NAVER Cloud Container Registry API with sample data until Ctrl-C. "
                    "It prints its URL, then its (throwaway) access and secret keys: point NCR_ENDPOINT, "
                    "NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY at them.")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default: any free port)")
    parser.add_argument("--data", metavar="FILE", help="seed data JSON (default: the bundled sample data)")
    parser.add_argument("--access-key", metavar="KEY", help="access key to accept (default: generated)")
    parser.add_argument("--secret-key", metavar="KEY", help="secret key to accept (default: generated)")
    parser.add_argument("--latency", type=float, metavar="SECONDS", help="wait before each answer")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..emulator import main as emulator_main

    # Forward only what was given, so the emulator's own defaults stay the only defaults.
    argv: list[str] = []
    for name in ("host", "port", "data", "access_key", "secret_key", "latency"):
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return emulator_main(argv)
