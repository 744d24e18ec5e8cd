"""The one table of settings and where each comes from (sites, regions and hosts are `sites.py`'s table).

Precedence, written once: explicit argument > Pulumi stack config > environment > profile file > default.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigurationError, shorten
from .signing import mask
from .sites import (
    API_VERSION,
    API_VERSIONS,
    DEFAULT_REGION,
    DEFAULT_SITE,
    ENDPOINT_ONLY_SITES,
    SITES,
    api_endpoint,
    api_sites,
)


@dataclass(frozen=True)
class Setting:
    """One row of the configuration table."""

    name: str
    pulumi_key: str
    env_vars: tuple[str, ...]
    profile_key: str | None
    default: str | None
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("access_key", "ncloud:accessKey", ("NCLOUD_ACCESS_KEY", "NCLOUD_ACCESS_KEY_ID"),
            "ncloud_access_key_id", None, "NCP API access key id"),
    Setting("secret_key", "ncloud:secretKey", ("NCLOUD_SECRET_KEY", "NCLOUD_SECRET_ACCESS_KEY"),
            "ncloud_secret_access_key", None, "NCP API secret key (set it as a Pulumi secret)"),
    Setting("region", "ncloud:region", ("NCLOUD_REGION",), None, DEFAULT_REGION,
            "KR, SGN or JPN on site public; KR or KRS on site gov"),
    Setting("site", "ncloud:site", ("NCLOUD_SITE",), None, DEFAULT_SITE, "public or gov; fin only with an endpoint"),
    Setting("profile", "ncloud:profile", ("NCLOUD_PROFILE",), None, "DEFAULT",
            "section of the profile file to read keys from"),
    Setting("endpoint", "ncr:endpoint", ("NCR_ENDPOINT",), None, None,
            "scheme://host[:port] replacing the site's host; http only for loopback"),
    Setting("api_version", "ncr:apiVersion", ("NCR_API_VERSION",), None, API_VERSION,
            "v2 (every site) or v3 (NCR's standard API, site public only); answers mean the same in both"),
)
SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
# Every environment variable a setting is read from (what a clean test or benchmark environment clears).
ENV_VARS: tuple[str, ...] = tuple(var for s in SETTINGS for var in s.env_vars)
PROFILE_SECTION = "DEFAULT"


def default_profile_file() -> Path:
    """`~/.ncloud/configure`, the file NCP's own tools read."""
    return Path.home() / ".ncloud" / "configure"


@dataclass(frozen=True, repr=False)
class Settings:
    """Resolved settings. Only plain values: safe to hold, never printed with the secret key."""

    region: str = DEFAULT_REGION
    site: str = DEFAULT_SITE
    endpoint: str | None = None
    profile: str = PROFILE_SECTION
    access_key: str | None = None
    secret_key: str | None = field(default=None, compare=False)
    profile_file: str | None = None
    searched: Mapping[str, str] = field(default_factory=dict, compare=False)
    credentials_source: str | None = field(default=None, compare=False)
    """Where the key pair came from (`environment`, `profile file`, ...); None when none was found."""
    credentials_problem: str | None = field(default=None, compare=False)
    """Why the keys cannot be used (half a pair, a broken profile file); raised only when they are needed."""
    credentials_note: str | None = field(default=None, compare=False)
    """What the missing-keys error adds: the profile file has no section of the profile's name."""
    api_version: str = API_VERSION

    @property
    def host(self) -> str:
        """scheme://host[:port] the requests go to."""
        return self.endpoint or api_endpoint(self.site, self.region, self.api_version).host

    @property
    def prefix(self) -> str:
        """The region's path prefix, e.g. `/ncr/api/v2` (`/api/v3` in API v3, where the host names the region)."""
        return api_endpoint(self.site, self.region, self.api_version).prefix

    @property
    def base_url(self) -> str:
        return self.host + self.prefix

    def credentials(self) -> tuple[str, str]:
        """(access key, secret key), or an error naming every place that was searched."""
        if self.credentials_problem:
            raise ConfigurationError(reason=self.credentials_problem)
        missing = [name for name in KEY_PAIR if not getattr(self, name)]
        if missing:
            what = " and ".join(n.replace("_", " ") for n in missing)
            places = "; ".join(self.searched.get(n, describe_places(n, self.profile, self.profile_file))
                               for n in missing)
            note = f" {self.credentials_note}" if self.credentials_note else ""
            raise ConfigurationError(reason=f"No NCP {what} found. Looked in: {places}.{note}")
        return self.access_key, self.secret_key  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (f"Settings(site={self.site!r}, region={self.region!r}, endpoint={self.endpoint!r}, "
                f"api_version={self.api_version!r}, "
                f"profile={self.profile!r}, access_key={mask(self.access_key)!r}, "
                f"secret_key={'<set>' if self.secret_key else '<none>'})")


