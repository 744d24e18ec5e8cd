"""Gates that used to pass silently: Helm's split image values, `docker://` references, a reference naming
no tag under a minimum tag age. Each is judged the same way by `ncr-image check` (REFs, --from-file,
--from-stack, run as its own process), the policies called as pulumi_policy calls them, and the pack
process over the Analyzer gRPC service; what cannot be judged is reported, never passed.
Everything runs against the emulator over real HTTP (team/api is mutable in its default data)."""

from __future__ import annotations

import json

import pytest
from cli_runner import image_requests, run_cli
from policy_helpers import CONTAINER, analyze, configure, docker_container, resource_args, summary
from pulumi.runtime.proto import analyzer_pb2

from ncr_provider import names
from ncr_provider.names import find_references
from ncr_provider.policy import MUTABLE_TAGS_POLICY, UNCHECKED_IMAGES_POLICY, PolicyConfig
from ncr_provider.policy_rules import image_age_policy, pin_candidates, pin_digests_policy, resolve_pins, rewrite
from ncr_provider.signing import now_ms
from ncr_provider.sites import DOCKER_HOSTS

HELM = "kubernetes:helm.sh/v3:Release"
HOST = "prod.kr.ncr.ntruss.com"
MUTABLE_LATEST = f"{HOST}/team/api:latest"
MINUTE_MS = 60_000


def release(values: dict) -> dict:
    """A Helm Release's inputs, as `pulumi stack export` and the engine hold them."""
    return {"chart": "oci://registry-1.docker.io/bitnamicharts/nginx", "version": "18.1.0", "values": values}


def check_stack(tmp_path, *resources: tuple, args: tuple[str, ...] = ("--require-immutable",)):
    """`check --from-stack` on an export of (name, type, inputs[, outputs]) resources: its exit code and JSON document."""
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [
        {"urn": f"urn:pulumi:dev::shop::{type_}::{name}", "type": type_, "inputs": inputs, "outputs": outputs[0] if outputs else {}}
        for name, type_, inputs, *outputs in resources]}}))
    result = run_cli("check", *args, "--from-stack", str(path), "--output", "json")
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def references(doc: dict) -> list[tuple[str, str, str]]:
    """(reference as judged, where it was found, verdict) for every reference of a check document."""
    return sorted((r["ref"], r["origin"].split(") ", 1)[1], image["verdict"]) for image in doc["images"]
                  for r in image["references"])


# -- Helm's split image values ---------------------------------------------------------------------

BITNAMI = {"image": {"registry": HOST, "repository": "team/api", "tag": "latest"}}
WHOLE_REPOSITORY = {"image": {"repository": f"{HOST}/team/api", "tag": 1.4, "pullPolicy": "IfNotPresent"}}
BY_DIGEST = {"image": {"registry": HOST, "repository": "team/web", "tag": "1.2.1", "digest": "sha256:" + "d4" * 32}}
ONLY_A_HOST = {"global": {"imageRegistry": HOST}, "image": {"name": "team/api", "tag": "1"}}


def test_check_joins_split_image_values_and_judges_the_whole_reference(ncp_env, tmp_path):
    # given Helm releases naming their images by parts, as Bitnami's charts and the chart starter do
    code, doc = check_stack(tmp_path, ("bitnami", HELM, release(BITNAMI)), ("starter", HELM, release(WHOLE_REPOSITORY)),
                            ("pinned", HELM, release(BY_DIGEST)))
    # then each is judged as the chart joins it, at the path of its values, instead of "No NCR images to check"
    assert code == 1
    assert references(doc) == [
        (f"{HOST}/team/api:1.4", "inputs.values.image", "violation"),
        (MUTABLE_LATEST, "inputs.values.image", "violation"),
        (f"{HOST}/team/web:1.2.1@sha256:" + "d4" * 32, "inputs.values.image", "pass"),
    ]
    assert sorted(image_requests(ncp_env)) == ["/ncr/api/v2/repositories/prod/team%2Fapi",
                                               "/ncr/api/v2/repositories/prod/team%2Fweb"]


