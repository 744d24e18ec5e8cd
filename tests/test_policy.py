"""The NCR policy pack: its policies called directly, then the pack served for real over the Analyzer gRPC protocol.

Everything runs against the emulator over real HTTP. Part (b) starts `examples/policy-pack` exactly
as the engine's `pulumi-analyzer-policy-python` shim does and drives it with the engine's calls.
"""

from __future__ import annotations

import json

import pytest
from google.protobuf import empty_pb2, json_format
from helpers import FAST_RETRY
from policy_helpers import (
    CONTAINER,
    CONTAINER_PATH,
    DEPLOYMENT,
    IMMUTABLE,
    MUTABLE,
    analyze,
    as_policy_sees,
    configure,
    deployment,
    docker_container,
    options,
    resource_args,
    summary,
    wire,
)
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

from ncr_provider.emulator import NcrEmulator
from ncr_provider.policy import (
    DIGEST_REFERENCES_POLICY,
    MUTABLE_TAGS_POLICY,
    NCR_IMAGE_TYPE,
    REGISTERED_IMAGES_POLICY,
    UNCHECKED_IMAGES_POLICY,
    PolicyConfig,
    check_references,
    digest_references_policy,
    policies,
    registered_images_policy,
)


@pytest.mark.parametrize("reference", [
    "prod.kr.ncr.ntruss.com/team/api:latest",   # the tag a deployment gets by default
    "prod.kr.ncr.ntruss.com/team/api",          # no tag at all: Docker pulls :latest
])
def test_check_references_judges_a_latest_reference_like_any_tag(ncp_env, lookups, reference):
    # given a container running a mutable repository's :latest, spelled out or implied
    config = PolicyConfig.from_mapping({"endpoint": ncp_env.url})
    # when the policy's reference check reads the resource
    findings = check_references(docker_container(reference), config, lookups)
    # then it is looked up and blocks, like any other tag of that repository
    assert [(f.blocking, f"'{reference}' at image" in f.message) for f in findings] == [(True, True)]
    assert image_requests(ncp_env, "prod/team/api") == 1


def image_requests(emulator: NcrEmulator, image: str) -> int:
    registry, name = image.split("/", 1)
    return sum(1 for r in emulator.requests if r.path.endswith(f"/repositories/{registry}/{name}"))



# --- (a) the policies, called directly ---

def test_mutable_repository_is_a_violation_naming_image_and_path(ncp_env, validate):
    # given a Deployment running an image whose repository allows mutable tags, next to an immutable one
    args = resource_args(deployment(IMMUTABLE, MUTABLE), {"endpoint": ncp_env.url})

    # when the policy validates it
    reports = validate(args)

    # then exactly the mutable image is a violation, named with its property path
    assert reports.violations == [
        f"NCR image prod/team/api (region KR) allows mutable tags, so '{MUTABLE}' at {CONTAINER_PATH.format(1)} "
        "can point at different content after review. Turn on tag immutability for the repository, "
        "or exempt it with allowedImages."]
    assert reports.advisories == []


def test_immutable_repository_passes_after_a_real_lookup(ncp_env, validate):
    # given a Docker container running an immutable image
    args = resource_args(docker_container(IMMUTABLE), {"endpoint": ncp_env.url}, type_=CONTAINER)

    # when validated
    reports = validate(args)

    # then nothing is reported, and the image was really looked up
    assert (reports.violations, reports.advisories) == ([], [])
    assert image_requests(ncp_env, "prod/team/web") == 1


def test_reference_inside_any_string_at_any_depth_is_found(ncp_env, validate):
    # given a container whose command line mentions a mutable image inside a longer string
    props = docker_container(IMMUTABLE, command=["run", f"--sidecar={MUTABLE}", "--verbose"])

    # when validated
    reports = validate(resource_args(props, {"endpoint": ncp_env.url}, type_=CONTAINER))

    # then the embedded reference is reported with its path
    assert len(reports.violations) == 1
    assert f"'{MUTABLE}' at command[1]" in reports.violations[0]


