"""Where a reference is looked up when its host does not say exactly: a gov Docker host names no region,
and a private endpoint id two registries share names neither. Real HTTP to the emulator throughout."""

from __future__ import annotations

import json

import pytest
from cli_runner import image_requests, run_cli

from ncr_provider.config import Settings
from ncr_provider.errors import UnmappedReferenceError
from ncr_provider.lookup import ImageLookup, LookupKey
from ncr_provider.names import parse_reference

GOV_KRS_IMAGE = "gov-archive.ncr.gov-ntruss.com/archive/indexer"  # in the emulator's gov KRS data


def settings_for(emulator, site: str = "public", region: str = "KR") -> Settings:
    return Settings(site=site, region=region, endpoint=emulator.url,
                    access_key=emulator.access_key, secret_key=emulator.secret_key)


def test_a_public_gov_reference_is_found_in_whichever_gov_region_holds_it(ncp_env, monkeypatch):
    # given gov settings naming region KR and an image that lives in gov KRS
    monkeypatch.setenv("NCLOUD_SITE", "gov")
    monkeypatch.setenv("NCLOUD_REGION", "KR")
    result = run_cli("check", GOV_KRS_IMAGE, "--output", "json")
    # then it is looked up (and passes) in KRS, not reported missing from KR
    assert result.returncode == 0, result.stdout + result.stderr
    [image] = json.loads(result.stdout)["images"]
    assert (image["image"], image["region"], image["verdict"]) == ("gov-archive/archive/indexer", "KRS", "pass")
    assert image_requests(ncp_env) == ["/ncr/krs/v2/repositories/gov-archive/archive%2Findexer"]


def test_a_gov_registry_in_the_configured_region_stays_there_and_one_in_none_is_missing_there(emulator):
    emulator.add_registry("gov-both", "gov/KR")
    emulator.add_registry("gov-both", "gov/KRS")
    with ImageLookup(settings_for(emulator, site="gov", region="KRS")) as lookup:
        # a registry both regions have: the configured region first
        assert lookup.key_for(parse_reference("gov-both.ncr.gov-ntruss.com/a/b")).region == "KRS"
        # a registry neither has: looked up in the configured region, where it is then reported missing
        assert lookup.key_for(parse_reference("nowhere.ncr.gov-ntruss.com/a/b")) == \
            LookupKey("gov", "KRS", "nowhere", "a/b")


def test_a_private_id_two_registries_share_names_both_and_is_not_checked(emulator):
    # given a region whose registry list gives two registries the same private endpoint id
    emulator.enqueue(status=200, body={"count": 3, "next": None, "results": [
        {"name": "alpha", "private_id": "dup0id1", "private_end_point": "dup0id1.kr.private-ncr.ntruss.com"},
        {"name": "beta", "private_id": "", "private_end_point": "DUP0ID1.kr.private-ncr.ntruss.com"},
        {"name": "gamma", "private_id": "g4mma", "private_end_point": "g4mma.kr.private-ncr.ntruss.com"}]})
    with ImageLookup(settings_for(emulator)) as lookup:
        # then a reference through that id could not be placed, naming both registries
        with pytest.raises(UnmappedReferenceError) as caught:
            lookup.key_for(parse_reference("dup0id1.kr.private-ncr.ntruss.com/team/web:1"))
        assert str(caught.value) == ("Cannot check <private dup0id1>/team/web: registries alpha and beta of site "
                                     "public, region KR share private endpoint id 'dup0id1', so it names neither")
        # while an id only one registry has is still that registry's
        assert lookup.key_for(parse_reference("g4mma.kr.private-ncr.ntruss.com/team/web")).registry == "gamma"
    assert image_requests(emulator) == []


def test_a_shared_private_id_is_could_not_be_checked_in_the_cli(ncp_env):
    ncp_env.enqueue(status=200, body={"count": 2, "next": None, "results": [
        {"name": "alpha", "private_id": "dup0id1", "private_end_point": ""},
        {"name": "beta", "private_id": "dup0id1", "private_end_point": ""}]})
    result = run_cli("check", "dup0id1.kr.private-ncr.ntruss.com/team/web:1", "--output", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    [image] = json.loads(result.stdout)["images"]
    assert image["verdict"] == "error"
    assert "registries alpha and beta of site public, region KR share private endpoint id 'dup0id1'" in \
        image["error"]["message"]
    assert image_requests(ncp_env) == []


@pytest.mark.parametrize("host", ["k7x2p9q4m1.kr.private-ncr.ntruss.com", "K7X2P9Q4M1.kr.private-ncr.ntruss.com:5000",
                                  "prod.kr.ncr.ntruss.com:443"])
def test_resolve_keeps_the_docker_host_and_port_the_user_gave(ncp_env, host):
    # given the digest tag 1.2.1 points at, as resolve prints it for `registry/image:tag`
    public = run_cli("resolve", "prod/team/web:1.2.1")
    assert public.returncode == 0, public.stderr
    assert public.stdout.startswith("prod.kr.ncr.ntruss.com/team/web@sha256:")
    digest = public.stdout.strip().rpartition("@")[2]
    # when the tag is resolved through another host form of the same registry
    result = run_cli("resolve", f"{host}/team/web:1.2.1")
    # then the by-digest reference is on the host (and port) given, so the pipeline pulls where it pulled
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{host}/team/web@{digest}\n"
