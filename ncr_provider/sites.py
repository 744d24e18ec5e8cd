"""The one table of NCR facts: sites, regions, API hosts and path prefixes, Docker hosts, type tokens.

Every other module derives what it needs from these rows (config's validation, names' reference
patterns, the emulator's routes and defaults, the policy pack's schema, the stack-export reader),
so a new fact is one new row here. The settings and their environment variables are the other
table, `config.SETTINGS`. Sources: shared/ncr-api.md (API v2) and shared/ncr-api-v3.md (API v3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

API_VERSION = "v2"


@dataclass(frozen=True)
class ApiEndpoint:
    """Where one region's NCR API answers for one API version: host and path prefix."""

    site: str
    region: str
    version: str
    host: str
    prefix: str

    @property
    def base_url(self) -> str:
        return self.host + self.prefix


# One row per (site, region, API version). NCP documents no API host for the financial cloud:
# it is reached only through an explicit endpoint. API v3 (the "Ncloud API standard") names the
# region in the host and has one prefix; NCP documents no v3 host for the gov (or financial) site.
API_ENDPOINTS: tuple[ApiEndpoint, ...] = (
    ApiEndpoint("public", "KR", "v2", "https://ncr.apigw.ntruss.com", "/ncr/api/v2"),
    ApiEndpoint("public", "SGN", "v2", "https://ncr.apigw.ntruss.com", "/ncr/sgn-api/v2"),
    ApiEndpoint("public", "JPN", "v2", "https://ncr.apigw.ntruss.com", "/ncr/jpn-api/v2"),
    ApiEndpoint("gov", "KR", "v2", "https://gov-ncr.apigw.gov-ntruss.com", "/ncr/kr/v2"),
    ApiEndpoint("gov", "KRS", "v2", "https://gov-ncr.apigw.gov-ntruss.com", "/ncr/krs/v2"),
    ApiEndpoint("public", "KR", "v3", "https://kr-ncr.apigw.ntruss.com", "/api/v3"),
    ApiEndpoint("public", "SGN", "v3", "https://sg-ncr.apigw.ntruss.com", "/api/v3"),
    ApiEndpoint("public", "JPN", "v3", "https://jp-ncr.apigw.ntruss.com", "/api/v3"),
)
# Every API version some site answers, the default (API_VERSION) first.
API_VERSIONS: tuple[str, ...] = tuple(dict.fromkeys((API_VERSION, *(row.version for row in API_ENDPOINTS))))


def api_sites(version: str) -> tuple[str, ...]:
    """The sites that answer an API version (v3: public only)."""
    return tuple(dict.fromkeys(row.site for row in API_ENDPOINTS if row.version == version))


@dataclass(frozen=True)
class DockerHost:
    """One form of Docker registry host: `<name>.<code>.<domain>`, or `<name>.<domain>` without a code.

    `name` is the registry name, or the private endpoint id where `private`. `region` is None where
    the host does not say which of its site's regions the registry lives in.
    """

    site: str
    region: str | None
    code: str | None
    domain: str
    private: bool = False

    @property
    def suffix(self) -> str:
        """The host after `<name>.`, e.g. `kr.ncr.ntruss.com`."""
        return f"{self.code}.{self.domain}" if self.code else self.domain

    def host(self, name: str) -> str:
        return f"{name}.{self.suffix}"


DOCKER_HOSTS: tuple[DockerHost, ...] = (
    DockerHost("public", "KR", "kr", "ncr.ntruss.com"),
    DockerHost("public", "SGN", "sg", "ncr.ntruss.com"),
    DockerHost("public", "JPN", "jp", "ncr.ntruss.com"),
    DockerHost("gov", None, None, "ncr.gov-ntruss.com"),
    DockerHost("public", "KR", "kr", "private-ncr.ntruss.com", private=True),
    DockerHost("public", "SGN", "sg", "private-ncr.ntruss.com", private=True),
    DockerHost("public", "JPN", "jp", "private-ncr.ntruss.com", private=True),
    DockerHost("gov", None, None, "private-ncr.gov-ntruss.com", private=True),
    # The financial cloud's hosts follow NCP's naming (shared/ncr-api.md); it has no API row, so
    # its references are checked only through an explicit endpoint, and reported otherwise.
    DockerHost("fin", None, None, "ncr.fin-ntruss.com"),
    DockerHost("fin", None, None, "private-ncr.fin-ntruss.com", private=True),
)