@pytest.mark.parametrize("patterns", [["prod/team/api"], ["prod/*"], ["prod/team/a?i"], ["other/*", "prod/team/[a-b]*"]])
def test_allowed_images_glob_exempts_without_a_lookup(ncp_env, validate, patterns):
    # given the mutable image matched by an allowedImages pattern
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url, "allowedImages": patterns})

    # when validated
    reports = validate(args)

    # then it passes and was never looked up
    assert (reports.violations, reports.advisories) == ([], [])
    assert image_requests(ncp_env, "prod/team/api") == 0


def test_allowed_images_that_do_not_match_exempt_nothing(ncp_env, validate):
    # given patterns close to, but not matching, the mutable image (matching is case-sensitive)
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url, "allowedImages": ["prod/team/web", "PROD/*", "prod"]})

    # when validated
    reports = validate(args)

    # then the violation stands
    assert len(reports.violations) == 1 and "prod/team/api" in reports.violations[0]


def _break_ncr(emulator: NcrEmulator, fault: str) -> str:
    """Make every attempt of the next lookup fail; returns the words the error sentence must contain."""
    for _ in range(FAST_RETRY.attempts):
        if fault == "500":
            emulator.enqueue(status=500)
        else:
            emulator.enqueue_fault("drop")
    return "HTTP 500" if fault == "500" else "Could not reach NCR"


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_fail_closed_lookup_failure_is_a_violation_saying_why(ncp_env, validate, fault):
    # given NCR answering 500 (or dropping the connection) on every attempt, and failOpen left at false
    why = _break_ncr(ncp_env, fault)
    args = resource_args(deployment(IMMUTABLE), {"endpoint": ncp_env.url})

    # when validated
    reports = validate(args)

    # then the unchecked image blocks, with the client's sentence saying why
    assert len(reports.violations) == 1, reports.violations
    message = reports.violations[0]
    assert message.startswith(f"Could not check NCR image prod/team/web (region KR) at {CONTAINER_PATH.format(0)}: ")
    assert why in message and f"after {FAST_RETRY.attempts} attempt(s)" in message
    assert message.endswith("An image that cannot be checked blocks the deployment while failOpen is false.")
    assert reports.advisories == []
    assert ncp_env.pending == 0


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_fail_open_lookup_failure_is_only_advisory(ncp_env, validate, fault):
    # given the same failures, with failOpen true
    why = _break_ncr(ncp_env, fault)
    args = resource_args(deployment(IMMUTABLE), {"endpoint": ncp_env.url, "failOpen": True})

    # when validated
    reports = validate(args)

    # then nothing blocks, and the companion policy carries the reason as advisory
    assert reports.violations == []
    assert len(reports.advisories) == 1
    assert why in reports.advisories[0]
    assert reports.advisories[0].endswith("Not blocking: failOpen is true.")


def test_fail_open_still_blocks_a_mutable_image_it_could_check(ncp_env, validate):
    # given failOpen true and a mutable image NCR answers for
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url, "failOpen": True})

    # when validated
    reports = validate(args)

    # then failOpen changes nothing about a real violation
    assert len(reports.violations) == 1 and reports.advisories == []


def test_answer_without_tag_mutability_is_treated_as_unchecked(ncp_env, validate):
    # given NCR answering 200 without saying whether the tags are mutable (fields may be missing)
    ncp_env.enqueue(status=200, body={"name": "team/web", "namespace": "prod", "pull_count": 3})

    # when validated with failOpen false
    reports = validate(resource_args(deployment(IMMUTABLE), {"endpoint": ncp_env.url}))

    # then the image is not silently passed
    assert len(reports.violations) == 1
    assert "NCR did not say whether its tags are mutable." in reports.violations[0]


