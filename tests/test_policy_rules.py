"""The pack's policies beyond tag mutability: allowed registries, image age, allowedTags, digest pinning.

(a) each policy called directly, as pulumi_policy calls it; (b) `examples/policy-pack` served for
real over the Analyzer gRPC protocol: the engine's Remediate call gets the rewritten inputs back,
and with an on-disk cache a second pack process (the engine runs one per preview and one per
update) sends NCR nothing. Everything runs against the emulator over real HTTP.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from google.protobuf import empty_pb2, json_format
from helpers import FAST_OPTIONS, FAST_RETRY
from policy_helpers import (
    CONTAINER,
    CONTAINER_PATH,
    DEPLOYMENT,
    PACK_DIR,
    deployment,
    docker_container,
    resource_args,
    running_pack,
    wire,
)
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from ncr_provider.emulator import NcrEmulator
from ncr_provider.policy import MUTABLE_TAGS_POLICY, LookupCache, mutable_image_tags_policies, policies
from ncr_provider.policy_rules import (
    ALLOWED_REGISTRIES_POLICY,
    IMAGE_AGE_POLICY,
    PIN_DIGESTS_POLICY,
    allowed_registries_policy,
    image_age_policy,
    pin_digests_policy,
)
from ncr_provider.signing import now_ms

HOST = "prod.kr.ncr.ntruss.com"
DIGEST_A = "sha256:" + "a1" * 32
DIGEST_B = "sha256:" + "b2" * 32
MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


@pytest.fixture
def lookups():
    cache = LookupCache(options=FAST_OPTIONS)
    yield cache
    cache.close()


def reported(policy, args) -> list[str]:
    """Run one policy's validation; what it reported."""
    messages: list[str] = []
    policy.validate(args, lambda message, urn=None: messages.append(message))
    return messages


# --- every new policy is in the pack and disabled until enabled ---

def test_new_policies_are_in_the_pack_disabled_by_default():
    levels = {p.name: p.enforcement_level for p in policies()}
    assert levels[ALLOWED_REGISTRIES_POLICY] == EnforcementLevel.DISABLED
    assert levels[IMAGE_AGE_POLICY] == EnforcementLevel.DISABLED
    assert levels[PIN_DIGESTS_POLICY] == EnforcementLevel.DISABLED
    assert pin_digests_policy().has_remediation()


# --- ncr-allowed-registries ---

def test_a_reference_outside_the_allowed_registries_is_a_violation(ncp_env):
    policy = allowed_registries_policy()
    args = resource_args(deployment(f"{HOST}/team/web:1.2.1", "dev.kr.ncr.ntruss.com/team/web:1.2.1",
                                    "shared-base.sg.ncr.ntruss.com/base/python:3.12"),
                         {"registries": ["prod", "shared-*"]})

    assert reported(policy, args) == [
        f"NCR registry 'dev' of 'dev.kr.ncr.ntruss.com/team/web:1.2.1' at {CONTAINER_PATH.format(1)} is not an "
        "allowed registry (allowed: prod, shared-*). Deploy the image from an allowed registry, or add it to registries."]
    assert ncp_env.requests == []  # names alone decide: nothing is looked up


@pytest.mark.parametrize(("allowed", "violations"), [(["prod"], 0), (["shared-*"], 1)])
def test_a_private_endpoint_reference_is_judged_by_the_registry_it_maps_to(ncp_env, lookups, allowed, violations):
    # given a reference through prod's private endpoint (its private id in the emulator's data)
    private = "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web:1.2.1"
    policy = allowed_registries_policy(lookups=lookups)

    messages = reported(policy, resource_args(deployment(private), {"endpoint": ncp_env.url, "registries": allowed}))

    assert len(messages) == violations
    if violations:
        assert messages[0].startswith(f"NCR registry 'prod' of '{private}' at {CONTAINER_PATH.format(0)} is not an "
                                      "allowed registry (allowed: shared-*).")
    assert [r.path for r in ncp_env.requests] == ["/ncr/api/v2/repositories"]  # the registry list, once