# What any NCR Docker host looks like, beyond the forms above: `...ncr.<anything>ntruss.com`, or a
# `private-ncr` label between others in any domain (`<id>.<...>.private-ncr.<...>`). A host like this
# that is none of the forms is reported as an NCR reference we cannot place, never skipped as
# another registry's.
NCR_HOST_PATTERN = r"(?:[a-z0-9_-]+\.)+(?:private-)?ncr\.(?:[a-z0-9_-]+\.)*[a-z0-9_-]*ntruss\.com"
PRIVATE_NCR_LABEL = "private-ncr"


def docker_host_form(site: str, region: str, private: bool = False) -> DockerHost:
    """The Docker host form of a registry in a site and region (a form naming no region serves them all)."""
    for form in DOCKER_HOSTS:
        if form.site == site and form.private == private and form.region in (region, None):
            return form
    raise KeyError(f"No Docker host form for site {site!r}, region {region!r}")


def describe_docker_hosts(site: str | None = None, private: bool = False) -> str:
    """`<registry>.<kr|sg|jp>.ncr.ntruss.com or <registry>.ncr.gov-ntruss.com`, from the rows (of one site if given)."""
    by_domain: dict[str, list[str]] = {}
    for form in DOCKER_HOSTS:
        if form.private == private and site in (None, form.site):
            codes = by_domain.setdefault(form.domain, [])
            if form.code:
                codes.append(form.code)
    name = "<private-id>" if private else "<registry>"
    return " or ".join(f"{name}.<{'|'.join(codes)}>.{domain}" if codes else f"{name}.{domain}"
                       for domain, codes in by_domain.items())


@dataclass(frozen=True)
class Site:
    """An NCP site: its NCR API host and each region's path prefix (API version v2)."""

    name: str
    host: str
    prefixes: Mapping[str, str]


def _sites(version: str) -> dict[str, Site]:
    rows = [row for row in API_ENDPOINTS if row.version == version]
    names = dict.fromkeys(row.site for row in rows)
    return {name: Site(name, next(row.host for row in rows if row.site == name),
                       {row.region: row.prefix for row in rows if row.site == name})
            for name in names}


# site -> its v2 host and region prefixes; the order of the rows is the order users read.
SITES: Mapping[str, Site] = _sites(API_VERSION)
DEFAULT_SITE = "public"

# Sites NCP's own tools know (NCLOUD_SITE) whose NCR API host NCP does not document: usable only with an
# explicit endpoint, which is then spoken to with the paths and regions of the site named here (the way
# references to such a site's Docker hosts are already looked up through an endpoint).
ENDPOINT_ONLY_SITES: Mapping[str, str] = {"fin": "public"}
DEFAULT_REGION = "KR"


def api_endpoint(site: str, region: str, version: str = API_VERSION) -> ApiEndpoint:
    """The row for a site, region and API version; KeyError where NCR has none."""
    for row in API_ENDPOINTS:
        if (row.site, row.region, row.version) == (site, region, version):
            return row
    raise KeyError(f"No NCR API {version} endpoint for site {site!r}, region {region!r}")


# The Pulumi type tokens of the read resources: `pulumi-python:dynamic/<module>:<class name>`.
RESOURCE_MODULE = "ncr"
IMAGE_RESOURCE = "NcrImage"
TAG_RESOURCE = "NcrImageTag"
REGISTRY_RESOURCE = "NcrRegistry"


def type_token(resource: str) -> str:
    """The type token the Pulumi Python SDK gives a dynamic resource class registered in our module."""
    return f"pulumi-python:dynamic/{RESOURCE_MODULE}:{resource}"


IMAGE_TYPE_TOKEN = type_token(IMAGE_RESOURCE)
TAG_TYPE_TOKEN = type_token(TAG_RESOURCE)
REGISTRY_TYPE_TOKEN = type_token(REGISTRY_RESOURCE)