def describe_places(name: str, profile: str = PROFILE_SECTION, profile_file: str | None = None,
                    with_pulumi: bool = True) -> str:
    """Human text for where a setting is looked up (Pulumi config only where there is one)."""
    s = SETTINGS_BY_NAME[name]
    places = [f"Pulumi config {s.pulumi_key}"] if with_pulumi else []
    places.append("environment " + " or ".join(s.env_vars))
    if s.profile_key:
        path = profile_file or str(default_profile_file())
        places.append(f"profile file {path} [{profile}] {s.profile_key}")
    return ", ".join(places)


def resolve_settings(
    explicit: Mapping[str, str | None] | None = None,
    stack_config: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    profile_file: str | os.PathLike | None = None,
) -> Settings:
    """Resolve every setting by the one precedence; validate region, site, endpoint and keys.

    The access key and secret key are resolved as a pair (see `resolve_key_pair`). The profile
    file is read only when no place above it sets a key, and a broken one is an error only when
    the keys are then asked for. `stack_config` is None outside Pulumi (the CLI), so errors then
    do not point at Pulumi config.
    """
    with_pulumi = stack_config is not None
    explicit = explicit or {}
    stack_config = stack_config or {}
    environ = os.environ if environ is None else environ
    unknown = set(explicit) - set(SETTINGS_BY_NAME)
    if unknown:
        raise ConfigurationError(reason=f"Unknown setting(s): {', '.join(sorted(unknown))}")

    def first(name: str) -> str | None:
        """A setting the profile file does not hold: argument, Pulumi config, environment, default."""
        s = SETTINGS_BY_NAME[name]
        candidates = [explicit.get(name), stack_config.get(s.pulumi_key), *(environ.get(v) for v in s.env_vars)]
        return next((t for t in map(_text, candidates) if t is not None), s.default)

    values = {name: first(name) for name in SETTINGS_BY_NAME if name not in KEY_PAIR}
    site = validate_site(values["site"] or DEFAULT_SITE, endpoint_given=bool(values["endpoint"]))
    region = validate_region(values["region"] or DEFAULT_REGION, site)
    endpoint = validate_endpoint(values["endpoint"]) if values["endpoint"] else None
    profile = values["profile"] or PROFILE_SECTION
    path = Path(profile_file) if profile_file is not None else default_profile_file()
    pair = resolve_key_pair(explicit, stack_config if with_pulumi else None, environ, path, profile)
    api_version = validate_api_version(values["api_version"] or API_VERSION, site)
    return Settings(
        region=region,
        site=site,
        endpoint=endpoint,
        api_version=api_version,
        profile=profile,
        access_key=pair.access_key,
        secret_key=pair.secret_key,
        profile_file=str(path),
        searched={n: describe_places(n, profile, str(path), with_pulumi) for n in KEY_PAIR},
        credentials_source=pair.source,
        credentials_problem=pair.problem,
        credentials_note=pair.note,
    )


KEY_PAIR = ("access_key", "secret_key")


@dataclass(frozen=True, repr=False)
class KeyPair:
    """The access key and secret key as found together, where, or why they cannot be used."""

    access_key: str | None = None
    secret_key: str | None = None
    source: str | None = None
    problem: str | None = None
    note: str | None = None


# One place's lookup of one key: (value or None, human text naming exactly where).
Look = Callable[["Setting"], tuple[str | None, str]]


def resolve_key_pair(explicit: Mapping[str, str | None], stack_config: Mapping[str, object] | None,
                     environ: Mapping[str, str], path: Path, profile: str) -> KeyPair:
    """Both keys from the first place that sets either: argument, Pulumi config, environment, profile file.

    Mixing places would sign with one account's access key and another's secret key (or a stale
    one), which NCR answers with a bare 401; half a pair is a problem naming both places instead.
    """
    from .profile_file import read_profile_file

    access, secret = (SETTINGS_BY_NAME[n] for n in KEY_PAIR)
    read: list = []  # the profile file, read at most once and only when its turn comes

    def from_env(s: Setting) -> tuple[str | None, str]:
        for var in s.env_vars:
            value = _key_text(environ.get(var))
            if value is not None:
                return value, f"environment {var}"
        return None, "environment " + " or ".join(s.env_vars)

    def from_file(s: Setting) -> tuple[str | None, str]:
        if not read:
            read.append(read_profile_file(path))
        return (_text(read[0].section(profile).get(str(s.profile_key))),
                f"profile file {path} [{profile}] {s.profile_key}")

    places: list[tuple[str, Look]] = [("arguments", lambda s: (_key_text(explicit.get(s.name)), f"argument {s.name}"))]
    if stack_config is not None:
        places.append(("Pulumi config",
                       lambda s: (_key_text(stack_config.get(s.pulumi_key)), f"Pulumi config {s.pulumi_key}")))
    places += [("the environment", from_env), (f"profile file {path} [{profile}]", from_file)]

    for index, (source, look) in enumerate(places):
        (ak, ak_where), (sk, sk_where) = look(access), look(secret)
        if ak is None and sk is None:
            continue
        validate_key("access_key", ak, ak_where)
        validate_key("secret_key", sk, sk_where)
        if ak is not None and sk is not None:
            return KeyPair(ak, sk, source)
        have, have_where, lacking = (access, ak_where, secret) if ak is not None else (secret, sk_where, access)
        for _, lower in places[index + 1:]:
            other, other_where = lower(lacking)
            if other is not None:
                return KeyPair(problem=(
                    f"The NCP {_label(have)} is set in {have_where} but the {_label(lacking)} in {other_where}: "
                    f"a key pair must come from one place. Set both in {source}, or neither."))
        # The other half is nowhere: credentials() reports it missing, naming every place looked in.
        return KeyPair(ak, sk, source)
    if read and read[0].problem:
        return KeyPair(problem=read[0].problem)
    return KeyPair(note=read[0].missing_section_note(profile) if read else None)