def test_unknown_values_during_preview_are_skipped_not_failed(ncp_env, validate):
    # given a preview where one image and a whole container list are unknown, next to a known mutable image
    props = deployment(UNKNOWN_STRING_VALUE, MUTABLE)
    props["spec"]["template"]["spec"]["initContainers"] = UNKNOWN_ARRAY_VALUE
    props["spec"]["paused"] = UNKNOWN_BOOLEAN_VALUE

    # when validated (pulumi_policy's props raise UnknownValueError on access to an unknown)
    reports = validate(resource_args(props, {"endpoint": ncp_env.url}))

    # then the unknowns are ignored, and the known image keeps its true path
    assert len(reports.violations) == 1
    assert f"at {CONTAINER_PATH.format(1)}" in reports.violations[0]


def test_only_unknown_images_send_nothing(ncp_env, validate):
    # given a resource whose only image is unknown
    reports = validate(resource_args(docker_container(UNKNOWN_STRING_VALUE), {"endpoint": ncp_env.url}, type_=CONTAINER))

    # then nothing is reported and NCR is not asked
    assert (reports.violations, reports.advisories) == ([], [])
    assert ncp_env.requests == []


def test_duplicates_in_one_resource_are_looked_up_once(ncp_env, validate):
    # given the same mutable image three times (two tags, one init container) in one Deployment
    props = deployment(MUTABLE, MUTABLE.replace(":2.0.0", ":latest"), init_images=(MUTABLE,))

    # when validated
    reports = validate(resource_args(props, {"endpoint": ncp_env.url}))

    # then each place is reported, but NCR was asked once
    assert len(reports.violations) == 3
    assert any("spec.template.spec.initContainers[0].image" in v for v in reports.violations)
    assert image_requests(ncp_env, "prod/team/api") == 1


def test_lookups_are_cached_for_the_pack_process(ncp_env, validate):
    # given one resource already validated
    validate(resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url}, name="first"))

    # when another resource uses the same image
    reports = validate(resource_args(docker_container(MUTABLE), {"endpoint": ncp_env.url}, type_=CONTAINER, name="second"))

    # then it is judged from the cache
    assert len(reports.violations) == 1
    assert image_requests(ncp_env, "prod/team/api") == 1


def test_malformed_reference_is_a_violation_naming_the_path(ncp_env, validate):
    # given an NCR host followed by a repository name Docker does not allow
    props = deployment(IMMUTABLE, "prod.kr.ncr.ntruss.com/Team/Web:1.0")

    # when validated
    reports = validate(resource_args(props, {"endpoint": ncp_env.url}))

    # then the malformed reference is a violation naming its path and the rule it breaks
    assert reports.violations == [
        f"Malformed NCR image reference 'prod.kr.ncr.ntruss.com/Team/Web:1.0' at {CONTAINER_PATH.format(1)}: "
        "Invalid image_name 'Team/Web': segment 'Team' must be lowercase letters and digits, joined by '.', '_', '__' or '-'."]


def test_missing_credentials_fail_closed_naming_where_they_were_looked_for(emulator, validate):
    # given no credentials anywhere (the policy config cannot carry them)
    args = resource_args(deployment(IMMUTABLE), {"endpoint": emulator.url})

    # when validated
    reports = validate(args)

    # then the violation says which settings to provide, and nothing was sent
    assert len(reports.violations) == 1
    assert "No NCP access key and secret key found. Looked in:" in reports.violations[0]
    assert "NCLOUD_ACCESS_KEY" in reports.violations[0]
    assert emulator.requests == []


def test_credentials_from_the_stack_config_the_engine_passes(emulator, validate, monkeypatch):
    # given credentials only in PULUMI_CONFIG, which the engine sets for every policy pack
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ncloud:accessKey": emulator.access_key,
                                                    "ncloud:secretKey": emulator.secret_key}))

    # when validated
    reports = validate(resource_args(deployment(MUTABLE), {"endpoint": emulator.url}))

    # then the lookup was signed with them and the image judged
    assert len(reports.violations) == 1 and "prod/team/api" in reports.violations[0]


