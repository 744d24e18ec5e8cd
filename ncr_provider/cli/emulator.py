"""`ncr-image emulator`: serve the local NCR API emulator until interrupted (see ncr_provider.emulator)."""

from __future__ import annotations

import argparse

from ..emulator.arguments import add_arguments


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator", parents=parents, help="serve a local NCR API emulator (prints its URL and keys)",
        description="Serve a local NAVER Cloud Container Registry API with sample data until Ctrl-C. "
                    "It prints its URL, then its (throwaway) access and secret keys: point NCR_ENDPOINT, "
                    "NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY at them.")
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..emulator.server import serve

    return serve(args)