def test_check_reports_an_ncr_host_with_no_image_beside_it_and_leaves_login_servers_alone(ncp_env, tmp_path):
    # given a chart's global registry whose image name sits elsewhere, a Docker provider's login server, and
    # a registry's host in outputs (a stack output for `docker login`), where no policy looks
    code, doc = check_stack(tmp_path, ("chart", HELM, release(ONLY_A_HOST)),
                            ("docker", "pulumi:providers:docker", {"registryAuth": [{"address": HOST, "username": "u"}]}),
                            ("shop-dev", "pulumi:pulumi:Stack", {}, {"registry": HOST, "login": f"{HOST}:443"}))
    # then the host is "could not be checked", naming where it is; the login server and outputs name no image
    assert code == 3
    [image] = doc["images"]
    assert (image["ref"], image["verdict"], image["reason"]) == (HOST, "error",
                                                                 "could not be checked (NCR host without an image)")
    assert image["references"][0]["origin"].endswith("chart (kubernetes:helm.sh/v3:Release) inputs.values.global."
                                                     "imageRegistry")
    assert "holds the NCR registry host 'prod.kr.ncr.ntruss.com' but no image" in image["error"]["message"]
    assert ncp_env.requests == []


@pytest.mark.parametrize("host", sorted({form.host("prod") for form in DOCKER_HOSTS} |
                                        {f"{form.host('prod')}:5000" for form in DOCKER_HOSTS} |
                                        {HOST.upper()}))
def test_every_ncr_host_form_alone_in_a_value_is_reported_never_ignored(host):
    [found] = find_references({"values": {"registry": host, "image": {"name": "team/api"}}})
    assert (found.path, found.text, found.ref, type(found.error)) == ("values.registry", host, None,
                                                                         names.UnjoinedNcrHost)
    # outside a chart's registry keys a bare host is configuration and names no image: a login server, an env
    # value, a container argument, stack config held by the default provider, a variable's value
    assert find_references({"registry": {"server": host}, "registryAuth": [{"address": host}],
                            "env": [{"name": "REGISTRY", "value": host}], "args": ["--insecure-registry", host],
                            "shop:registryHost": host, "repository": "app", "value": host}) == []
    [joined] = find_references({"image": {"registry": host, "repository": "team/api"}})
    assert joined.text == f"{host}/team/api" and joined.error is None


def test_policy_judges_split_values_like_check(ncp_env, validate):
    reports = validate(resource_args(release(BITNAMI), {"endpoint": ncp_env.url}, type_=HELM))
    starter = validate(resource_args(release(WHOLE_REPOSITORY), {"endpoint": ncp_env.url}, type_=HELM))
    assert len(reports.violations) == 1
    assert reports.violations[0].startswith(f"NCR image prod/team/api (region KR) allows mutable tags, so "
                                            f"'{MUTABLE_LATEST}' at values.image can point at ")
    assert len(starter.violations) == 1 and f"'{HOST}/team/api:1.4' at values.image" in starter.violations[0]


@pytest.mark.parametrize("fail_open", [False, True])
def test_policy_an_ncr_host_with_no_image_is_not_checked_blocking_unless_fail_open(ncp_env, validate, fail_open):
    reports = validate(resource_args(release(ONLY_A_HOST), {"endpoint": ncp_env.url, "failOpen": fail_open}, type_=HELM))
    blocking, quiet = (reports.advisories, reports.violations) if fail_open else (reports.violations, reports.advisories)
    assert quiet == []
    [message] = blocking
    assert message.startswith(f"Could not check NCR image {HOST} at values.global.imageRegistry: values.global."
                              f"imageRegistry holds the NCR registry host '{HOST}' but no image")
    assert ncp_env.requests == []


def test_pack_blocks_split_values_and_a_lone_host(pack, pack_emulator):
    configure(pack, pack_emulator)
    joined = analyze(pack, HELM, release(BITNAMI), "bitnami")
    lone = analyze(pack, HELM, release(ONLY_A_HOST), "lone")
    assert summary(joined) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert f"'{MUTABLE_LATEST}' at values.image" in joined[0].message
    assert summary(lone) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert "at values.global.imageRegistry" in lone[0].message
    configure(pack, pack_emulator, failOpen=True)
    assert summary(analyze(pack, HELM, release(ONLY_A_HOST), "lone-open")) == [(UNCHECKED_IMAGES_POLICY,
                                                                                analyzer_pb2.ADVISORY)]


# -- docker:// -------------------------------------------------------------------------------------

SKOPEO = f"skopeo copy docker://{MUTABLE_LATEST} oci:/tmp/api"