def test_invalid_endpoint_in_policy_config_is_reported_not_raised(ncp_env, validate):
    # given an endpoint the settings refuse
    reports = validate(resource_args(deployment(IMMUTABLE), {"endpoint": "http://ncr.example.com"}))

    # then it is a violation saying why, and nothing was sent
    assert len(reports.violations) == 1
    assert "http:// is allowed only for loopback hosts" in reports.violations[0]
    assert ncp_env.requests == []


def ncr_image(name: str, outputs: dict, type_: str = NCR_IMAGE_TYPE) -> PolicyResource:
    """A registered resource as pulumi_policy's AnalyzeStack builds it."""
    urn = f"urn:pulumi:dev::shop::{type_}::{name}"
    return PolicyResource(type_, as_policy_sees(outputs), urn, name, options(), None, None, [], {})


def outputs(image: str, mutable: object) -> dict:
    registry, image_name = image.split("/", 1)
    return {"registry": registry, "image_name": image_name, "region": "KR", "tag_mutability_enabled": mutable}


def test_stack_policy_checks_registered_ncr_images_by_their_output():
    # given registered NcrImage resources (mutable, immutable, unknown in preview) and another type
    resources = [
        ncr_image("api", outputs("prod/team/api", True)),
        ncr_image("web", outputs("prod/team/web", False)),
        ncr_image("next", outputs("prod/team/next", UNKNOWN_BOOLEAN_VALUE)),
        ncr_image("other", outputs("prod/team/x", True), type_="aws:ecr/repository:Repository"),
    ]
    found: list[tuple[str, str | None]] = []

    # when the stack policy validates the stack
    registered_images_policy().validate(StackValidationArgs(resources, {}), lambda m, urn=None: found.append((m, urn)))

    # then only the mutable NcrImage is reported, against its own URN
    assert found == [("NcrImage 'api': NCR image prod/team/api (region KR) allows mutable tags. "
                      "Turn on tag immutability for the repository, or exempt it with allowedImages.",
                      resources[0].urn)]


@pytest.mark.parametrize("value", ["true", "false", "", 0, 1, []])
def test_stack_policy_never_reads_a_non_boolean_output_as_immutable(value):
    resources = [ncr_image("odd", outputs("prod/team/odd", value))]
    found: list[str] = []
    registered_images_policy().validate(StackValidationArgs(resources, {}), lambda m, urn=None: found.append(m))
    assert len(found) == 1
    assert found[0].startswith("NcrImage 'odd': could not check NCR image prod/team/odd (region KR): its "
                               "tag_mutability_enabled output is ")


def test_stack_policy_honours_allowed_images():
    # given the mutable NcrImage exempted
    resources = [ncr_image("api", outputs("prod/team/api", True))]
    found: list[str] = []

    # when validated
    registered_images_policy().validate(StackValidationArgs(resources, {"allowedImages": ["prod/team/*"]}),
                                        lambda m, urn=None: found.append(m))

    # then nothing is reported
    assert found == []


# --- (a') the optional digest-references policy, called directly ---

API_DIGEST = "sha256:d4fd6103badfd8d14833e124f8f2d146bb435d23468434d8399124ced0e028d2"  # prod/team/api:build-144
MUTABLE_PINNED = f"prod.kr.ncr.ntruss.com/team/api@{API_DIGEST}"


@pytest.fixture
def validate_digests(lookups):
    """Run the digest-references policy on one resource; returns its violations."""
    policy = digest_references_policy(lookups=lookups)

    def run(args: ResourceValidationArgs) -> list[str]:
        violations: list[str] = []
        policy.validate(args, lambda message, urn=None: violations.append(message))
        return violations

    return run