def test_an_unmappable_private_endpoint_reference_fails_closed(ncp_env, lookups):
    private = "zzzzzz.kr.private-ncr.ntruss.com/team/web:1"
    messages = reported(allowed_registries_policy(lookups=lookups),
                        resource_args(deployment(private), {"endpoint": ncp_env.url, "registries": ["*"]}))
    assert len(messages) == 1 and messages[0].startswith(f"Could not check NCR image {private}")


def test_an_empty_registry_list_allows_no_ncr_registry():
    messages = reported(allowed_registries_policy(), resource_args(docker_container(f"{HOST}/team/web:1"), {},
                                                                   type_=CONTAINER))
    assert len(messages) == 1 and "(allowed: none: registries is empty)" in messages[0]


def test_non_ncr_images_pass_unless_allow_non_ncr_is_false():
    props = deployment(f"{HOST}/team/web:1.2.1", "docker.io/library/nginx:1.27", "nginx")
    policy = allowed_registries_policy()

    assert reported(policy, resource_args(props, {"registries": ["prod"]})) == []
    assert reported(policy, resource_args(props, {"registries": ["prod"], "allowNonNcr": False})) == [
        f"'docker.io/library/nginx:1.27' at {CONTAINER_PATH.format(1)} is not an NCR image, and allowNonNcr is false. "
        "Push the image to an allowed NCR registry and deploy it from there.",
        f"'nginx' at {CONTAINER_PATH.format(2)} is not an NCR image, and allowNonNcr is false. "
        "Push the image to an allowed NCR registry and deploy it from there."]


def test_unknown_images_are_neither_allowed_nor_refused_during_preview():
    props = deployment(UNKNOWN_STRING_VALUE)
    assert reported(allowed_registries_policy(), resource_args(props, {"registries": [], "allowNonNcr": False})) == []


# --- allowedTags on the mutable-tags policy ---

@pytest.mark.parametrize(("reference", "patterns", "exempt"), [
    (f"{HOST}/team/api:dev-42", ["prod/team/api:dev-*"], True),
    (f"{HOST}/team/api:2.0.0", ["prod/team/api:dev-*"], False),
    (f"{HOST}/team/api@{DIGEST_A}", ["prod/team/api@*"], True),
    (f"{HOST}/team/api:dev-42", ["prod/team/api@*"], False),
    (f"{HOST}/team/api", ["prod/team/api:latest"], True),
    (f"{HOST}/team/api:DEV-1", ["prod/team/api:dev-*"], False),  # case-sensitive, as tags are
])
def test_allowed_tags_exempt_a_tag_or_digest_pattern_without_a_lookup(ncp_env, lookups, reference, patterns, exempt):
    main, _ = mutable_image_tags_policies(lookups=lookups)
    messages = reported(main, resource_args(deployment(reference), {"endpoint": ncp_env.url, "allowedTags": patterns}))
    assert (messages == []) is exempt
    assert (ncp_env.requests == []) is exempt


# --- ncr-image-age ---

def age_args(emu: NcrEmulator, reference: str, **config: object):
    return resource_args(docker_container(reference), {"endpoint": emu.url, **config}, type_=CONTAINER)


def test_an_image_whose_newest_tag_is_too_old_is_a_violation(ncp_env, lookups):
    # given an image whose newest tag was pushed 40 days ago, and one pushed 2 days ago
    ncp_env.add_image("prod", "old/app", tag_mutability_enabled=False)
    ncp_env.add_tag("prod", "old/app", "1.0", last_updated=now_ms() - 40 * DAY_MS)
    ncp_env.add_image("prod", "new/app", tag_mutability_enabled=False)
    ncp_env.add_tag("prod", "new/app", "1.0", last_updated=now_ms() - 2 * DAY_MS)
    policy = image_age_policy(lookups=lookups)

    old = reported(policy, age_args(ncp_env, f"{HOST}/old/app:1.0", maxTagAgeDays=30))
    new = reported(policy, age_args(ncp_env, f"{HOST}/new/app:1.0", maxTagAgeDays=30))

    assert len(old) == 1 and old[0].startswith("The newest tag of NCR image prod/old/app (region KR), 1.0, "
                                               "was last updated 40 days ago (")
    assert "over maxTagAgeDays 30" in old[0] and f"'{HOST}/old/app:1.0' at image" in old[0]
    assert new == []


