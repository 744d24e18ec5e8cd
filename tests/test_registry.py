"""Registries: the typed registry list, NcrRegistry's provider (level 1), over gRPC (level 2) and in a program (level 3)."""

from __future__ import annotations

import pulumi
import pytest
from helpers import LastLine, configured, provider_server

from ncr_provider import NcrRegistry, NcrRegistryProvider, RegistryDetails
from ncr_provider.errors import InvalidNameError, InvalidResponseError, RegistryNotFoundError
from ncr_provider.provider import ReadOnlyError
from ncr_provider.sites import REGISTRY_TYPE_TOKEN
from ncr_provider.testing import ProviderCallError, ProviderMocks, run_program, use_mocks

PROD = {
    "name": "prod", "region": "KR", "bucket": "acme-prod-ncr", "created": 1704067200000,
    "created_at": "2024-01-01T00:00:00Z", "public_endpoint": "prod.kr.ncr.ntruss.com",
    "private_endpoint": "k7x2p9q4m1.kr.private-ncr.ntruss.com", "private_id": "k7x2p9q4m1",
    "public_registry_enabled": True, "scan_on_push_enabled": True, "status": "RUNNING",
    "public_endpoint_enabled": None,
}


@pytest.fixture
def registry_provider(emulator):
    return configured(emulator.stack_config(), cls=NcrRegistryProvider)


# -- the wire -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("wire", "expected"), [(True, True), (False, False), (0, False), (1, True), ("Y", True),
                                                ("n", False), ("enabled", True), (None, None)])
def test_yes_no_fields_of_undocumented_type_are_read_tolerantly(wire, expected):
    assert RegistryDetails.from_wire({"name": "r", "public_reg_status": wire}).public_registry_enabled is expected


@pytest.mark.parametrize("wire", ["maybe", 2, [], {}])
def test_a_yes_no_field_that_is_neither_is_an_error_naming_it(wire):
    with pytest.raises(InvalidResponseError, match=r"scan_on_push_enabled must be true or false"):
        RegistryDetails.from_wire({"name": "r", "scan_on_push_enabled": wire})


def test_client_reads_one_registry_from_the_list(client, emulator):
    details = client.get_registry("prod")

    assert {"region": "KR", **details.to_dict()} == PROD
    assert [r.raw_path for r in emulator.requests] == ["/ncr/api/v2/repositories?page=1&pagesize=100"]


def test_client_follows_every_page_of_the_registry_list(client, emulator):
    for n in range(130):
        emulator.add_registry(f"many-{n:03d}")

    names = [r.name for r in client.list_registry_details()]

    assert "many-129" in names and "prod" in names and len(names) == len(set(names))
    assert len(emulator.requests) == 2


# -- level 1: the provider object -------------------------------------------------------------------

def test_read_returns_every_registry_output(registry_provider, emulator):
    result = registry_provider.read("prod", {"name": "prod"})

    assert result.id == "prod"
    assert result.outs == PROD


def test_a_registry_of_another_region_is_read_there(emulator):
    provider = configured(emulator.stack_config(**{"ncloud:region": "SGN"}), cls=NcrRegistryProvider)

    outs = provider.read("sgn-apps", {}).outs

    assert (outs["region"], outs["public_endpoint"]) == ("SGN", "sgn-apps.sg.ncr.ntruss.com")


def test_a_missing_registry_names_itself_and_the_region(registry_provider):
    with pytest.raises(RegistryNotFoundError, match=r"^Registry nope not found in region KR\.$"):
        registry_provider.read("nope", {})


@pytest.mark.parametrize("bad", ["Prod", "a/b", "", "x" * 64, "prod?x"])
def test_a_bad_registry_name_is_refused_before_any_request(registry_provider, emulator, bad):
    with pytest.raises(InvalidNameError, match=r"^Invalid id "):
        registry_provider.read(bad, {})
    failures = registry_provider.check({}, {"name": bad}).failures
    assert [f.property for f in failures] == ["name"]
    assert emulator.requests == []


def test_check_requires_a_name_and_accepts_a_good_one(registry_provider):
    assert [(f.property, f.reason) for f in registry_provider.check({}, {}).failures] == [("name", "name is required")]
    assert registry_provider.check({}, {"name": "prod", "region": "SGN"}).failures == []


def test_write_operations_are_refused_naming_the_registry_resource(registry_provider):
    with pytest.raises(ReadOnlyError, match=r"^NcrRegistry is read-only: it cannot delete an NCR registry"):
        registry_provider.delete("prod", {})


# -- level 2: the real provider server --------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ncr_provider.emulator import NcrEmulator

    with NcrEmulator() as emu, provider_server(tmp_path_factory.mktemp("home"), emu.stack_config()) as server:
        server.emulator = emu
        yield server


def test_read_over_grpc_answers_what_the_engine_receives(server):
    registry_id, outputs = server.read("prod", {"name": "prod"}, type_=REGISTRY_TYPE_TOKEN, name="prod")

    assert registry_id == "prod"
    # None outputs do not cross the wire; numbers cross as doubles (the Output[int] declaration turns them back).
    expected = {k: v for k, v in PROD.items() if v is not None}
    assert outputs == {**expected, "created": float(PROD["created"])}


def test_missing_registry_over_grpc_ends_with_the_sentence(server):
    with pytest.raises(ProviderCallError) as caught:
        server.read("nope", {"name": "nope"}, type_=REGISTRY_TYPE_TOKEN, name="nope")

    assert LastLine(caught.value) == "ncr_provider.errors.RegistryNotFoundError: Registry nope not found in region KR."


# -- level 3: a program under mocks -----------------------------------------------------------------

def test_a_program_reads_a_registry_and_exports_typed_outputs(server):
    def program():
        registry = NcrRegistry("prod", name="prod")
        pulumi.export("scan", registry.scan_on_push_enabled)
        pulumi.export("created", registry.created)
        pulumi.export("private", registry.private_endpoint)
        pulumi.export("same", NcrRegistry.get("again", "prod").public_endpoint)
        pulumi.export("name", registry.name)

    mocks = ProviderMocks(server)
    with use_mocks(mocks):
        exports = run_program(program)

    assert exports == {"scan": True, "created": 1704067200000, "private": "k7x2p9q4m1.kr.private-ncr.ntruss.com",
                       "same": "prod.kr.ncr.ntruss.com", "name": "prod"}
    assert type(exports["created"]) is int
    assert sorted(mocks.reads) == [("again", "prod"), ("prod", "prod")]


def test_a_bad_literal_registry_name_fails_on_the_line_that_wrote_it():
    with pytest.raises(InvalidNameError, match=r"^Invalid name 'Prod'"):
        NcrRegistry("x", name="Prod")
    with pytest.raises(TypeError, match=r"NcrRegistry needs name"):
        NcrRegistry("x")


def test_an_ncr_registry_read_over_api_v3_reports_the_public_endpoint_switch(registry_provider, emulator):
    outs = registry_provider.read("prod", {"name": "prod", "api_version": "v3"}).outs

    assert (outs["public_endpoint"], outs["public_endpoint_enabled"], outs["api_version"]) == (
        "prod.kr.ncr.ntruss.com", True, "v3")
    assert [r.raw_path for r in emulator.requests] == ["/api/v3/registries/prod"]