def test_digest_policy_is_in_the_pack_and_disabled_unless_enabled():
    from pulumi_policy import EnforcementLevel

    assert DIGEST_REFERENCES_POLICY in [p.name for p in policies()]
    assert digest_references_policy().enforcement_level == EnforcementLevel.DISABLED


def test_tag_reference_to_a_mutable_repository_must_be_a_digest(ncp_env, validate_digests):
    # given a Deployment running the mutable repository by tag, and the same repository by digest
    args = resource_args(deployment(MUTABLE, MUTABLE_PINNED), {"endpoint": ncp_env.url})

    # when the digest policy validates it
    violations = validate_digests(args)

    # then only the tag reference is a violation, saying how to pin it
    assert violations == [
        f"NCR image prod/team/api (region KR) allows mutable tags, and '{MUTABLE}' at {CONTAINER_PATH.format(0)} "
        "names it by tag, so what runs can change without a deployment. Deploy it by digest "
        "(prod.kr.ncr.ntruss.com/team/api@sha256:...): NcrImageTag's image_ref_by_digest or `ncr-image resolve` "
        "gives the reference; or exempt it with allowedImages."]


def test_a_reference_without_tag_or_digest_is_a_tag_reference_too(ncp_env, validate_digests):
    violations = validate_digests(resource_args(docker_container("prod.kr.ncr.ntruss.com/team/api"),
                                                {"endpoint": ncp_env.url}, type_=CONTAINER))
    assert len(violations) == 1 and "'prod.kr.ncr.ntruss.com/team/api' at image names it by tag" in violations[0]


def test_digest_references_and_immutable_repositories_pass(ncp_env, validate_digests):
    # given a pinned mutable image (never looked up) and an immutable one by tag (looked up, and fine)
    args = resource_args(deployment(MUTABLE_PINNED, IMMUTABLE), {"endpoint": ncp_env.url})

    assert validate_digests(args) == []
    assert (image_requests(ncp_env, "prod/team/api"), image_requests(ncp_env, "prod/team/web")) == (0, 1)


def test_digest_policy_allowed_images_exempt_without_a_lookup(ncp_env, validate_digests):
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url, "allowedImages": ["prod/team/*"]})

    assert validate_digests(args) == []
    assert ncp_env.requests == []


def test_digest_policy_shares_the_main_policys_lookups(ncp_env, validate, validate_digests):
    # given the main policy has judged the mutable image already
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url})
    assert len(validate(args).violations) == 1

    # when the digest policy judges the same resource with the same lookup cache
    violations = validate_digests(args)

    # then it reports, and NCR was asked once in all
    assert len(violations) == 1
    assert image_requests(ncp_env, "prod/team/api") == 1


@pytest.mark.parametrize(("fail_open", "expected"), [(False, 1), (True, 0)])
def test_digest_policy_on_lookup_failure_follows_fail_open(ncp_env, validate_digests, fail_open, expected):
    _break_ncr(ncp_env, "500")
    args = resource_args(deployment(MUTABLE), {"endpoint": ncp_env.url, "failOpen": fail_open})

    violations = validate_digests(args)

    assert len(violations) == expected
    if violations:
        assert violations[0].startswith(f"Could not check NCR image prod/team/api (region KR) at {CONTAINER_PATH.format(0)}")
    assert ncp_env.pending == 0


# --- (b) the pack, served for real ---