def test_a_tag_pushed_minutes_ago_is_a_violation_of_the_cool_down(ncp_env, lookups):
    # given a tag moved 3 minutes ago and one pushed an hour ago, in the same image
    ncp_env.add_image("prod", "fresh/app", tag_mutability_enabled=True)
    ncp_env.add_tag("prod", "fresh/app", "moving", last_updated=now_ms() - 3 * MINUTE_MS)
    ncp_env.add_tag("prod", "fresh/app", "settled", last_updated=now_ms() - 60 * MINUTE_MS)
    policy = image_age_policy(lookups=lookups)

    moving = reported(policy, age_args(ncp_env, f"{HOST}/fresh/app:moving", minTagAgeMinutes=10))
    settled = reported(policy, age_args(ncp_env, f"{HOST}/fresh/app:settled", minTagAgeMinutes=10))
    pinned = reported(policy, age_args(ncp_env, f"{HOST}/fresh/app@{DIGEST_A}", minTagAgeMinutes=10))

    assert len(moving) == 1
    assert moving[0].startswith("Tag moving of NCR image prod/fresh/app (region KR) was pushed or moved 3 minute(s) ago")
    assert "under minTagAgeMinutes 10" in moving[0] and "may race a push still in progress" in moving[0]
    assert settled == [] and pinned == []
    # one tag list for the image, shared by all three resources
    assert len(ncp_env.requests) == 1


def test_a_tag_dated_in_the_future_is_said_to_be_a_violation(ncp_env, lookups):
    ncp_env.add_image("prod", "fresh/app", tag_mutability_enabled=False)
    ncp_env.add_tag("prod", "fresh/app", "ahead", last_updated=now_ms() + 60 * MINUTE_MS)
    ahead = reported(image_age_policy(lookups=lookups), age_args(ncp_env, f"{HOST}/fresh/app:ahead", minTagAgeMinutes=10))
    assert len(ahead) == 1
    assert ahead[0].startswith("Tag ahead of NCR image prod/fresh/app (region KR) is dated 60 minute(s) in the future (")


def test_a_missing_tag_or_an_image_without_tags_is_a_violation(ncp_env, lookups):
    ncp_env.add_image("prod", "empty/app", tag_mutability_enabled=False)
    policy = image_age_policy(lookups=lookups)

    assert reported(policy, age_args(ncp_env, f"{HOST}/team/web:9.9.9", minTagAgeMinutes=5)) == [
        f"Tag 9.9.9 of NCR image prod/team/web (region KR) does not exist: '{HOST}/team/web:9.9.9' at image "
        "cannot be pulled."]
    assert reported(policy, age_args(ncp_env, f"{HOST}/empty/app:1", maxTagAgeDays=5)) == [
        f"NCR image prod/empty/app (region KR) has no tags, so none is recent: '{HOST}/empty/app:1' at image "
        "cannot be under maxTagAgeDays 5."]


def test_image_age_without_limits_sends_nothing(ncp_env, lookups):
    assert reported(image_age_policy(lookups=lookups), age_args(ncp_env, f"{HOST}/team/web:1.2.1")) == []
    assert ncp_env.requests == []


@pytest.mark.parametrize("value", [0, -3, "30", 1.5, True])
def test_an_invalid_age_limit_is_a_violation_naming_it(ncp_env, lookups, value):
    messages = reported(image_age_policy(lookups=lookups), age_args(ncp_env, f"{HOST}/team/web:1", maxTagAgeDays=value))
    assert messages == [f"Invalid {IMAGE_AGE_POLICY} config: maxTagAgeDays must be a whole number of at least 1, "
                        f"got {value!r}"]
    assert ncp_env.requests == []


