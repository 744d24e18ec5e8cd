"""Hostile names and configuration: refused everywhere with an error naming the field, nothing sent."""

from __future__ import annotations

import pytest

from ncr_provider.cli import main as ncr_image
from ncr_provider.client import NcrClient
from ncr_provider.config import resolve_settings
from ncr_provider.errors import ConfigurationError, InvalidNameError
from ncr_provider.names import find_references, parse_reference
from ncr_provider.provider import NcrImageProvider

# Names that must never reach a request path. None contains ':' (a tag separator in a reference).
HOSTILE_IMAGES = [
    "", " ", ".", "..", "../etc/passwd", "a/../../b", "a/./b", "team/..", "%2e%2e", "%2e%2e%2fetc", "a%2Fb",
    "a%00b", "a\x00b", "a\r\nb", "a\nX-Injected: 1", "a?b", "a?page=2", "a#frag", "a b", " a", "a\t", "a//b",
    "/a", "a/", "a\\b", "\\..\\b", "ａ", "tеam", "a\u200bb", "a\u202eb", "Team", "a" * 10_000, "a;b", "a@b", "~root",
    "a%", "a|b", "a*", "-a", "a-", "a..b", "a\x7fb",
]
# The same, plus names that are fine images but not single-segment registries.
HOSTILE_REGISTRIES = [name for name in HOSTILE_IMAGES if "/" not in name] + ["a/b", "a" * 64, "a_b", "a.b"]

assert len(HOSTILE_IMAGES) >= 30 and len(HOSTILE_REGISTRIES) >= 30


def ids(names):
    return [repr(n)[:24] for n in names]


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_client_refuses_hostile_image_names(client, emulator, image):
    with pytest.raises(InvalidNameError) as caught:
        client.get_image("prod", image)
    assert caught.value.field == "image_name"
    assert emulator.requests == []


@pytest.mark.parametrize("registry", HOSTILE_REGISTRIES, ids=ids(HOSTILE_REGISTRIES))
def test_client_refuses_hostile_registry_names(client, emulator, registry):
    with pytest.raises(InvalidNameError) as caught:
        client.get_image(registry, "team/web")
    assert caught.value.field == "registry"
    assert emulator.requests == []


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_provider_check_names_the_property(image):
    failures = NcrImageProvider().check({}, {"registry": "prod", "image_name": image}).failures
    assert [f.property for f in failures] == ["image_name"]


@pytest.mark.parametrize("registry", HOSTILE_REGISTRIES, ids=ids(HOSTILE_REGISTRIES))
def test_provider_check_names_the_registry_property(registry):
    failures = NcrImageProvider().check({}, {"registry": registry, "image_name": "team/web"}).failures
    assert [f.property for f in failures] == ["registry"]


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_cli_get_refuses_with_exit_2_and_sends_nothing(ncp_env, capsys, image):
    code = ncr_image(["get", f"prod/{image}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ncr-image: error: Invalid ")
    assert len(err.strip().splitlines()) == 1
    assert ncp_env.requests == []


def test_cli_check_refuses_all_hostile_references_at_once(ncp_env, capsys):
    refs = [f"prod/{image}" for image in HOSTILE_IMAGES if image.strip() and "\n" not in image and "\r" not in image]
    assert ncr_image(["check", "prod/team/web", *refs]) == 2
    assert ncp_env.requests == []
    assert "Invalid" in capsys.readouterr().err


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_reference_parser_refuses_hostile_docker_references(image):
    with pytest.raises(InvalidNameError):
        parse_reference(f"prod.kr.ncr.ntruss.com/{image}")


@pytest.mark.parametrize("image", [i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)],
                         ids=ids([i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)]))
def test_policy_scanner_reports_hostile_references_as_malformed(image):
    (found,) = find_references({"spec": {"image": f"prod.kr.ncr.ntruss.com/{image}"}})
    assert found.ref is None and found.path == "spec.image"
    assert found.error.field in ("spec.image", "spec.image digest", "spec.image tag", "registry", "image_name")


def test_policy_never_looks_up_a_hostile_reference(emulator, monkeypatch):
    from test_policy import resource_args  # the policy's own test helpers: args as pulumi_policy builds them

    from ncr_provider.policy import LookupCache, mutable_image_tags_policies

    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", emulator.secret_key)
    hostile = [i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)]
    props = {"containers": [{"image": f"prod.kr.ncr.ntruss.com/{image}"} for image in hostile]}
    cache = LookupCache()
    try:
        main, _ = mutable_image_tags_policies(lookups=cache)
        violations = []
        main.validate(resource_args(props, {"endpoint": emulator.url}), lambda message, urn=None: violations.append(message))
    finally:
        cache.close()
    assert len(violations) == len(hostile)
    assert emulator.requests == []


# -- hostile configuration --------------------------------------------------------------------

@pytest.mark.parametrize("explicit,fragment", [
    ({"endpoint": "http://ncr.example.com"}, "http:// is allowed only for loopback hosts"),
    ({"endpoint": "http://10.0.0.1:8080"}, "http:// is allowed only for loopback hosts"),
    ({"endpoint": "https://ncr.example.com/evil/path"}, "give only scheme, host and port"),
    ({"endpoint": "https://ncr.example.com?x=1"}, "give only scheme, host and port"),
    ({"endpoint": "https://user:secret@ncr.example.com"}, "credentials do not belong in the endpoint"),
    ({"endpoint": "https://@ncr.example.com"}, "credentials do not belong in the endpoint"),
    ({"endpoint": "file:///etc/passwd"}, "it must start with https://"),
    ({"endpoint": "https://ncr.example.com\r\nX: 1"}, "whitespace or control characters"),
    ({"region": "MARS"}, "valid regions are KR, SGN, JPN"),
    ({"site": "fin"}, "valid sites are public, gov"),
    ({"access_key": "AK\rX"}, "The access key contains whitespace or control characters"),
    ({"access_key": "AK\nX"}, "The access key contains whitespace or control characters"),
    ({"secret_key": "SK\nX"}, "The secret key contains whitespace or control characters"),
])
def test_hostile_configuration_is_refused_before_any_request(emulator, explicit, fragment):
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(explicit, None, {})
    assert fragment in str(caught.value)
    assert "SK\nX" not in str(caught.value)
    assert emulator.requests == []


def test_hostile_endpoint_reaches_neither_client_nor_provider_check(emulator):
    with pytest.raises(ConfigurationError):
        NcrClient(access_key=emulator.access_key, secret_key=emulator.secret_key, site="moon")
    failures = NcrImageProvider().check({}, {"registry": "prod", "image_name": "web", "endpoint": "http://evil.example"}).failures
    assert [f.property for f in failures] == ["endpoint"]
