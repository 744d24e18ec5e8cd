"""The one table of settings and where each comes from (sites, regions and hosts are `sites.py`'s table).

Precedence, written once: explicit argument > Pulumi stack config > environment > profile file > default.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .signing import mask
from .sites import DEFAULT_REGION, DEFAULT_SITE, SITES, api_endpoint


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
    Setting("site", "ncloud:site", ("NCLOUD_SITE",), None, DEFAULT_SITE, "public or gov"),
    Setting("profile", "ncloud:profile", ("NCLOUD_PROFILE",), None, "DEFAULT",
            "section of the profile file to read keys from"),
    Setting("endpoint", "ncr:endpoint", ("NCR_ENDPOINT",), None, None,
            "scheme://host[:port] replacing the site's host; http only for loopback"),
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

    @property
    def host(self) -> str:
        """scheme://host[:port] the requests go to."""
        return self.endpoint or api_endpoint(self.site, self.region).host

    @property
    def prefix(self) -> str:
        """The region's path prefix, e.g. `/ncr/api/v2`."""
        return api_endpoint(self.site, self.region).prefix

    @property
    def base_url(self) -> str:
        return self.host + self.prefix

    def credentials(self) -> tuple[str, str]:
        """(access key, secret key), or an error naming every place that was searched."""
        missing = [name for name in ("access_key", "secret_key") if not getattr(self, name)]
        if missing:
            what = " and ".join(n.replace("_", " ") for n in missing)
            places = "; ".join(self.searched.get(n, describe_places(n, self.profile, self.profile_file))
                               for n in missing)
            raise ConfigurationError(reason=f"No NCP {what} found. Looked in: {places}.")
        return self.access_key, self.secret_key  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (f"Settings(site={self.site!r}, region={self.region!r}, endpoint={self.endpoint!r}, "
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

    `stack_config` is None outside Pulumi (the CLI), so errors then do not point at Pulumi config.
    """
    with_pulumi = stack_config is not None
    explicit = explicit or {}
    stack_config = stack_config or {}
    environ = os.environ if environ is None else environ
    unknown = set(explicit) - set(SETTINGS_BY_NAME)
    if unknown:
        raise ConfigurationError(reason=f"Unknown setting(s): {', '.join(sorted(unknown))}")

    def first(name: str, with_file: dict[str, str] | None) -> tuple[str | None, str]:
        s = SETTINGS_BY_NAME[name]
        value = _text(explicit.get(name))
        if value is not None:
            return value, "argument"
        value = _text(stack_config.get(s.pulumi_key))
        if value is not None:
            return value, f"Pulumi config {s.pulumi_key}"
        for var in s.env_vars:
            value = _text(environ.get(var))
            if value is not None:
                return value, f"environment {var}"
        if s.profile_key and with_file is not None:
            value = _text(with_file.get(s.profile_key))
            if value is not None:
                return value, "profile file"
        return s.default, "default"

    profile, _ = first("profile", None)
    path = Path(profile_file) if profile_file is not None else default_profile_file()
    file_values = read_profile(path, profile or PROFILE_SECTION)
    values = {name: first(name, file_values)[0] for name in SETTINGS_BY_NAME}

    site = validate_site(values["site"] or DEFAULT_SITE)
    region = validate_region(values["region"] or DEFAULT_REGION, site)
    endpoint = validate_endpoint(values["endpoint"]) if values["endpoint"] else None
    for key_name in ("access_key", "secret_key"):
        validate_key(key_name, values[key_name])
    return Settings(
        region=region,
        site=site,
        endpoint=endpoint,
        profile=profile or PROFILE_SECTION,
        access_key=values["access_key"],
        secret_key=values["secret_key"],
        profile_file=str(path),
        searched={n: describe_places(n, profile or PROFILE_SECTION, str(path), with_pulumi)
                  for n in ("access_key", "secret_key")},
    )


def read_profile(path: Path, section: str) -> dict[str, str]:
    """Keys of one section of the INI profile file; a missing file or section gives nothing."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        return {}
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigurationError(reason=f"Cannot read profile file {path}: {type(exc).__name__}") from None
    if section == PROFILE_SECTION:
        return dict(parser.defaults())
    if not parser.has_section(section):
        return {}
    return dict(parser.items(section))


def validate_site(site: str) -> str:
    key = str(site).strip().lower()
    if key not in SITES:
        raise ConfigurationError(
            reason=f"Unknown site {site!r}: valid sites are {', '.join(SITES)} "
                   "(for the financial cloud, set the endpoint explicitly)")
    return key


def validate_region(region: str, site: str = DEFAULT_SITE) -> str:
    key = str(region).strip().upper()
    valid = SITES[site].prefixes
    if key not in valid:
        raise ConfigurationError(
            reason=f"Unknown region {region!r} for site {site}: valid regions are {', '.join(valid)}")
    return key


def validate_endpoint(endpoint: str) -> str:
    """Normalise an endpoint to scheme://host[:port]; https, or http to a loopback host only."""
    def bad(why: str) -> ConfigurationError:
        return ConfigurationError(reason=f"Invalid endpoint {endpoint!r}: {why}")

    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in endpoint):
        raise bad("it contains whitespace or control characters")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme not in ("https", "http"):
        raise bad("it must start with https:// (or http:// for a loopback host)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise bad("credentials do not belong in the endpoint")
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


def validate_key(name: str, value: str | None) -> None:
    """Keys travel in headers: refuse control characters and whitespace (never echo the value)."""
    if value is not None and any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        label = name.replace("_", " ")
        raise ConfigurationError(reason=f"The {label} contains whitespace or control characters (CR, LF, ...)")


def _text(value: object) -> str | None:
    """A setting's value as text; None and empty text count as unset."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