def test_pack_describes_its_policies_and_config_schema(pack):
    # when the engine asks the pack what it is
    info = pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)

    # then it names its policies, their enforcement levels and the main policy's config schema
    assert info.name == "ncr-policies" and info.supportsConfig
    policies = {p.name: p for p in info.policies}
    assert {name: p.enforcementLevel for name, p in policies.items()} == {
        MUTABLE_TAGS_POLICY: analyzer_pb2.MANDATORY,
        UNCHECKED_IMAGES_POLICY: analyzer_pb2.ADVISORY,
        REGISTERED_IMAGES_POLICY: analyzer_pb2.MANDATORY,
        DIGEST_REFERENCES_POLICY: analyzer_pb2.DISABLED,
        "ncr-allowed-registries": analyzer_pb2.DISABLED,
        "ncr-image-age": analyzer_pb2.DISABLED,
        "ncr-pin-image-digests": analyzer_pb2.DISABLED,
    }
    main = policies[MUTABLE_TAGS_POLICY]
    assert main.description == "Prohibits deploying NCR images whose repository allows mutable tags"
    if "policy_type" in main.DESCRIPTOR.fields_by_name:  # the protocol of pulumi 3.139 has no policy_type yet
        assert main.policy_type == analyzer_pb2.POLICY_TYPE_RESOURCE
        assert policies[REGISTERED_IMAGES_POLICY].policy_type == analyzer_pb2.POLICY_TYPE_STACK
    schema = json_format.MessageToDict(main.configSchema.properties)
    assert set(schema) == {"allowedImages", "allowedTags", "region", "endpoint", "failOpen", "cacheDir", "cacheTtlSeconds"}
    assert schema["allowedImages"]["type"] == "array" and schema["allowedImages"]["items"] == {"type": "string"}
    assert schema["failOpen"] == {**schema["failOpen"], "type": "boolean", "default": False}
    assert "only registered resources" in policies[REGISTERED_IMAGES_POLICY].description
    digest_schema = json_format.MessageToDict(policies[DIGEST_REFERENCES_POLICY].configSchema.properties)
    assert set(digest_schema) == set(schema)


def test_pack_judges_a_deployment_and_a_docker_container(pack, pack_emulator):
    # given the pack configured with the emulator's endpoint
    configure(pack, pack_emulator)

    # when the engine sends a Deployment and a Docker container, each with a mutable and an immutable image
    deployment_mutable = analyze(pack, DEPLOYMENT, deployment(MUTABLE), "mutable")
    deployment_immutable = analyze(pack, DEPLOYMENT, deployment(IMMUTABLE), "immutable")
    container_mutable = analyze(pack, CONTAINER, docker_container(MUTABLE), "mutable")
    container_immutable = analyze(pack, CONTAINER, docker_container(IMMUTABLE), "immutable")

    # then only the mutable images are mandatory violations, naming image and property path
    assert summary(deployment_mutable) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert "NCR image prod/team/api (region KR) allows mutable tags" in deployment_mutable[0].message
    assert f"at {CONTAINER_PATH.format(0)}" in deployment_mutable[0].message
    assert summary(container_mutable) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert f"'{MUTABLE}' at image " in container_mutable[0].message
    assert deployment_immutable == [] and container_immutable == []


def test_pack_honours_the_allow_list(pack, pack_emulator):
    # given the mutable image exempted in the policy config
    configure(pack, pack_emulator, allowedImages=["prod/team/a*"])

    # when a Deployment runs it
    diagnostics = analyze(pack, DEPLOYMENT, deployment(MUTABLE), "allowed")

    # then nothing is reported
    assert diagnostics == []


def test_pack_fails_closed_when_ncr_fails(pack, pack_emulator):
    # given an image not looked up yet, and NCR answering 500 to every attempt of the client's default retry
    pack_emulator.add_image("prod", "faults/closed", tag_mutability_enabled=False)
    for _ in range(4):
        pack_emulator.enqueue(status=500)
    configure(pack, pack_emulator)

    # when a Deployment runs it
    diagnostics = analyze(pack, DEPLOYMENT, deployment("prod.kr.ncr.ntruss.com/faults/closed:1"), "closed")

    # then it is a mandatory violation saying why
    assert summary(diagnostics) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert "Could not check NCR image prod/faults/closed (region KR)" in diagnostics[0].message
    assert "HTTP 500" in diagnostics[0].message and "after 4 attempt(s)" in diagnostics[0].message
    assert pack_emulator.pending == 0