def test_check_judges_what_follows_docker_transport_in_a_stack(ncp_env, tmp_path):
    code, doc = check_stack(tmp_path, ("copy", "command:local:Command", {"create": SKOPEO}),
                            ("pod", CONTAINER, docker_container(f"docker://{HOST}/team/web:1.2.1")),
                            ("daemon", "command:local:Command", {"create": f"skopeo inspect docker-daemon:{HOST}/team/api:2"}),
                            ("notes", "kubernetes:core/v1:ConfigMap", {"data": {"docs": f"see https://{HOST}/team/api:3"}}))
    assert code == 1
    assert references(doc) == [
        (f"{HOST}/team/api:2", "inputs.create", "violation"),
        (MUTABLE_LATEST, "inputs.create", "violation"),
        (f"{HOST}/team/web:1.2.1", "inputs.image", "pass"),
    ]


def test_check_takes_a_docker_transport_reference_typed_or_listed(ncp_env, tmp_path):
    (tmp_path / "images.txt").write_text(f"docker://{HOST}/team/web:1.2.1\n")
    typed = run_cli("check", "--require-immutable", f"docker://{MUTABLE_LATEST}")
    listed = run_cli("check", "--require-immutable", "--from-file", "images.txt", cwd=tmp_path)
    assert typed.returncode == 1 and "FAIL prod/team/api (KR): tags are mutable" in typed.stdout
    assert listed.returncode == 0, listed.stdout + listed.stderr


def test_resolve_keeps_the_docker_transport_it_was_given(ncp_env):
    result = run_cli("resolve", f"docker://{HOST}/team/web:1.2.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"docker://{HOST}/team/web@sha256:")


def test_policy_and_pack_judge_a_docker_transport_reference(ncp_env, validate, pack, pack_emulator):
    reference = f"docker://{HOST}/team/api:build-144"
    reports = validate(resource_args(docker_container(reference), {"endpoint": ncp_env.url}, type_=CONTAINER))
    assert len(reports.violations) == 1 and f"'{HOST}/team/api:build-144' at image" in reports.violations[0]
    configure(pack, pack_emulator)
    diagnostics = analyze(pack, CONTAINER, docker_container(reference), "skopeo")
    assert summary(diagnostics) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]


def test_pinning_rewrites_a_docker_transport_reference_and_keeps_the_transport(ncp_env, lookups):
    digest = "sha256:" + "e5" * 32
    ncp_env.add_tag("prod", "team/api", "release", digest=digest)
    props = {"create": f"skopeo copy docker://{HOST}/team/api:release oci:/tmp/api"}
    pins, findings = resolve_pins(pin_candidates(props), PolicyConfig.from_mapping({"endpoint": ncp_env.url}), lookups)
    assert findings == []
    assert rewrite(props, pins) == {"create": f"skopeo copy docker://{HOST}/team/api@{digest} oci:/tmp/api"}


def test_pinning_names_a_split_reference_it_cannot_rewrite_and_leaves_the_values_alone(ncp_env, lookups):
    digest = "sha256:" + "f6" * 32
    ncp_env.add_tag("prod", "team/api", "release", digest=digest)
    props = release({"image": {"registry": HOST, "repository": "team/api", "tag": "release"}})
    messages: list[str] = []
    pin_digests_policy(lookups=lookups).validate(resource_args(props, {"endpoint": ncp_env.url}, type_=HELM),
                                                 lambda message, urn=None: messages.append(message))
    assert messages == [f"'{HOST}/team/api:release' at values.image names an NCR image by tag; the tag points at "
                        f"{digest} now. Deploy {HOST}/team/api@{digest} instead (this policy cannot rewrite it: it is "
                        "not written whole in one value, so pin it where it is set)."]
    # no digest value is invented: a chart that does not read one would still deploy the tag
    pins, _ = resolve_pins(pin_candidates(props), PolicyConfig.from_mapping({"endpoint": ncp_env.url}), lookups)
    assert rewrite(props, pins) == props


@pytest.mark.parametrize("image,reason", [
    (f"https://{HOST}/team/web", f"it is a URL (https://), not an image reference: drop the scheme, e.g. "
                                 f"'{HOST}/team/web'"),
    ("[::1]/team/web", "'[::1]' is a bracketed IPv6 address, not an NCR registry host"),
    ("[::1]:5000/team/web", "'[::1]:5000' is a bracketed IPv6 address, not an NCR registry host"),
])
def test_get_says_what_is_wrong_with_a_url_or_an_ipv6_host(ncp_env, image, reason):
    result = run_cli("get", image)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"ncr-image: error: Invalid image {image!r}: {reason}")
    assert ncp_env.requests == []


