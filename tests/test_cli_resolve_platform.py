"""`ncr-image resolve --platform`: the by-digest reference of one platform's own manifest inside a tag."""

from __future__ import annotations

import pytest
from cli_runner import run_cli

from ncr_provider.client import NcrClient


def platform_digests(emulator) -> dict[str, str]:
    with NcrClient() as client:
        tag = client.get_tag("prod", "team/web", "1.2.1")
    emulator.clear_requests()
    return {f"{p.os}/{p.architecture}": p.digest for p in tag.platforms}


def test_platform_pins_that_platforms_manifest(ncp_env):
    digests = platform_digests(ncp_env)

    arm = run_cli("resolve", "prod/team/web:1.2.1", "--platform", "linux/arm64")
    amd = run_cli("resolve", "prod/team/web:1.2.1", "--platform", "linux/amd64")
    exact = run_cli("resolve", "prod/team/web:1.2.1", "--platform", "linux/arm64/v8")
    capitals = run_cli("resolve", "prod/team/web:1.2.1", "--platform", "Linux/ARM64")  # Docker lowercases it too

    assert arm.returncode == amd.returncode == exact.returncode == capitals.returncode == 0, arm.stderr + amd.stderr
    assert arm.stdout == exact.stdout == capitals.stdout == f"prod.kr.ncr.ntruss.com/team/web@{digests['linux/arm64']}\n"
    assert amd.stdout == f"prod.kr.ncr.ntruss.com/team/web@{digests['linux/amd64']}\n"
    assert digests["linux/arm64"] != digests["linux/amd64"]


def test_a_platform_the_tag_lacks_exits_3_listing_what_it_has(ncp_env):
    result = run_cli("resolve", "prod/team/web:1.2.1", "--platform", "linux/s390x")

    assert result.returncode == 3
    assert "Tag prod/team/web:1.2.1 has no image for platform linux/s390x; its platforms: linux/amd64, " \
           "linux/arm64/v8" in result.stderr
    assert result.stdout == ""


def test_two_variants_of_one_platform_need_the_variant(ncp_env):
    ncp_env.add_tag("prod", "team/arm", "1", platforms=["linux/arm/v6", "linux/arm/v7"])

    result = run_cli("resolve", "prod/team/arm:1", "--platform", "linux/arm")

    assert result.returncode == 3
    assert "has 2 images for platform linux/arm; give the variant" in result.stderr
    assert run_cli("resolve", "prod/team/arm:1", "--platform", "linux/arm/v7").returncode == 0


@pytest.mark.parametrize("bad", ["linux", "linux/arm-64", "linux/arm64/v8/x", "linux/arm64 ", "../x"])
def test_a_malformed_platform_exits_2_and_sends_nothing(ncp_env, bad):
    result = run_cli("resolve", "prod/team/web:1.2.1", "--platform", bad)

    assert result.returncode == 2
    assert "expected os/arch[/variant]" in result.stderr
    assert ncp_env.requests == []