def test_pack_fails_open_with_an_advisory(pack, pack_emulator):
    # given an image not looked up yet, NCR dropping every connection, and failOpen true
    pack_emulator.add_image("prod", "faults/open", tag_mutability_enabled=False)
    for _ in range(4):
        pack_emulator.enqueue_fault("drop")
    configure(pack, pack_emulator, failOpen=True)

    # when a Docker container runs it
    diagnostics = analyze(pack, CONTAINER, docker_container("prod.kr.ncr.ntruss.com/faults/open:1"), "open")

    # then only an advisory diagnostic says the image went unchecked, and why
    assert summary(diagnostics) == [(UNCHECKED_IMAGES_POLICY, analyzer_pb2.ADVISORY)]
    assert "Could not check NCR image prod/faults/open (region KR) at image: Could not reach NCR" in diagnostics[0].message
    assert diagnostics[0].message.endswith("Not blocking: failOpen is true.")
    assert pack_emulator.pending == 0


def test_pack_skips_unknown_values_silently(pack, pack_emulator):
    # given a preview in which the container's image is not known yet
    configure(pack, pack_emulator)

    # when the engine sends it
    diagnostics = analyze(pack, DEPLOYMENT, deployment(UNKNOWN_STRING_VALUE), "preview")

    # then there is no diagnostic at all (not even pulumi_policy's "can't run policy during preview")
    assert diagnostics == []


def test_pack_stack_policy_reports_a_registered_mutable_ncr_image(pack, pack_emulator):
    # given a stack with a registered NcrImage whose repository allows mutable tags, and an immutable one
    configure(pack, pack_emulator)
    resources = [
        analyzer_pb2.AnalyzerResource(type=NCR_IMAGE_TYPE, name=name, urn=f"urn:pulumi:dev::shop::{NCR_IMAGE_TYPE}::{name}",
                                      properties=wire(outputs(image, mutable)))
        for name, image, mutable in (("api", "prod/team/api", True), ("web", "prod/team/web", False))
    ]

    # when the engine analyzes the stack
    diagnostics = list(pack.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=30).diagnostics)

    # then the mutable one is a mandatory violation against its own URN
    assert summary(diagnostics) == [(REGISTERED_IMAGES_POLICY, analyzer_pb2.MANDATORY)]
    assert diagnostics[0].urn == resources[0].urn
    assert "prod/team/api" in diagnostics[0].message


def test_pack_digest_policy_once_enabled_flags_tags_of_a_repository_exempted_from_the_main_policy(pack, pack_emulator):
    # given the mutable repository exempted from the main policy, and the digest policy enabled as mandatory
    main = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
    main.properties.update({"endpoint": pack_emulator.url, "allowedImages": ["prod/team/api"]})
    digests = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
    digests.properties.update({"endpoint": pack_emulator.url})
    pack.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        MUTABLE_TAGS_POLICY: main, DIGEST_REFERENCES_POLICY: digests}))

    # when a Deployment runs it once by tag and once by digest
    diagnostics = analyze(pack, DEPLOYMENT, deployment(MUTABLE, MUTABLE_PINNED), "pinning")

    # then only the tag reference is reported, by the digest policy
    assert summary(diagnostics) == [(DIGEST_REFERENCES_POLICY, analyzer_pb2.MANDATORY)]
    assert f"'{MUTABLE}' at {CONTAINER_PATH.format(0)} names it by tag" in diagnostics[0].message


def test_pack_digest_policy_stays_silent_while_disabled(pack, pack_emulator):
    # given the engine's config names only the main policy (exempting the image), as before this policy existed
    configure(pack, pack_emulator, allowedImages=["prod/team/api"])

    # then a tag reference to the mutable repository draws nothing
    assert analyze(pack, DEPLOYMENT, deployment(MUTABLE), "disabled") == []