@pytest.mark.parametrize(("fail_open", "expected"), [(False, 1), (True, 0)])
def test_image_age_lookup_failure_follows_fail_open(ncp_env, lookups, fail_open, expected):
    for _ in range(FAST_RETRY.attempts):
        ncp_env.enqueue(status=500)
    messages = reported(image_age_policy(lookups=lookups),
                        age_args(ncp_env, f"{HOST}/team/web:1.2.1", maxTagAgeDays=30, failOpen=fail_open))
    assert len(messages) == expected
    if messages:
        assert messages[0].startswith("Could not check NCR image prod/team/web (region KR) at image: ")
        assert "HTTP 500" in messages[0]


# --- ncr-pin-image-digests, called directly ---

def test_remediation_rewrites_every_tag_reference_to_its_digest(ncp_env, lookups):
    # given tags the test controls, referenced by a container, an init container and inside a command line
    ncp_env.add_tag("prod", "team/api", "release", digest=DIGEST_A)
    ncp_env.add_tag("prod", "team/api", "latest", digest=DIGEST_B)
    props = deployment(f"{HOST}/team/api:release", f"{HOST}/team/api", init_images=(f"{HOST}/team/api@{DIGEST_B}",))
    props["spec"]["template"]["spec"]["containers"][0]["args"] = [f"--sidecar={HOST}/team/api:release", "-v"]
    policy = pin_digests_policy(lookups=lookups)

    # when the remediation runs
    result = policy.remediate(resource_args(props, {"endpoint": ncp_env.url}))

    # then every tag reference carries the digest its tag points at, and nothing else changed
    new = serialize_properties(result)
    pod = new["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == f"{HOST}/team/api@{DIGEST_A}"
    assert pod["containers"][0]["args"] == [f"--sidecar={HOST}/team/api@{DIGEST_A}", "-v"]
    assert pod["containers"][1]["image"] == f"{HOST}/team/api@{DIGEST_B}"  # no tag means latest
    assert pod["initContainers"][0]["image"] == f"{HOST}/team/api@{DIGEST_B}"
    assert new["spec"]["replicas"] == 2 and new["metadata"] == {"name": "shop"}
    # one lookup per distinct tag; the by-digest reference is not asked about
    assert sorted(r.path for r in ncp_env.requests) == [
        "/ncr/api/v2/repositories/prod/team/api/tags/latest", "/ncr/api/v2/repositories/prod/team/api/tags/release"]


def test_remediation_follows_the_tag_where_it_points_now(ncp_env):
    # given a tag moved between two deployments (two pack processes: two lookup caches)
    reference = f"{HOST}/team/api:stable"
    seen = []
    for digest in (DIGEST_A, DIGEST_B):
        ncp_env.add_tag("prod", "team/api", "stable", digest=digest)
        cache = LookupCache()
        result = pin_digests_policy(lookups=cache).remediate(
            resource_args(docker_container(reference), {"endpoint": ncp_env.url}, type_=CONTAINER))
        cache.close()
        seen.append(serialize_properties(result)["image"])

    assert seen == [f"{HOST}/team/api@{DIGEST_A}", f"{HOST}/team/api@{DIGEST_B}"]


def test_remediation_keeps_secrets_secret_and_unknowns_unknown(ncp_env, lookups):
    from pulumi_policy import Secret

    ncp_env.add_tag("prod", "team/api", "release", digest=DIGEST_A)
    props = docker_container(f"{HOST}/team/api:release", envs=UNKNOWN_STRING_VALUE)
    args = resource_args(props, {"endpoint": ncp_env.url}, type_=CONTAINER)
    # the engine's Remediate hands a policy secrets wrapped (pulumi_policy's secrets-preserving proxy)
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy
    secret_props = {**props, "image": Secret(props["image"])}
    args.props = unknown_checking_proxy(deserialize_properties(serialize_properties(secret_props), True))

    new = serialize_properties(pin_digests_policy(lookups=lookups).remediate(args))

    assert new["image"] == {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                            "value": f"{HOST}/team/api@{DIGEST_A}"}
    assert new["envs"] == UNKNOWN_STRING_VALUE


def test_remediation_leaves_exempted_and_pinned_references_and_sends_nothing_for_them(ncp_env, lookups):
    props = deployment(f"{HOST}/team/api:dev-7", f"{HOST}/team/api@{DIGEST_A}", f"{HOST}/legacy/app:1")
    config = {"endpoint": ncp_env.url, "allowedTags": ["prod/team/api:dev-*"], "allowedImages": ["prod/legacy/*"]}

    assert pin_digests_policy(lookups=lookups).remediate(resource_args(props, config)) is None
    assert ncp_env.requests == []


def test_what_cannot_be_pinned_is_reported_after_remediation(ncp_env, lookups):
    # given one tag that does not exist and one image NCR fails to answer for
    for _ in range(FAST_RETRY.attempts):
        ncp_env.enqueue_fault("drop")
    policy = pin_digests_policy(lookups=lookups)
    broken = docker_container(f"{HOST}/team/web:1.2.1")
    missing = docker_container(f"{HOST}/team/web:9.9.9")

    # when the remediation runs and the engine then analyzes what it left
    assert policy.remediate(resource_args(broken, {"endpoint": ncp_env.url}, type_=CONTAINER)) is None
    failed = reported(policy, resource_args(broken, {"endpoint": ncp_env.url}, type_=CONTAINER))
    failed_open = reported(policy, resource_args(broken, {"endpoint": ncp_env.url, "failOpen": True}, type_=CONTAINER))
    absent = reported(policy, resource_args(missing, {"endpoint": ncp_env.url}, type_=CONTAINER))

    # then the analysis says why each reference stayed a tag (a lookup failure only while failOpen is false)
    assert len(failed) == 1 and failed[0].startswith("Could not check NCR image prod/team/web (region KR) at image: ")
    assert failed_open == []
    assert absent == [f"Cannot pin '{HOST}/team/web:9.9.9' at image: tag 9.9.9 of NCR image prod/team/web "
                      "(region KR) does not exist."]


def test_at_advisory_level_the_policy_names_the_digest_to_deploy(ncp_env, lookups):
    ncp_env.add_tag("prod", "team/api", "release", digest=DIGEST_A)
    messages = reported(pin_digests_policy(lookups=lookups),
                        resource_args(docker_container(f"{HOST}/team/api:release"), {"endpoint": ncp_env.url},
                                      type_=CONTAINER))
    assert messages == [f"'{HOST}/team/api:release' at image names an NCR image by tag; the tag points at {DIGEST_A} "
                        f"now. Deploy {HOST}/team/api@{DIGEST_A} instead (with enforcementLevel remediate, this "
                        "policy rewrites it)."]


# --- (b) the pack, served for real ---

@contextlib.contextmanager
def serve_pack(emu: NcrEmulator, home, **env: str):
    """`examples/policy-pack` started as the engine starts it; yields an Analyzer stub."""
    yield from running_pack(emu, home, **env)


def configure_pack(stub, emu: NcrEmulator, pin: dict | None = None, **levels: int) -> None:
    """Enable the mutable-tags policy (mandatory) and the pinning one at `remediate`, as a stack's config would."""
    main = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
    main.properties.update({"endpoint": emu.url, "allowedImages": ["prod/team/api"]})
    pinning = analyzer_pb2.PolicyConfig(enforcementLevel=levels.get("pin", analyzer_pb2.REMEDIATE))
    pinning.properties.update({"endpoint": emu.url, **(pin or {})})
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        MUTABLE_TAGS_POLICY: main, PIN_DIGESTS_POLICY: pinning}))


