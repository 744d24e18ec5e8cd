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
from typing import NoReturn

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


class CommandLineError(SystemExit):
    """argparse's usage error (a bad option value, an unknown flag), after argparse's own two lines on stderr."""

    def __init__(self, message: str):
        super().__init__(ExitCode.USAGE)
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors keep their sentence for the `-o` document (subparsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise CommandLineError(message)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand module adds its own parser."""
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_verbose_option(parser, top_level=True)
    common = _Parser(add_help=False)
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
        if isinstance(exc, CommandLineError):
            wanted = requested_output(sys.argv[1:] if argv is None else argv)
            if wanted is not None:
                error_document(wanted, "UsageError", [exc.message], ExitCode.USAGE)
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
        error_document(args, "Interrupted", [f"{PROG} {args.command} was interrupted (SIGINT) before it finished; "
                                             "nothing was judged"], ExitCode.INTERRUPTED)
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


def requested_output(argv: Sequence[str]) -> argparse.Namespace | None:
    """The command and `-o` format a command line that argparse refused asks for (`-o X`, `-oX`, `--output X`,
    `--output=X`; the last wins, as in argparse), when that command has that format; else None."""
    words = list(argv)
    command_at = next((i for i, word in enumerate(words) if not word.startswith("-")), None)
    if command_at is None or words[command_at] not in COMMANDS:
        return None
    output = None
    rest = words[command_at + 1:]
    for i, word in enumerate(rest):
        if word == "--":
            break
        if word in ("-o", "--output"):
            output = rest[i + 1] if i + 1 < len(rest) else None
        elif word.startswith("--output="):
            output = word.partition("=")[2]
        elif word.startswith("-o") and not word.startswith("--"):
            output = word[2:]
    command = words[command_at]
    if output is None or output not in output_choices(command):
        return None
    return argparse.Namespace(command=command, output=output)


def output_choices(command: str) -> Sequence[str]:
    """The formats a command's `--output` accepts (none for a command without one)."""
    parser = argparse.ArgumentParser(add_help=False)
    subparsers = parser.add_subparsers()
    command_module(command).add_parser(subparsers, [])
    for action in subparsers.choices[command]._actions:
        if "--output" in action.option_strings:
            return tuple(action.choices or ())
    return ()


def error_document(args: argparse.Namespace, kind: str, messages: Sequence[str], code: int) -> None:
    """With `-o json`, `sarif` or `junit`, a program reading stdout still gets one document, saying what went
    wrong; with `-o github`, one `::error` annotation."""
    output = getattr(args, "output", None)
    if output not in ("json", "sarif", "junit", "github"):
        return
    try:
        if output == "github":
            from .output import annotation

            title = f"{PROG} {args.command} " + ("interrupted" if code == ExitCode.INTERRUPTED else "could not run")
            print(annotation("error", title, " ".join(" ".join(str(m).split()) for m in messages)), file=sys.stdout)
        elif output == "json":
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