def _label(s: Setting) -> str:
    return s.name.replace("_", " ")


def validate_site(site: str, endpoint_given: bool = False) -> str:
    """The site whose paths and regions requests use: `public` or `gov`; `fin` (NCP's tools' name for the
    financial cloud, whose NCR API host NCP does not document) only with an endpoint, spoken to as its
    ENDPOINT_ONLY_SITES row says. Without one, a ConfigurationError says an endpoint is needed."""
    key = str(site).strip().lower()
    if key in ENDPOINT_ONLY_SITES:
        if not endpoint_given:
            raise ConfigurationError(
                reason=f"Site {shorten(key)} needs an endpoint: NCP documents no NCR API host for it. Set its API endpoint "
                       "(ncr:endpoint, NCR_ENDPOINT or --endpoint)")
        return ENDPOINT_ONLY_SITES[key]
    if key not in SITES:
        raise ConfigurationError(
            reason=f"Unknown site {shorten(site)}: valid sites are {', '.join(SITES)} "
                   f"({', '.join(ENDPOINT_ONLY_SITES)} with an explicit endpoint)")
    return key


def validate_region(region: str, site: str = DEFAULT_SITE) -> str:
    key = str(region).strip().upper()
    valid = SITES[site].prefixes
    if key not in valid:
        raise ConfigurationError(
            reason=f"Unknown region {shorten(region)} for site {site}: valid regions are {', '.join(valid)}")
    return key


def validate_api_version(version: str, site: str | None = None) -> str:
    """`v2` or `v3` (case and a missing `v` forgiven); v3 on a site NCP documents no v3 API for is an error."""
    key = str(version).strip().lower()
    key = f"v{key}" if key.isdigit() else key
    if key not in API_VERSIONS:
        raise ConfigurationError(
            reason=f"Unknown NCR API version {shorten(version)}: valid versions are {', '.join(API_VERSIONS)}")
    if site is not None and site not in api_sites(key):
        others = [v for v in API_VERSIONS if site in api_sites(v)]
        raise ConfigurationError(
            reason=f"NCR API {key} is not available on site {site}: NCP documents only API {', '.join(others)} there. "
                   f"Use api_version {others[0]} (ncr:apiVersion, NCR_API_VERSION or --api-version).")
    return key


def validate_endpoint(endpoint: str) -> str:
    """Normalise an endpoint to scheme://host[:port]; https, or http to a loopback host only."""
    def bad(why: str) -> ConfigurationError:
        return ConfigurationError(reason=f"Invalid endpoint {shorten(endpoint)}: {why}")

    if "@" in endpoint:
        # Whatever precedes the '@' may be a password: refuse without echoing any of it.
        raise ConfigurationError(reason="Invalid endpoint: credentials (user:password@) do not belong in the endpoint; "
                                        "it is not shown here because it may hold a password")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in endpoint):
        raise bad("it contains whitespace or control characters")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme not in ("https", "http"):
        raise bad("it must start with https:// (or http:// for a loopback host)")
    if not parts.hostname:
        raise bad("it has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise bad("give only scheme, host and port; the region selects the path")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise bad("http:// is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https://")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_key(name: str, value: str | None, where: str | None = None) -> None:
    """Keys travel in headers and signatures: printable ASCII only. The message names the character's
    code point and position, never the value (a pasted zero-width space is invisible otherwise)."""
    if value is None:
        return
    for position, c in enumerate(value, start=1):
        if not 0x21 <= ord(c) <= 0x7E:
            label = name.replace("_", " ")
            source = f" from {where}" if where else ""
            kind = "non-ASCII" if ord(c) > 0x7F and not c.isspace() else "whitespace or control"
            raise ConfigurationError(
                reason=f"The {label}{source} contains a {kind} character (U+{ord(c):04X} at position {position}); "
                       "NCP keys are printable ASCII: copy the key again without it")


def _key_text(value: object) -> str | None:
    """A key as given; None and blank text count as unset, as for every setting. Only a trailing line end (what
    reading a key from a file or a secret store often adds) is dropped: any other whitespace, leading or
    trailing, is left for validate_key to refuse, since a key with spaces around it was pasted from somewhere
    that may have added more."""
    if value is None or not str(value).strip():
        return None
    text = str(value)
    # One line end, as the README says: a second is a blank line that validate_key then names.
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


def _text(value: object) -> str | None:
    """A setting's value as text; None and empty text count as unset."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
