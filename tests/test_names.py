"""Name rules and Docker references: what is accepted, what is refused, and the field named."""

from __future__ import annotations

import pytest

from ncr_provider.errors import InvalidNameError
from ncr_provider.names import (
    ImageRef,
    NotNcrReference,
    UnknownNcrHost,
    digest_reference,
    docker_host,
    find_references,
    parse_reference,
    split_image_id,
    split_tag_id,
    validate_image_name,
    validate_registry,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("name", ["ncpdocker", "prod", "a", "team-1", "x" * 63])
def test_valid_registries(name):
    assert validate_registry(name) == name


@pytest.mark.parametrize("name", ["ncpdocker", "hello/world", "team/web", "a.b_c__d-e--f", "a/b/c/d"])
def test_valid_image_names(name):
    assert validate_image_name(name) == name


@pytest.mark.parametrize("name,reason", [
    ("", "it is empty"),
    ("a/b", "a registry name is a single segment and cannot contain '/'"),
    ("..", "'.' and '..' are not names"),
    ("Prod", "use lowercase letters, digits and '-', starting and ending with a letter or digit"),
    ("x" * 64, "it is longer than 63 characters"),
    ("a b", "it contains whitespace"),
    ("a?b", "it contains '?'"),
])
def test_invalid_registries_name_the_field(name, reason):
    with pytest.raises(InvalidNameError) as caught:
        validate_registry(name)
    assert caught.value.field == "registry"
    assert caught.value.reason == reason
    assert str(caught.value).startswith("Invalid registry ")


@pytest.mark.parametrize("name,reason", [
    ("hello//world", "it has an empty path segment (leading, trailing or double '/')"),
    ("/abs", "it has an empty path segment (leading, trailing or double '/')"),
    ("../etc", "'.' and '..' segments are not allowed"),
    ("a/%2e%2e", "it contains '%' (names are sent encoded; give them decoded)"),
    ("a#b", "it contains '#'"),
    ("a\r\nb", "it contains whitespace"),
    ("a\x00b", "it contains control characters"),
    ("Team/Web", "segment 'Team' must be lowercase letters and digits, joined by '.', '_', '__' or '-'"),
    ("a" * 256, "it is longer than 255 characters"),
    ("tеam", "it contains non-ASCII characters"),  # Cyrillic е
])
def test_invalid_image_names_name_the_field(name, reason):
    with pytest.raises(InvalidNameError) as caught:
        validate_image_name(name)
    assert caught.value.field == "image_name"
    assert caught.value.reason == reason


def test_long_hostile_values_are_shortened_in_messages():
    with pytest.raises(InvalidNameError) as caught:
        validate_image_name("a" * 10_000 + "?")
    assert len(str(caught.value)) < 200
    assert "10001 characters" in str(caught.value)


@pytest.mark.parametrize("text,expected", [
    ("prod/team/web", ImageRef("prod", "team/web")),
    ("prod/team/web:v1.2", ImageRef("prod", "team/web", tag="v1.2")),
    (f"prod/team/web@{DIGEST}", ImageRef("prod", "team/web", digest=DIGEST)),
    ("prod.kr.ncr.ntruss.com/team/web:v1", ImageRef("prod", "team/web", "KR", "public", "v1")),
    ("prod.sg.ncr.ntruss.com/web", ImageRef("prod", "web", "SGN", "public")),
    (f"prod.jp.ncr.ntruss.com/a/b:t@{DIGEST}", ImageRef("prod", "a/b", "JPN", "public", "t", DIGEST)),
    ("secure.ncr.gov-ntruss.com/api:2", ImageRef("secure", "api", None, "gov", "2")),
    ("prod.kr.ncr.ntruss.com:443/web", ImageRef("prod", "web", "KR", "public")),
])
def test_parse_reference_forms(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", ["docker.io/library/nginx:1", "ghcr.io/a/b", "ncr.ntruss.com.evil.example/web",
                                  "localhost:5000/web"])