def test_a_url_with_credentials_is_refused_without_echoing_them(ncp_env):
    secret = "S3cretPassw0rd"
    for output in ("table", "json", "sarif"):
        result = run_cli("check", "-o", output, f"https://robot:{secret}@{HOST}/team/api:1")
        # then the run is a usage error, nothing is sent, and neither the password nor the user is echoed
        assert result.returncode == 2, (output, result.stderr)
        assert secret not in result.stdout + result.stderr and "robot" not in result.stdout + result.stderr
        assert "it is a URL with credentials, not an image reference" in result.stdout + result.stderr
    assert ncp_env.requests == []


# -- --min-tag-age judges :latest where no tag is named, like ncr-image-age ------------------------

def age_policy_says(emu, lookups, reference: str) -> list[str]:
    args = resource_args(docker_container(reference), {"endpoint": emu.url, "minTagAgeMinutes": 10}, type_=CONTAINER)
    messages: list[str] = []
    image_age_policy(lookups=lookups).validate(args, lambda message, urn=None: messages.append(message))
    return messages


def test_min_tag_age_judges_latest_for_a_reference_naming_no_tag_in_check_and_the_pack(ncp_env, lookups):
    # given an image with no tags, and one whose `latest` settled an hour ago while another tag moved just now
    ncp_env.add_image("prod", "notags/app", tag_mutability_enabled=False)
    ncp_env.add_image("prod", "busy/app", tag_mutability_enabled=False)
    ncp_env.add_tag("prod", "busy/app", "latest", last_updated=now_ms() - 60 * MINUTE_MS)
    ncp_env.add_tag("prod", "busy/app", "nightly", last_updated=now_ms() - 2 * MINUTE_MS)
    # when the gate and the image-age policy judge them, named without a tag
    notags = run_cli("check", "--min-tag-age", "10", "prod/notags/app", "-o", "json")
    busy = run_cli("check", "--min-tag-age", "10", f"{HOST}/busy/app", "-o", "json")
    # then both judge `latest`, as Docker pulls: missing is a violation, settled passes
    assert notags.returncode == 1
    [image] = json.loads(notags.stdout)["images"]
    assert (image["kind"], image["reason"]) == ("tag-not-found", "tag latest does not exist (prod/notags/app)")
    assert age_policy_says(ncp_env, lookups, f"{HOST}/notags/app") == [
        f"Tag latest of NCR image prod/notags/app (region KR) does not exist: '{HOST}/notags/app' at image "
        "cannot be pulled."]
    assert busy.returncode == 0, busy.stdout
    assert age_policy_says(ncp_env, lookups, f"{HOST}/busy/app") == []


# -- a reference as a key, and JSON text with `\/` escapes -----------------------------------------

ESCAPED = '{"image":"prod.kr.ncr.ntruss.com\\/team\\/api:2"}'  # as PHP's json_encode writes it
BY_KEY = {"images": {f"{HOST}/team/api:3": {"replicas": 2}}, "auths": {HOST: {"auth": "e30="}}}


def test_check_judges_a_reference_used_as_a_key_or_written_with_escaped_slashes(ncp_env, tmp_path):
    code, doc = check_stack(tmp_path, ("json", "kubernetes:core/v1:ConfigMap", {"data": {"app.json": ESCAPED}}),
                            ("keys", "custom:index:Fleet", BY_KEY))
    assert code == 1
    assert references(doc) == [
        (f"{HOST}/team/api:2", "inputs.data.app.json", "violation"),
        (f"{HOST}/team/api:3", f"inputs.images.{HOST}/team/api:3", "violation"),
    ]


def test_policy_judges_a_reference_used_as_a_key_or_written_with_escaped_slashes(ncp_env, validate):
    escaped = validate(resource_args({"data": {"app.json": ESCAPED}}, {"endpoint": ncp_env.url}))
    by_key = validate(resource_args(BY_KEY, {"endpoint": ncp_env.url}))
    assert len(escaped.violations) == 1 and f"'{HOST}/team/api:2' at data.app.json" in escaped.violations[0]
    assert len(by_key.violations) == 1 and f"'{HOST}/team/api:3' at images.{HOST}/team/api:3" in by_key.violations[0]