def request(type_: str, props: dict, name: str) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(type=type_, name=name, urn=f"urn:pulumi:dev::shop::{type_}::{name}",
                                       properties=wire(props))


def test_pack_remediate_returns_the_inputs_carrying_the_digest(tmp_path):
    # given the pack with the pinning policy at remediate, and a Deployment running a tag
    with NcrEmulator() as emu:
        emu.add_tag("prod", "team/api", "release", digest=DIGEST_A)
        with serve_pack(emu, tmp_path / "home") as stub:
            configure_pack(stub, emu)
            info = {p.name: p for p in stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10).policies}
            assert info[PIN_DIGESTS_POLICY].enforcementLevel == analyzer_pb2.DISABLED

            # when the engine asks for remediations, then analyzes the remediated inputs (its two passes)
            response = stub.Remediate(request(DEPLOYMENT, deployment(f"{HOST}/team/api:release"), "pinned"), timeout=30)
            [remediation] = response.remediations
            new = json_format.MessageToDict(remediation.properties)
            diagnostics = stub.Analyze(request(DEPLOYMENT, new, "pinned"), timeout=30).diagnostics

        # then the remediated inputs carry the digest reference, and analysis of them finds nothing
        assert remediation.policyName == PIN_DIGESTS_POLICY and remediation.diagnostic == ""
        assert new["spec"]["template"]["spec"]["containers"][0]["image"] == f"{HOST}/team/api@{DIGEST_A}"
        assert new["spec"]["replicas"] == 2
        assert list(diagnostics) == []