def test_other_registry_hosts_are_refused_by_name(text):
    with pytest.raises(NotNcrReference) as caught:
        parse_reference(text)
    assert "is not an NCR registry host" in str(caught.value)


@pytest.mark.parametrize("text", ["prod", "prod/", "prod/web:", "prod/web@sha256:zz", "prod/../web", "prod/web:-bad"])
def test_malformed_references_are_refused(text):
    with pytest.raises(InvalidNameError):
        parse_reference(text)


def test_split_image_id_keeps_slashes_in_the_image():
    assert split_image_id("prod/team/web") == ("prod", "team/web")
    with pytest.raises(InvalidNameError) as caught:
        split_image_id("no-slash")
    assert caught.value.field == "id"


def test_docker_host_round_trips():
    for region in ("KR", "SGN", "JPN"):
        ref = parse_reference(f"{docker_host('prod', region)}/web")
        assert (ref.registry, ref.region) == ("prod", region)
    assert docker_host("prod", "KR", "gov") == "prod.ncr.gov-ntruss.com"


def test_find_references_at_any_depth_with_paths():
    resource = {
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "prod.kr.ncr.ntruss.com/team/web:v1"},
            {"name": "side", "image": "nginx:1.25"},
            {"name": "cmd", "args": ["--mirror=prod.sg.ncr.ntruss.com/team/api@" + DIGEST]},
        ]}}},
        "count": 3,
    }
    found = find_references(resource)
    assert [(f.path, f.ref.key, f.ref.region) for f in found] == [
        ("spec.template.spec.containers[0].image", "prod/team/web", "KR"),
        ("spec.template.spec.containers[2].args[0]", "prod/team/api", "SGN"),
    ]


def test_find_references_reports_malformed_ones():
    found = find_references({"image": "prod.kr.ncr.ntruss.com/Team/Web"})
    assert len(found) == 1 and found[0].ref is None
    assert found[0].error.field == "image_name"


def test_split_tag_id_keeps_slashes_in_the_image_and_splits_at_the_last_colon():
    assert split_tag_id("prod/team/web:1.2.1") == ("prod", "team/web", "1.2.1")
    assert split_tag_id("a/b:latest") == ("a", "b", "latest")


@pytest.mark.parametrize("text", ["prod/team/web", "prod:1.0", "prod/team/web:", "prod/team:x/web", 7, None])
def test_split_tag_id_refuses_what_is_not_registry_image_tag(text):
    with pytest.raises(InvalidNameError):
        split_tag_id(text)


@pytest.mark.parametrize("region,site,host", [
    ("KR", "public", "prod.kr.ncr.ntruss.com"), ("SGN", "public", "prod.sg.ncr.ntruss.com"),
    ("JPN", "public", "prod.jp.ncr.ntruss.com"), ("KRS", "gov", "prod.ncr.gov-ntruss.com"),
])
def test_digest_reference_is_pullable_and_parses_back(region, site, host):
    text = digest_reference("prod", "team/web", DIGEST, region, site)
    assert text == f"{host}/team/web@{DIGEST}"
    ref = parse_reference(text)
    assert (ref.registry, ref.image_name, ref.digest, ref.tag, ref.site) == ("prod", "team/web", DIGEST, None, site)


@pytest.mark.parametrize("digest", ["sha256:xyz", "1.0", "sha256:" + "ab" * 32 + "\n", ""])
def test_digest_reference_refuses_what_is_not_a_digest(digest):
    with pytest.raises(InvalidNameError) as caught:
        digest_reference("prod", "team/web", digest, "KR")
    assert caught.value.field == "digest"


@pytest.mark.parametrize("digest", ["sha256:" + "0a" * 32, "sha512:" + "0a" * 64])
def test_references_by_either_digest_docker_pulls_by_parse(digest):
    assert parse_reference(f"prod/team/web@{digest}").digest == digest
    assert digest_reference("prod", "team/web", digest, "KR").endswith(f"/team/web@{digest}")


