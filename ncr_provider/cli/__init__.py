"""The `ncr-image` command: `get`, `tags`, `resolve`, `check`, `audit`, `demo` and `emulator`, one module each.

Importing this package costs argparse and nothing more; each command imports what it needs when it runs.
Commands are listed once, in COMMANDS; each module registers its parser (`add_parser`) and its `run`.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

from .. import __version__
from ..errors import NcrError
from .common import PROG, ExitCode, Unanswered, UsageError, add_verbose_option, error_line, setup_logging
from .output import write_error_document

__all__ = ["main", "build_parser"]

DESCRIPTION = "Read NAVER Cloud Container Registry (NCR) image details; gate pipelines on them."
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})
"""Write failures that mean the output has nowhere to go (a full disk, a quota, a dead device)."""
EPILOG = """\
start with:  ncr-image demo
credentials: NCLOUD_ACCESS_KEY / NCLOUD_SECRET_KEY, or ~/.ncloud/configure ([DEFAULT] or NCLOUD_PROFILE)
exit codes:  0 ok, 1 check found a violation, 2 bad usage (nothing sent), 3 no answer (see each command's --help)"""


# Command name -> the module under ncr_provider.cli that implements it, in the order `--help` lists them.
COMMANDS: Mapping[str, str] = {
    "get": "get",
    "tags": "tags",
    "resolve": "resolve",
    "check": "check",
    "audit": "audit",
    "demo": "demo",
    "emulator": "emulator",
}


def command_module(name: str) -> ModuleType:
    """The module of a registered command."""
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand module adds its own parser."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_verbose_option(parser, top_level=True)
    common = argparse.ArgumentParser(add_help=False)
    add_verbose_option(common)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        command_module(name).add_parser(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `ncr-image`; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and argparse's own usage errors
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    setup_logging(args.verbose)
    try:
        code = args.run(args)
        sys.stdout.flush()  # a full disk shows here, as a sentence, not at interpreter exit as a traceback
        return code
    except UsageError as exc:
        for message in exc.messages:
            error_line(message)
        error_document(args, exc.kind, exc.messages, ExitCode.USAGE)
        return ExitCode.USAGE
    except Unanswered as exc:
        error_line(exc)
        error_document(args, exc.kind, [str(exc)], ExitCode.UNANSWERED)
        return ExitCode.UNANSWERED
    except KeyboardInterrupt:
        # By now every lookup has stopped (ImageLookup.close ends waits and cuts connections): one line, no traceback.
        newline = "\n" if sys.stderr.isatty() else ""  # past the terminal's "^C"
        print(f"{newline}{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) went away: say nothing more, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.BROKEN_PIPE
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRNOS:
            raise
        # Nothing more can be written: drop what is buffered so interpreter exit does not try again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        error_line(f"cannot write the output: {(exc.strerror or 'write failed').lower()}")
        return ExitCode.UNANSWERED
    except NcrError as exc:  # an error sentence we did not expect here is still a sentence
        error_line(exc)
        error_document(args, type(exc).__name__, [str(exc)], ExitCode.UNANSWERED)
        return ExitCode.UNANSWERED


def error_document(args: argparse.Namespace, kind: str, messages: Sequence[str], code: int) -> None:
    """With `-o json`, `sarif` or `junit`, a program reading stdout still gets one document, saying what went wrong."""
    output = getattr(args, "output", None)
    if output not in ("json", "sarif", "junit"):
        return
    try:
        if output == "json":
            write_error_document(sys.stdout, args.command, kind, messages, code)
        else:
            import json

            from .reports import check_junit_error, sarif_error_document

            text = (json.dumps(sarif_error_document(kind, messages, code), indent=2) if output == "sarif"
                    else check_junit_error(kind, messages))
            print(text, file=sys.stdout)
        sys.stdout.flush()
    except OSError:  # a full disk or a closed pipe: the error line on stderr has said what there is to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