def test_pack_remediate_of_an_unpinnable_tag_returns_nothing_and_analysis_blocks(tmp_path):
    with NcrEmulator() as emu, serve_pack(emu, tmp_path / "home") as stub:
        configure_pack(stub, emu)
        props = docker_container(f"{HOST}/team/web:9.9.9")
        response = stub.Remediate(request(CONTAINER, props, "missing"), timeout=30)
        diagnostics = list(stub.Analyze(request(CONTAINER, props, "missing"), timeout=30).diagnostics)

    assert list(response.remediations) == []
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [(PIN_DIGESTS_POLICY, analyzer_pb2.MANDATORY)]
    assert "tag 9.9.9 of NCR image prod/team/web (region KR) does not exist" in diagnostics[0].message


def test_pack_with_a_cache_sends_nothing_on_its_second_run(tmp_path):
    # given the two pack processes of one `pulumi up` (preview, then update) sharing a cache directory
    props = deployment(f"{HOST}/team/web:1.2.1", f"{HOST}/team/api:release")
    with NcrEmulator() as emu:
        emu.add_tag("prod", "team/api", "release", digest=DIGEST_A)
        runs = []
        for run in ("preview", "update"):
            emu.clear_requests()
            with serve_pack(emu, tmp_path / run, NCR_CACHE_DIR=str(tmp_path / "cache")) as stub:
                configure_pack(stub, emu)
                [remediation] = stub.Remediate(request(DEPLOYMENT, props, "shop"), timeout=30).remediations
                new = json_format.MessageToDict(remediation.properties)
                diagnostics = list(stub.Analyze(request(DEPLOYMENT, new, "shop"), timeout=30).diagnostics)
            runs.append((len(emu.requests), new, diagnostics))

    # then the first run asked NCR, the second sent nothing and judged the same
    (first_count, first_new, first_diag), (second_count, second_new, second_diag) = runs
    assert first_count == 4  # two images' details, two tags
    assert second_count == 0
    assert second_new == first_new and first_diag == second_diag == []
    images = [c["image"] for c in second_new["spec"]["template"]["spec"]["containers"]]
    assert images[1] == f"{HOST}/team/api@{DIGEST_A}" and "@sha256:" in images[0]
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert emu.secret_key not in cached and emu.access_key not in cached