@pytest.mark.parametrize("digest", [
    "sha256:" + "0A" * 32, "sha256:" + "0a" * 31, "sha256:" + "0a" * 33, "sha512:" + "0a" * 32,
    "sha384:" + "0a" * 48, "md5:" + "0a" * 16, "SHA256:" + "0a" * 32, "sha256:" + "0g" * 32,
])
def test_digests_docker_cannot_pull_by_are_refused_in_references(digest):
    with pytest.raises(InvalidNameError) as caught:
        parse_reference(f"prod/team/web@{digest}")
    assert caught.value.field == "reference digest"
    assert "sha256:<64 lowercase hex digits> or sha512:<128 lowercase hex digits>" in str(caught.value)


# -- every NCR reference form ---------------------------------------------------------------------

DIGEST_64 = "sha256:" + "0a" * 32


@pytest.mark.parametrize("text,expected", [
    # public, any case, with port, tag and/or digest
    ("prod.kr.ncr.ntruss.com/team/web", ("prod", None, "public", "KR", None, None)),
    ("PROD.KR.NCR.NTRUSS.COM/team/web:Latest", ("prod", None, "public", "KR", "Latest", None)),
    ("prod.Sg.Ncr.Ntruss.com:443/team/web@" + DIGEST_64, ("prod", None, "public", "SGN", None, DIGEST_64)),
    ("prod.jp.ncr.ntruss.com:5000/team/web:1.0@" + DIGEST_64, ("prod", None, "public", "JPN", "1.0", DIGEST_64)),
    # private endpoints: the id is kept (lowercased) for the registry list to map
    ("k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web:latest", (None, "k7x2p9q4m1", "public", "KR", "latest", None)),
    ("K7X2P9Q4M1.SG.PRIVATE-NCR.NTRUSS.COM:443/team/web", (None, "k7x2p9q4m1", "public", "SGN", None, None)),
    # gov and its private form, financial and its private form: the host names no region
    ("portal.ncr.gov-ntruss.com/portal/web:1", ("portal", None, "gov", None, "1", None)),
    ("PORTAL.NCR.GOV-NTRUSS.COM/portal/web", ("portal", None, "gov", None, None, None)),
    ("g0v1d.private-ncr.gov-ntruss.com/portal/web@" + DIGEST_64, (None, "g0v1d", "gov", None, None, DIGEST_64)),
    ("bank.ncr.fin-ntruss.com:443/core/ledger:2", ("bank", None, "fin", None, "2", None)),
    ("f1n.private-ncr.fin-ntruss.com/core/ledger", (None, "f1n", "fin", None, None, None)),
])
def test_every_ncr_host_form_parses_in_any_case_with_port_tag_and_digest(text, expected):
    ref = parse_reference(text)
    assert (ref.registry, ref.private_id, ref.site, ref.region, ref.tag, ref.digest) == expected
    assert ref.image_name in text


@pytest.mark.parametrize("text", ["prod.us.ncr.ntruss.com/web", "x.private-ncr.ntruss.com/web",
                                  "a.b.ncr.gov-ntruss.com/web", "prod.kr.ncr.fin2-ntruss.com/web",
                                  "PROD.XX.NCR.NTRUSS.COM/web", "abc.kr.private-ncr.example.com/web",
                                  "ABC.PRIVATE-NCR.ntruss.net/web"])
def test_hosts_that_look_like_ncr_but_are_none_of_its_forms_are_not_mistaken_for_other_registries(text):
    with pytest.raises(UnknownNcrHost) as caught:
        parse_reference(text)
    assert "looks like an NCR registry host but is none of its forms" in str(caught.value)
    assert not isinstance(caught.value, NotNcrReference)


@pytest.mark.parametrize("port", ["0", "65536", "http", "", "44a"])
def test_a_port_that_is_not_a_port_is_refused(port):
    with pytest.raises(InvalidNameError, match="must be a number from 1 to 65535"):
        parse_reference(f"prod.kr.ncr.ntruss.com:{port}/team/web")


