"""Every NCR reference form, through the lookup, `ncr-image check` (REFs, --from-file, --from-stack) and the
policy pack (its policies called directly, then the pack process over the Analyzer gRPC service).

Private endpoints are mapped through the emulator's registry list (prod's private id is k7x2p9q4m1);
anything that looks like NCR but cannot be placed is reported, never skipped: exit 1 or 3, a mandatory
violation, or (failOpen) an advisory.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from cli_runner import image_requests, run_cli
from helpers import validate_sarif
from policy_helpers import CONTAINER, DEPLOYMENT, analyze, configure, deployment, docker_container, resource_args, summary
from pulumi.runtime.proto import analyzer_pb2

from ncr_provider.config import Settings
from ncr_provider.errors import ConfigurationError, InvalidResponseError, UnmappedReferenceError
from ncr_provider.lookup import ImageLookup, LookupKey
from ncr_provider.names import ImageRef, parse_reference
from ncr_provider.policy import MUTABLE_TAGS_POLICY, UNCHECKED_IMAGES_POLICY
from ncr_provider.sites import SITES

PRIVATE_ID = "k7x2p9q4m1"  # prod's private endpoint id in the emulator's default data
PRIVATE_MUTABLE = f"{PRIVATE_ID}.kr.private-ncr.ntruss.com/team/api:latest"
PRIVATE_IMMUTABLE = f"{PRIVATE_ID}.kr.private-ncr.ntruss.com/team/web:1.2.1"
CAPITALS_MUTABLE = "PROD.KR.NCR.NTRUSS.COM/team/api:latest"
UNKNOWN_PRIVATE = "zz9unknown.kr.private-ncr.ntruss.com/team/api:latest"
DIGEST = "sha256:" + "0a" * 32
IMMUTABLE_REF = "prod.kr.ncr.ntruss.com/team/web:1.2.1"


def registry_list_requests(emulator) -> list[str]:
    return [r.raw_path for r in emulator.requests if r.path.endswith("/repositories")]


def settings_for(emulator, site: str = "public", region: str = "KR", endpoint: bool = True) -> Settings:
    return Settings(site=site, region=region, endpoint=emulator.url if endpoint else None,
                    access_key=emulator.access_key, secret_key=emulator.secret_key)


def check_json(*args: str, **kwargs) -> tuple[int, dict]:
    result = run_cli("check", *args, "--output", "json", **kwargs)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


# -- the lookup: private ids, sites without an API, strict registry lists --------------------------

def test_private_ids_are_mapped_through_the_registry_list_once_per_run(emulator):
    with ImageLookup(settings_for(emulator)) as lookup:
        # when three private references (two images, any case) are placed
        keys = [lookup.key_for(parse_reference(text)) for text in
                (PRIVATE_MUTABLE, PRIVATE_IMMUTABLE, f"{PRIVATE_ID.upper()}.KR.PRIVATE-NCR.NTRUSS.COM/team/api")]
        # then each is its registry's image, and the registry list was read once
        assert keys == [LookupKey("public", "KR", "prod", "team/api"), LookupKey("public", "KR", "prod", "team/web"),
                        LookupKey("public", "KR", "prod", "team/api")]
        assert lookup.lookup(parse_reference(PRIVATE_MUTABLE)).tag_mutability_enabled is True
    assert len(registry_list_requests(emulator)) == 1


def test_a_registry_listing_only_its_private_endpoint_host_is_mapped_by_that_host(emulator):
    emulator.enqueue(status=200, body={"count": 1, "next": None, "results": [
        {"name": "edge", "private_id": "", "private_end_point": "e9dge1.kr.private-ncr.ntruss.com"}]})
    with ImageLookup(settings_for(emulator)) as lookup:
        assert lookup.key_for(parse_reference("E9DGE1.kr.private-ncr.ntruss.com/team/web")).registry == "edge"


def test_an_unknown_private_id_is_an_error_naming_it_and_where_it_was_looked_for(emulator):
    with ImageLookup(settings_for(emulator)) as lookup:
        with pytest.raises(UnmappedReferenceError) as caught:
            lookup.key_for(parse_reference(UNKNOWN_PRIVATE))
    assert str(caught.value) == ("Cannot check <private zz9unknown>/team/api: no registry in the registry list of "
                                 "site public, region KR has private endpoint id 'zz9unknown'")


def test_a_gov_private_id_is_looked_for_in_every_gov_region_the_configured_one_first(emulator):
    # given a KRS registry with a private endpoint, and settings naming gov KR
    emulator.add_registry("krs-private", "gov/KRS", private_id="g0vkrs01")
    emulator.add_image("krs-private", "archive/search", tag_mutability_enabled=False)
    with ImageLookup(settings_for(emulator, site="gov", region="KR")) as lookup:
        key = lookup.key_for(parse_reference("G0VKRS01.private-ncr.gov-ntruss.com/archive/search:1"))
        assert key == LookupKey("gov", "KRS", "krs-private", "archive/search")
        assert lookup.lookup(parse_reference("G0VKRS01.private-ncr.gov-ntruss.com/archive/search")).namespace == \
            "krs-private"
    assert [p.split("?")[0] for p in registry_list_requests(emulator)] == ["/ncr/kr/v2/repositories",
                                                                           "/ncr/krs/v2/repositories"]


def test_a_financial_reference_needs_an_explicit_endpoint_and_is_never_skipped(emulator):
    ref = parse_reference("bank.ncr.fin-ntruss.com/core/ledger:2")
    with ImageLookup(settings_for(emulator, endpoint=False)) as lookup, pytest.raises(UnmappedReferenceError) as caught:
        lookup.key_for(ref)
    assert "NCR on site 'fin' has no documented API host; give its API endpoint" in str(caught.value)
    with ImageLookup(settings_for(emulator)) as lookup:
        assert lookup.key_for(ref) == LookupKey("public", "KR", "bank", "core/ledger")
    assert emulator.requests == []


def test_a_region_no_site_has_is_a_configuration_error_not_a_guess(emulator):
    with ImageLookup(settings_for(emulator)) as lookup, pytest.raises(ConfigurationError, match="Unknown region 'MARS'"):
        lookup.key_for(ImageRef("prod", "team/web", region="MARS"))


def test_a_registry_list_with_a_wrong_type_fails_closed_and_is_not_asked_again(emulator):
    # given a registry list whose private_id is a number
    emulator.enqueue(status=200, body={"count": 1, "next": None, "results": [{"name": "prod", "private_id": 7}]})
    with ImageLookup(settings_for(emulator)) as lookup:
        for _ in range(2):
            with pytest.raises(InvalidResponseError, match="private_id must be a string, got number 7"):
                lookup.key_for(parse_reference(PRIVATE_MUTABLE))
    assert len(registry_list_requests(emulator)) == 1


@pytest.mark.parametrize("value", ["", 0, [], "false", "true", 1])
def test_tag_mutability_that_is_not_a_boolean_is_could_not_check_through_the_client(emulator, value):
    emulator.enqueue(status=200, body={"name": "team/web", "namespace": "prod", "tag_mutability_enabled": value})
    with ImageLookup(settings_for(emulator)) as lookup:
        result = lookup.lookup(parse_reference("prod/team/web"))
    assert isinstance(result, InvalidResponseError)
    assert "tag_mutability_enabled must be true or false" in str(result)


# -- check: REFs, --from-file, --from-stack --------------------------------------------------------

def test_check_judges_private_capital_and_port_forms_as_the_image_they_name(ncp_env):
    # given one mutable image named four ways, and an immutable one through its private endpoint
    code, doc = check_json("--require-immutable", PRIVATE_MUTABLE, CAPITALS_MUTABLE,
                           f"prod.kr.ncr.ntruss.com:443/team/api@{DIGEST}", f"Prod.Kr.Ncr.Ntruss.Com/team/api:1@{DIGEST}",
                           PRIVATE_IMMUTABLE)
    # then the mutable one is a violation named by all four, and the registry list was read once
    assert code == 1
    assert [(i["image"], i["verdict"], len(i["references"])) for i in doc["images"]] == [
        ("prod/team/api", "violation", 4), ("prod/team/web", "pass", 1)]
    assert len(registry_list_requests(ncp_env)) == 1 and len(image_requests(ncp_env)) == 2


def test_check_reports_an_unknown_private_id_as_not_checked_never_as_a_pass(ncp_env):
    code, doc = check_json(UNKNOWN_PRIVATE, "prod/team/web")
    assert code == 3
    unknown = next(i for i in doc["images"] if i["ref"] == UNKNOWN_PRIVATE)
    assert (unknown["verdict"], unknown["reason"]) == ("error", "could not be checked (unmapped reference)")
    assert "has private endpoint id 'zz9unknown'" in unknown["error"]["message"]
    assert doc["summary"]["exit_code"] == 3


def test_check_without_an_endpoint_reports_a_financial_reference_and_sends_nothing(emulator, monkeypatch):
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", emulator.secret_key)
    result = run_cli("check", "bank.ncr.fin-ntruss.com/core/ledger:2")
    assert result.returncode == 3
    assert "ERROR Cannot check bank/core/ledger: NCR on site 'fin' has no documented API host" in result.stdout
    assert emulator.requests == []


@pytest.mark.parametrize("text", ["prod.xx.ncr.ntruss.com/team/web", "x_prod.kr.ncr.ntruss.com/team/web",
                                  "prod.kr.ncr.ntruss.com:http/team/web"])
def test_a_typed_reference_that_cannot_be_read_is_bad_usage_and_sends_nothing(ncp_env, text):
    result = run_cli("check", "prod/team/web", text)
    assert result.returncode == 2 and result.stdout == ""
    assert ncp_env.requests == []


def test_check_from_file_reads_every_form(ncp_env, tmp_path):
    (tmp_path / "images.txt").write_text(
        f"{PRIVATE_MUTABLE}\n{CAPITALS_MUTABLE}  # capitals\n{UNKNOWN_PRIVATE}\nprod.kr.ncr.ntruss.com:5000/team/web\n")
    code, doc = check_json("--require-immutable", "--from-file", "images.txt", cwd=tmp_path)
    assert code == 1
    verdicts = sorted((i["image"], i["verdict"], [r["origin"] for r in i["references"]]) for i in doc["images"])
    assert verdicts == [
        ("prod/team/api", "violation", ["images.txt:1", "images.txt:2"]),
        ("prod/team/web", "pass", ["images.txt:4"]),
        (UNKNOWN_PRIVATE, "error", ["images.txt:3"]),
    ]


def write_stack(tmp_path, *resources: dict) -> str:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": list(resources)}}))
    return str(path)


def stack_resource(name: str, type_: str, inputs: dict) -> dict:
    return {"urn": f"urn:pulumi:dev::shop::{type_}::{name}", "type": type_, "inputs": inputs, "outputs": inputs}


def test_from_stack_blocks_a_mutable_image_pulled_through_the_private_endpoint_or_in_capitals(ncp_env, tmp_path):
    # given the stack: Deployments pulling a mutable repository through its private endpoint and in capitals
    path = write_stack(tmp_path, stack_resource("vpc", DEPLOYMENT, deployment(PRIVATE_MUTABLE)),
                       stack_resource("caps", DEPLOYMENT, deployment(CAPITALS_MUTABLE)))
    # when the gate checks the stack
    code, doc = check_json("--require-immutable", "--from-stack", path)
    # then it is a violation, not "No NCR images to check"
    assert code == 1
    assert [(i["image"], i["verdict"], len(i["references"])) for i in doc["images"]] == [("prod/team/api", "violation", 2)]


def test_from_stack_one_malformed_token_is_reported_for_its_resource_and_the_rest_still_checked(ncp_env, tmp_path):
    # given one resource's free text holding a malformed reference, an unknown form and a good one,
    # and another resource holding a mutable image
    args = ["--image=x_prod.kr.ncr.ntruss.com/team/web", "prod.zz.ncr.ntruss.com/team/web",
            "prod.kr.ncr.ntruss.com/team/web:1.2.1"]
    path = write_stack(tmp_path, stack_resource("job", CONTAINER, docker_container("prod/unused", command=args)),
                       stack_resource("api", CONTAINER, docker_container("prod.kr.ncr.ntruss.com/team/api:2")))
    # when the gate checks it
    code, doc = check_json("--require-immutable", "--from-stack", path)
    # then the run is not a usage error: the bad tokens are "could not be checked", the others judged
    assert code == 1
    verdicts = sorted((i["ref"], i["verdict"], i["reason"]) for i in doc["images"])
    assert verdicts == [
        ("prod.kr.ncr.ntruss.com/team/api:2", "violation", "tags are mutable: a pushed tag can be overwritten"),
        ("prod.kr.ncr.ntruss.com/team/web:1.2.1", "pass", "tags are immutable"),
        ("prod.zz.ncr.ntruss.com/team/web", "error", "could not be checked (unknown NCR host)"),
        ("x_prod.kr.ncr.ntruss.com/team/web", "error", "could not be checked (malformed reference)"),
    ]
    origins = {i["ref"]: i["references"][0]["origin"] for i in doc["images"]}
    assert origins["x_prod.kr.ncr.ntruss.com/team/web"] == f"{path}: job ({CONTAINER}) inputs.command[0]"
    assert len(image_requests(ncp_env)) == 2


def test_from_stack_alone_with_only_unreadable_references_exits_3_not_0(ncp_env, tmp_path):
    path = write_stack(tmp_path, stack_resource("vpc", DEPLOYMENT, deployment(UNKNOWN_PRIVATE)))
    result = run_cli("check", "--from-stack", path)
    assert result.returncode == 3
    assert "No NCR images to check" not in result.stdout
    assert result.stdout.splitlines()[-1] == "1 image checked: 0 passed, 0 violations, 1 could not be checked."


SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def test_from_stack_and_the_policy_find_the_same_references_in_secrets(ncp_env, tmp_path, validate):
    # given a container whose command is a plaintext secret (as `pulumi stack export --show-secrets` writes it)
    command = [f"--sidecar={PRIVATE_MUTABLE}"]
    exported = {SECRET_SIG: SECRET_VALUE, "plaintext": json.dumps(command)}
    path = write_stack(tmp_path, stack_resource("job", CONTAINER, docker_container(IMMUTABLE_REF, command=exported)))
    # when the gate and the mutable-tags policy judge it (the engine hands a policy the secret's value)
    code, doc = check_json("--require-immutable", "--from-stack", path)
    reports = validate(resource_args(docker_container(IMMUTABLE_REF, command=command), {"endpoint": ncp_env.url},
                                     type_=CONTAINER))
    # then both find the mutable image behind the secret, and the immutable one
    assert code == 1
    assert sorted((i["image"], i["verdict"]) for i in doc["images"]) == [("prod/team/api", "violation"),
                                                                         ("prod/team/web", "pass")]
    assert len(reports.violations) == 1 and "NCR image prod/team/api (region KR) allows mutable tags" in \
        reports.violations[0]


# -- resolve -> check and get, for every site and region -------------------------------------------

# An image with a tag in each site and region of the emulator's default data.
ROUND_TRIP = {
    ("public", "KR"): "prod/team/web:1.2.1",
    ("public", "SGN"): "sgn-apps/shop/cart:3.1.0",
    ("public", "JPN"): "jp-media/media/transcoder:1.4.2",
    ("gov", "KR"): "gov-portal/portal/web:2024.06.1",
    ("gov", "KRS"): "gov-archive/archive/indexer:0.9.1",
}


def test_round_trip_covers_every_site_and_region():
    assert set(ROUND_TRIP) == {(site, region) for site in SITES for region in SITES[site].prefixes}


@pytest.mark.parametrize("site,region", list(ROUND_TRIP))
def test_every_reference_resolve_prints_is_accepted_by_check_and_get(ncp_env, site, region):
    where = ["--site", site, "--region", region]
    image = ROUND_TRIP[(site, region)]
    # when resolve prints the by-digest reference of a tag
    resolved = run_cli("resolve", image, *where)
    assert resolved.returncode == 0, resolved.stderr
    reference = resolved.stdout.strip()
    registry, image_name = image.split(":")[0].split("/", 1)
    assert parse_reference(reference).digest is not None
    # then check and get take it as the same image, in the same site and region
    checked = run_cli("check", reference, *where, "--output", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (outcome,) = json.loads(checked.stdout)["images"]
    assert (outcome["registry"], outcome["image_name"], outcome["site"], outcome["region"]) == (
        registry, image_name, site, region)
    got = run_cli("get", reference, *where, "--output", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["namespace"] == registry


# -- the policy, called directly ----------------------------------------------------------------

def test_policy_blocks_a_mutable_image_pulled_through_its_private_endpoint(ncp_env, validate):
    reports = validate(resource_args(deployment(PRIVATE_MUTABLE, CAPITALS_MUTABLE), {"endpoint": ncp_env.url}))
    assert len(reports.violations) == 2
    assert all("NCR image prod/team/api (region KR) allows mutable tags" in v for v in reports.violations)
    assert f"{PRIVATE_MUTABLE!r} at spec.template.spec.containers[0].image" in reports.violations[0]


@pytest.mark.parametrize("fail_open", [False, True])
def test_policy_an_unmappable_reference_is_a_violation_or_with_fail_open_an_advisory(ncp_env, validate, fail_open):
    props = deployment(UNKNOWN_PRIVATE, "prod.zz.ncr.ntruss.com/team/web:1", IMMUTABLE_REF)
    reports = validate(resource_args(props, {"endpoint": ncp_env.url, "failOpen": fail_open}))
    blocking, advisory = (reports.advisories, reports.violations) if fail_open else (reports.violations,
                                                                                      reports.advisories)
    assert advisory == []
    unknown_host, unknown_id = sorted(blocking, key=lambda message: UNKNOWN_PRIVATE in message)
    assert unknown_id.startswith(f"Could not check NCR image {UNKNOWN_PRIVATE} at spec.template.spec.containers[0]"
                                 ".image: Cannot check <private zz9unknown>/team/api: no registry in the registry list")
    assert unknown_host.startswith("Could not check NCR image prod.zz.ncr.ntruss.com/team/web:1 at "
                                   "spec.template.spec.containers[1].image: ")
    assert "prod.zz.ncr.ntruss.com looks like an NCR registry host but is none of its forms" in unknown_host


def test_policy_allowed_images_exempt_a_private_reference_by_the_registry_it_maps_to(ncp_env, validate):
    reports = validate(resource_args(deployment(PRIVATE_MUTABLE), {"endpoint": ncp_env.url,
                                                                   "allowedImages": ["prod/team/api"]}))
    assert reports.violations == [] and reports.advisories == []
    assert len(registry_list_requests(ncp_env)) == 1 and image_requests(ncp_env) == []


def test_policy_a_host_that_only_ends_like_ncr_is_malformed_not_prod(ncp_env, validate):
    reports = validate(resource_args(docker_container("x_prod.kr.ncr.ntruss.com/team/web:1"),
                                     {"endpoint": ncp_env.url, "failOpen": True}, type_=CONTAINER))
    assert reports.violations == ["Malformed NCR image reference 'x_prod.kr.ncr.ntruss.com/team/web:1' at image: "
                                  "Invalid registry 'x_prod': use lowercase letters, digits and '-', starting and "
                                  "ending with a letter or digit."]
    assert image_requests(ncp_env) == []


# -- the policy pack, run for real ----------------------------------------------------------------

def test_pack_blocks_private_endpoint_and_capital_references_to_a_mutable_repository(pack, pack_emulator):
    configure(pack, pack_emulator)
    private = analyze(pack, DEPLOYMENT, deployment(PRIVATE_MUTABLE), "vpc")
    capitals = analyze(pack, CONTAINER, docker_container(CAPITALS_MUTABLE), "caps")
    immutable = analyze(pack, DEPLOYMENT, deployment(PRIVATE_IMMUTABLE), "web")
    assert summary(private) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert f"NCR image prod/team/api (region KR) allows mutable tags, so {PRIVATE_MUTABLE!r}" in private[0].message
    assert summary(capitals) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert immutable == []


def test_pack_an_unknown_private_id_is_mandatory_or_with_fail_open_advisory(pack, pack_emulator):
    configure(pack, pack_emulator)
    closed = analyze(pack, DEPLOYMENT, deployment(UNKNOWN_PRIVATE), "closed")
    configure(pack, pack_emulator, failOpen=True)
    opened = analyze(pack, DEPLOYMENT, deployment(UNKNOWN_PRIVATE), "open")
    assert summary(closed) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert summary(opened) == [(UNCHECKED_IMAGES_POLICY, analyzer_pb2.ADVISORY)]
    for diagnostic in (closed[0], opened[0]):
        assert f"Could not check NCR image {UNKNOWN_PRIVATE} at " in diagnostic.message
        assert "has private endpoint id 'zz9unknown'" in diagnostic.message


# -- secrets not inspected, in every report format ------------------------------------------------

def test_every_report_format_names_each_ciphertext_secret_as_not_inspected(ncp_env, tmp_path):
    # given a stack whose only NCR-looking value could hide behind a ciphertext secret
    hidden = {SECRET_SIG: SECRET_VALUE, "ciphertext": "v1:AAAA:BBBB"}
    path = write_stack(tmp_path, stack_resource("job", CONTAINER, docker_container(IMMUTABLE_REF, command=hidden)))
    where = f"{path}: job ({CONTAINER}) inputs.command"
    also = f"{path}: job ({CONTAINER}) outputs.command"
    reports = {fmt: run_cli("check", "--from-stack", path, "-o", fmt) for fmt in ("table", "json", "github", "sarif",
                                                                               "junit")}
    # then each format names it (in the inputs and the outputs), and the exit code is the checked image's
    assert {fmt: r.returncode for fmt, r in reports.items()} == dict.fromkeys(reports, 0)
    assert f"NOT INSPECTED {where}: secret value not inspected" in reports["table"].stdout
    assert reports["table"].stdout.splitlines()[-1].endswith("2 secret values not inspected.")
    assert [entry["origin"] for entry in json.loads(reports["json"].stdout)["not_inspected"]] == [where, also]
    assert f"::warning title=NCR reference not inspected::{where}: secret value" in reports["github"].stdout
    sarif = json.loads(reports["sarif"].stdout)
    validate_sarif(sarif)
    notifications = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"].split(": secret")[0] for n in notifications] == [where, also]
    assert {n["level"] for n in notifications} == {"warning"}
    suite = ElementTree.fromstring(reports["junit"].stdout).find("testsuite")
    assert (suite.get("tests"), suite.get("skipped")) == ("3", "2")
    skipped = [case for case in suite.iter("testcase") if case.find("skipped") is not None]
    assert [case.get("name") for case in skipped] == [where, also]
