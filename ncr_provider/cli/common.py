"""What every subcommand shares: exit codes, the NCP options, settings, logging and error lines.

Only the standard library at import time: `ncr-image --version` must start faster than `import requests`.
"""

from __future__ import annotations

import argparse
import enum
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings

PROG = "ncr-image"



class ExitCode(enum.IntEnum):
    """What `ncr-image` exits with; each command's --help says which of these it uses and when."""

    OK = 0
    VIOLATION = 1
    """`check` found an image that breaks a rule."""
    USAGE = 2
    """Bad usage or a rejected name: nothing was sent."""
    UNANSWERED = 3
    """No answer could be had: credentials, network, or NCR not saying what a check needs."""
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    """What a shell reports for a process killed by SIGPIPE."""


OUTPUT_FORMATS = ("table", "json", "github", "sarif", "junit")


class UsageError(Exception):
    """The command line (or a reference it names) cannot be used; nothing was sent. Exit 2.

    Carries one sentence per problem, so a file with three bad lines reports all three at once.
    """

    def __init__(self, *messages: str, kind: str = "UsageError"):
        super().__init__(*messages)
        self.messages = messages
        self.kind = kind
        """The error's type for `-o json`: `UsageError`, or the NcrError class that caused it."""


class Unanswered(Exception):
    """No answer could be had: missing or rejected credentials, network. Exit 3."""

    def __init__(self, message: object, kind: str | None = None):
        super().__init__(message)
        self.kind = kind or (type(message).__name__ if isinstance(message, BaseException) else "Unanswered")


def add_ncp_options(parser: argparse.ArgumentParser) -> None:
    """--region --site --endpoint --profile: explicit settings, above environment and profile file."""
    group = parser.add_argument_group("NCP settings (override NCLOUD_* variables and ~/.ncloud/configure)")
    group.add_argument("--region", metavar="R", type=given_value,
                       help="KR, SGN or JPN (site public), KR or KRS (site gov); default NCLOUD_REGION or KR. "
                            "A Docker reference's host picks its own region.")
    group.add_argument("--site", metavar="SITE", type=given_value,
                       help="public or gov (fin with --endpoint); default NCLOUD_SITE or public")
    group.add_argument("--endpoint", metavar="URL", type=given_value,
                       help="scheme://host[:port] replacing the NCR API host (https, or http for loopback); "
                            "default NCR_ENDPOINT")
    group.add_argument("--profile", metavar="NAME", type=given_value,
                       help="section of ~/.ncloud/configure; default NCLOUD_PROFILE or DEFAULT")
    group.add_argument("--api-version", metavar="V", type=given_value, dest="api_version",
                       help="NCR API version: v2 (every site) or v3 (site public only); default NCR_API_VERSION or v2. "
                            "Verdicts and exit codes are the same with both")


def given_value(text: str) -> str:
    """argparse type of a setting that has an environment variable or a default (the NCP settings, `--cache`): an
    explicit empty value (`--endpoint "$UNSET"`) is a mistake to name, never a silent fall back."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (leave the option out to use the environment or the "
                                         "default)")
    return text


def add_max_tag_age_option(parser: argparse.ArgumentParser) -> None:
    """--max-tag-age DAYS: the same rule in `check` and `audit` (verdict.judge_tag_age judges it for both)."""
    parser.add_argument("--max-tag-age", type=positive_int, metavar="DAYS",
                        help="an image whose newest tag was last updated more than DAYS days ago (or that has no "
                             "tags) is a violation; reads each image's tag list")


def add_verbose_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    # SUPPRESS in subcommands, so `ncr-image -v check` is not reset by the subparser's default.
    parser.add_argument("-v", "--verbose", action="store_true", default=False if top_level else argparse.SUPPRESS,
                        help="log every request (keys masked) to stderr")


def setup_logging(verbose: bool) -> None:
    """Warnings always reach stderr; -v adds ncr_provider's DEBUG lines (which never carry a key)."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"{PROG}: %(levelname)s %(name)s: %(message)s")
    if verbose:
        logging.getLogger("ncr_provider").setLevel(logging.DEBUG)


def resolve(args: argparse.Namespace) -> Settings:
    """Settings from the explicit options, then environment, then profile file.

    A bad value from any of them is a usage error (2): nothing was sent and the user must fix a
    setting. Only keys found nowhere at all mean no answer can be had (3, see require_credentials).
    """
    from ..config import SITES, resolve_settings, validate_api_version, validate_endpoint, validate_region, validate_site
    from ..errors import ConfigurationError

    explicit = {name: getattr(args, name, None) for name in ("region", "site", "endpoint", "profile", "api_version")}
    try:
        site = None
        if explicit["site"]:
            # The endpoint may still come from the environment: resolve_settings judges `fin` without one.
            site = validate_site(explicit["site"], endpoint_given=True)
        if explicit["endpoint"]:
            validate_endpoint(explicit["endpoint"])
        if explicit["api_version"]:
            # The site may still come from the environment: resolve_settings judges v3 on gov.
            validate_api_version(explicit["api_version"], site)
        if explicit["region"] and site:
            validate_region(explicit["region"], site)
        elif explicit["region"]:
            # The site may still come from the environment: here reject only a region no site has.
            if not any(explicit["region"].strip().upper() in site.prefixes for site in SITES.values()):
                validate_region(explicit["region"], "public")
    except ConfigurationError as exc:
        raise UsageError(str(exc), kind=type(exc).__name__) from None
    try:
        return resolve_settings({k: v for k, v in explicit.items() if v})
    except ConfigurationError as exc:
        raise UsageError(str(exc), kind=type(exc).__name__) from None


def require_credentials(settings: Settings) -> None:
    """Fail before any lookup: keys found nowhere exit 3 with the sentence naming every place searched;
    keys that cannot be used (half a pair, a broken profile file) are a setting to fix, exit 2."""
    from ..errors import ConfigurationError

    try:
        settings.credentials()
    except ConfigurationError as exc:
        if settings.credentials_problem:
            raise UsageError(str(exc), kind=type(exc).__name__) from None
        raise Unanswered(exc) from None


def error_line(message: object, stream: IO[str] | None = None) -> None:
    """`ncr-image: error: <sentence>` on one line, without terminal control sequences (API text can carry both)."""
    from ..terminal import strip_control

    text = " ".join(strip_control(message).split())
    print(f"{PROG}: error: {text}", file=stream or sys.stderr)


def _whole_number(text: str, minimum: int, bound: str) -> int:
    try:
        value = int(text)
    except ValueError:
        from ..errors import shorten

        raise argparse.ArgumentTypeError(f"expected a whole number, got {shorten(text)}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer of at least 0."""
    return _whole_number(text, 0, "0 or more")


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    return _whole_number(text, 1, "at least 1")