def test_the_scanner_matches_whole_host_names_only():
    # given free text with a host that merely ends in an NCR host, and real ones in other cases
    text = ("x_prod.kr.ncr.ntruss.com/team/web, PROD.KR.NCR.NTRUSS.COM:443/team/web:1 "
            "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/api bad.zz.ncr.ntruss.com/team/web")
    found = find_references({"args": text})
    # then the underscore host is its own (malformed) host, never prod's; each other host is read whole
    assert [(f.text, f.ref and f.ref.key, type(f.error).__name__ if f.error else None) for f in found] == [
        ("x_prod.kr.ncr.ntruss.com/team/web", None, "InvalidNameError"),
        ("PROD.KR.NCR.NTRUSS.COM:443/team/web:1", "prod/team/web", None),
        ("k7x2p9q4m1.kr.private-ncr.ntruss.com/team/api", "<private k7x2p9q4m1>/team/api", None),
        ("bad.zz.ncr.ntruss.com/team/web", None, "UnknownNcrHost"),
    ]


def test_replace_references_replaces_whole_tokens_only():
    from ncr_provider.names import replace_references

    text = "run prod.kr.ncr.ntruss.com/team/web:1 and prod.kr.ncr.ntruss.com/team/web:10, not prod/team/web:1"
    replaced = replace_references(text, {"prod.kr.ncr.ntruss.com/team/web:1": "PINNED"})
    assert replaced == "run PINNED and prod.kr.ncr.ntruss.com/team/web:10, not prod/team/web:1"


@pytest.mark.parametrize("text,expected", [
    # NCR-shaped runs that a single scanning pattern backtracks over quadratically: read once each
    ("ncr." * 20000 + "x", []),
    ("a.ncr." * 10000, []),
    ("prod.kr.ncr.ntruss.com:" * 10000, []),
    # one token holding thousands of hosts is one reference (parsed whole, so malformed), not thousands
    ("prod.kr.ncr.ntruss.com/" * 5000, [("prod.kr.ncr.ntruss.com/" * 5000, "InvalidNameError")]),
    # a host longer than any DNS name, with NCR's ending, is NCR's and malformed: never skipped
    ("_" * 100000 + ".ncr.ntruss.com/team/web", [("_" * 100000 + ".ncr.ntruss.com/team/web", "UnknownNcrHost")]),
    # separate tokens are separate references
    ("prod.kr.ncr.ntruss.com/team/web " * 3, [("prod.kr.ncr.ntruss.com/team/web", None)] * 3),
    # a bare host (a login server) or a host inside a URL with no image path names no image
    ("docker login prod.kr.ncr.ntruss.com && curl https://prod.kr.ncr.ntruss.com", []),
    # a URL to an NCR host is not a pull reference (docker pull takes no scheme): ignored, not an error
    ("see https://prod.kr.ncr.ntruss.com/team/web:1 now", []),
    ("see https://prod.kr.ncr.ntruss.com/v2/ or https://u:p@prod.kr.ncr.ntruss.com/v2/.", []),
    # in prose, sentence punctuation ends a reference; a value that is exactly one token keeps it (malformed)
    ("Our image is prod.kr.ncr.ntruss.com/team/web.", [("prod.kr.ncr.ntruss.com/team/web", None)]),
    ("pull prod.kr.ncr.ntruss.com/hello/world; run prod.kr.ncr.ntruss.com/team/web:1.2!",
     [("prod.kr.ncr.ntruss.com/hello/world", None), ("prod.kr.ncr.ntruss.com/team/web:1.2", None)]),
    ("prod.kr.ncr.ntruss.com/hello/world;", [("prod.kr.ncr.ntruss.com/hello/world;", "InvalidNameError")]),
    ("see prod.kr.ncr.ntruss.com/team/...", [("prod.kr.ncr.ntruss.com/team/", "InvalidNameError")]),
])
def test_the_scanner_reads_hostile_text_once_and_whole(text, expected):
    found = find_references({"command": text})
    assert [(f.text, type(f.error).__name__ if f.error else None) for f in found] == expected