def test_pack_cache_dir_from_the_policy_config(tmp_path):
    with NcrEmulator() as emu:
        for run in ("preview", "update"):
            emu.clear_requests()
            with serve_pack(emu, tmp_path / run) as stub:
                configure_pack(stub, emu, pin={"cacheDir": str(tmp_path / "cache")})
                stub.Remediate(request(CONTAINER, docker_container(f"{HOST}/team/web:1.2.1"), "web"), timeout=30)
            if run == "preview":
                assert len(emu.requests) == 2
        assert emu.requests == []


# --- the example policy config enables the new policies, and the pack runs with it ---

EXAMPLE_CONFIG = PACK_DIR / "policy-config.json"
README_TEXT = (PACK_DIR.parent.parent / "README.md").read_text()


def test_policy_table_lists_every_policy_with_its_level_and_config_keys():
    rows = {}
    for line in README_TEXT.split("## The policy pack", 1)[1].split("## The emulator", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`ncr-"):
            rows[cells[0].strip("`")] = cells
    assert set(rows) == {p.name for p in policies()}
    for policy in policies():
        _, level, keys, _ = rows[policy.name]
        assert level == policy.enforcement_level.value, policy.name
        schema = policy.config_schema.properties if policy.config_schema else {}
        assert set(re.findall(r"`([a-z]\w+)`", keys)) - {"true", "false"} == set(schema), policy.name


LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}


def test_example_policy_config_fits_every_schema_and_enables_the_new_policies():
    import json

    import jsonschema

    config = json.loads(EXAMPLE_CONFIG.read_text())
    by_name = {p.name: p for p in policies()}
    assert set(config) <= set(by_name)
    for name, entry in config.items():
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        schema = {"type": "object", "properties": by_name[name].config_schema.properties, "additionalProperties": False}
        jsonschema.validate(properties, schema)
    assert {name: config[name]["enforcementLevel"] for name in (ALLOWED_REGISTRIES_POLICY, IMAGE_AGE_POLICY,
                                                                 PIN_DIGESTS_POLICY)} == {
        ALLOWED_REGISTRIES_POLICY: "mandatory", IMAGE_AGE_POLICY: "mandatory", PIN_DIGESTS_POLICY: "remediate"}


def test_pack_with_the_example_config_pins_then_judges(tmp_path):
    import json

    with NcrEmulator() as emu:
        # a tag pushed an hour ago in an immutable repository: old enough, recent enough, allowed registry
        emu.add_tag("prod", "team/web", "2.0.0", digest=DIGEST_A, last_updated=now_ms() - 60 * MINUTE_MS)
        with serve_pack(emu, tmp_path / "home") as stub:
            policy_config = {}
            for name, entry in json.loads(EXAMPLE_CONFIG.read_text()).items():
                level = LEVELS[entry.pop("enforcementLevel")]
                entry = {**entry, "endpoint": emu.url, **({"cacheDir": str(tmp_path / "c")} if "cacheDir" in entry else {})}
                policy_config[name] = analyzer_pb2.PolicyConfig(enforcementLevel=level)
                policy_config[name].properties.update(entry)
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))

            props = deployment(f"{HOST}/team/web:2.0.0", "docker.io/library/nginx:1.27")
            [remediation] = stub.Remediate(request(DEPLOYMENT, props, "shop"), timeout=30).remediations
            new = json_format.MessageToDict(remediation.properties)
            diagnostics = list(stub.Analyze(request(DEPLOYMENT, new, "shop"), timeout=30).diagnostics)

    images = [c["image"] for c in new["spec"]["template"]["spec"]["containers"]]
    assert images == [f"{HOST}/team/web@{DIGEST_A}", "docker.io/library/nginx:1.27"]
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        (ALLOWED_REGISTRIES_POLICY, analyzer_pb2.MANDATORY)]
    assert "'docker.io/library/nginx:1.27' at spec.template.spec.containers[1].image is not an NCR image" in \
        diagnostics[0].message
