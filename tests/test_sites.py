"""The one table of NCR facts: every row reaches the modules that derive from it."""

from __future__ import annotations

import pytest

from ncr_provider.config import resolve_settings
from ncr_provider.emulator import urls
from ncr_provider.emulator.models import region_key
from ncr_provider.names import docker_host, parse_reference
from ncr_provider.sites import API_ENDPOINTS, DOCKER_HOSTS, SITES, api_endpoint, describe_docker_hosts


@pytest.mark.parametrize("row", API_ENDPOINTS, ids=lambda r: f"{r.site}-{r.region}-{r.version}")
def test_every_api_row_is_a_setting_the_client_resolves_and_a_route_the_emulator_serves(row, tmp_path):
    # given a site and region from the table
    settings = resolve_settings({"site": row.site, "region": row.region, "api_version": row.version}, None, {},
                                tmp_path / "none")
    # then the settings send requests to its host and prefix, and the emulator answers under that prefix
    assert settings.base_url == row.host + row.prefix == row.base_url
    # (v3 names the region in the host, which the emulator reads from the Host header)
    path = row.prefix + ("/repositories" if row.version == "v2" else "/registries")
    route = urls.resolve(path, row.host.split("://", 1)[1])
    assert (route.handler, route.region, route.version) == ("list_registries", region_key(row.site, row.region),
                                                            row.version)


def test_sites_are_the_v2_rows_grouped_in_table_order():
    assert {name: dict(site.prefixes) for name, site in SITES.items()} == {
        "public": {"KR": "/ncr/api/v2", "SGN": "/ncr/sgn-api/v2", "JPN": "/ncr/jpn-api/v2"},
        "gov": {"KR": "/ncr/kr/v2", "KRS": "/ncr/krs/v2"},
    }
    with pytest.raises(KeyError):
        api_endpoint("gov", "SGN")


@pytest.mark.parametrize("form", [f for f in DOCKER_HOSTS if not f.private], ids=lambda f: f.suffix)
def test_every_public_docker_host_form_parses_back_to_its_site_and_region(form):
    ref = parse_reference(f"{form.host('prod')}/team/web:1")
    assert (ref.registry, ref.site, ref.region) == ("prod", form.site, form.region)
    assert docker_host("prod", form.region or "KR", form.site) == form.host("prod")


def test_host_descriptions_come_from_the_rows():
    assert describe_docker_hosts() == ("<registry>.<kr|sg|jp>.ncr.ntruss.com or <registry>.ncr.gov-ntruss.com "
                                       "or <registry>.ncr.fin-ntruss.com")
    assert describe_docker_hosts(private=True) == (
        "<private-id>.<kr|sg|jp>.private-ncr.ntruss.com or <private-id>.private-ncr.gov-ntruss.com "
        "or <private-id>.private-ncr.fin-ntruss.com")
