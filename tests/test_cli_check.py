"""`ncr-image check`, the pipeline gate, run as a separate process against the emulator."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from cli_runner import image_requests, run_cli, run_cli_on_terminal
from helpers import without_request_id

from ncr_provider.cli.progress import Progress

NOT_INSPECTED = ("secret value not inspected (ciphertext: the policy pack checks it decrypted, or pipe "
                 "`pulumi stack export --show-secrets` into `--from-stack -` so that no file holds it)")

STACK_EXPORT = Path(__file__).parent / "data" / "stack-export.json"
ANNOTATION = re.compile(r"::(error|warning) title=(?P<title>[^:,]+)(?:,file=(?P<file>[^:,]+),line=(?P<line>\d+))?::(?P<msg>.+)")


def check_json(*args: str, **kwargs) -> tuple[int, dict]:
    result = run_cli("check", *args, "--output", "json", **kwargs)
    return result.returncode, json.loads(result.stdout)


# -- exit codes ---------------------------------------------------------------------------------

def test_all_images_pass_exits_0_with_a_table(ncp_env):
    result = run_cli("check", "--require-immutable", "prod/team/web", "prod/hello/world")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "REGION", "TAGS", "PULLS", "LAST", "UPDATED", "RESULT"]
    assert re.match(r"prod/team/web\s+KR\s+immutable\s+1284\s+2024-06-03T07:33:20Z\s+PASS\s+tags are immutable$", lines[1])
    assert lines[-1] == "2 images checked: 2 passed, 0 violations, 0 could not be checked."
    assert result.stderr == ""  # no progress line: stderr is not a terminal


def test_mutable_tags_are_a_violation_only_when_immutability_is_required(ncp_env):
    assert run_cli("check", "prod/team/api").returncode == 0
    result = run_cli("check", "--require-immutable", "prod/team/api", "prod/team/web")
    assert result.returncode == 1
    assert "FAIL prod/team/api (KR): tags are mutable: a pushed tag can be overwritten" in result.stdout


def test_a_missing_image_is_always_a_violation(ncp_env):
    result = run_cli("check", "prod/team/web", "prod/team/gone")
    assert result.returncode == 1
    assert "FAIL Image prod/team/gone not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)." in (
        without_request_id(result.stdout))


@pytest.mark.parametrize("refs", [
    ["prod/team/web", "Prod/team/web"],
    ["prod/team/web", "docker.io/library/nginx:1.27"],
    ["prod/team/web", "prod/team/web?x=1"],
])
def test_a_rejected_name_or_foreign_host_exits_2_before_anything_is_sent(ncp_env, refs):
    result = run_cli("check", *refs)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("ncr-image: error: Invalid ")
    assert ncp_env.requests == []


def test_bad_usage_exits_2(ncp_env, tmp_path):
    for args in ([], ["prod/team/web", "--concurrency", "0"], ["prod/team/web", "--output", "xml"],
                 ["--from-file", str(tmp_path / "missing.txt")]):
        assert run_cli("check", *args).returncode == 2, args
    assert ncp_env.requests == []


def test_an_image_that_cannot_be_checked_exits_3_unless_another_violates(ncp_env):
    # given NCR throttles every attempt of the first lookup (Retry-After: 0 keeps the retries instant)
    for _ in range(4):
        ncp_env.enqueue(status=429, headers={"Retry-After": "0"})
    code, doc = check_json("prod/team/web")
    assert code == 3
    error = doc["images"][0]["error"]
    assert doc["images"][0]["verdict"] == "error"
    assert (error["type"], error["status"], error["error_code"]) == ("ThrottledError", 429, "400")
    assert "still throttled after 4 attempt(s)" in error["message"]
    # a violation outweighs an unchecked image: exit 1
    for _ in range(4):
        ncp_env.enqueue(status=503, headers={"Retry-After": "0"})
    code, doc = check_json("prod/team/web", "prod/team/gone", "--concurrency", "1")
    assert code == 1
    assert [i["verdict"] for i in doc["images"]] == ["error", "violation"]


def test_rejected_credentials_exit_3_and_no_secret_is_printed(ncp_env, monkeypatch):
    monkeypatch.setenv("NCLOUD_SECRET_KEY", "not-the-emulator-secret-key-000000")
    for output in ("table", "json", "github"):
        result = run_cli("check", "prod/team/web", "-v", "--output", output)
        assert result.returncode == 3
        assert "HTTP 401" in result.stdout
        assert ncp_env.secret_key not in result.stdout + result.stderr


def test_missing_credentials_exit_3_with_one_line_and_nothing_sent(emulator):
    result = run_cli("check", "prod/team/web", "--endpoint", emulator.url)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("ncr-image: error: No NCP access key and secret key found. Looked in: ")
    assert len(result.stderr.splitlines()) == 1
    assert emulator.requests == []


def test_help_documents_the_exit_codes():
    result = run_cli("check", "--help")
    assert result.returncode == 0
    assert re.search(r"exit codes:\n  0  every image passed\n  1  at least one violation", result.stdout)
    assert "  2  bad usage" in result.stdout and "  3  no violation, but at least one image could not be checked" in result.stdout


# -- references, sources and deduplication ---------------------------------------------------------

def test_docker_references_of_every_host_form_go_to_their_region(ncp_env):
    code, doc = check_json(
        "prod.kr.ncr.ntruss.com/team/web:1.2.1",
        "sgn-apps.sg.ncr.ntruss.com/shop/cart@sha256:86eebb8297332da41ebf64cff7d78add00471371432c47eb5ebc886e908eb252",
        "jp-media.jp.ncr.ntruss.com/media/transcoder:1.4.2",
        "gov-portal.ncr.gov-ntruss.com/portal/web:2024.06.1",
    )
    assert code == 0
    assert [(i["image"], i["site"], i["region"], i["verdict"]) for i in doc["images"]] == [
        ("prod/team/web", "public", "KR", "pass"),
        ("sgn-apps/shop/cart", "public", "SGN", "pass"),
        ("jp-media/media/transcoder", "public", "JPN", "pass"),
        ("gov-portal/portal/web", "gov", "KR", "pass"),
    ]
    assert doc["images"][1]["references"][0]["digest"].startswith("sha256:86eebb")
    assert sorted(image_requests(ncp_env)) == sorted([
        "/ncr/api/v2/repositories/prod/team%2Fweb",
        "/ncr/sgn-api/v2/repositories/sgn-apps/shop%2Fcart",
        "/ncr/jpn-api/v2/repositories/jp-media/media%2Ftranscoder",
        "/ncr/kr/v2/repositories/gov-portal/portal%2Fweb",
    ])


def test_duplicates_are_looked_up_once(ncp_env):
    # given one image named five ways, and another twice
    code, doc = check_json("prod/team/web", "prod/team/web", "prod.kr.ncr.ntruss.com/team/web:1.0.0",
                           "prod.kr.ncr.ntruss.com/team/web@sha256:" + "a" * 64, "PROD.KR.NCR.NTRUSS.COM/team/web",
                           "prod/hello/world", "prod/hello/world")
    assert code == 0
    assert [(i["image"], len(i["references"])) for i in doc["images"]] == [("prod/team/web", 5), ("prod/hello/world", 2)]
    assert doc["summary"] == {"images": 2, "references": 7, "passed": 2, "violations": 0, "errors": 0, "not_inspected": 0, "exit_code": 0}
    assert sorted(image_requests(ncp_env)) == ["/ncr/api/v2/repositories/prod/hello%2Fworld",
                                               "/ncr/api/v2/repositories/prod/team%2Fweb"]


def test_from_file_skips_comments_and_blank_lines_and_reads_stdin(ncp_env, tmp_path):
    (tmp_path / "images.txt").write_text(
        "# images deployed by this repository\n\nprod/team/web   # storefront\n  prod.kr.ncr.ntruss.com/hello/world:1.1\n")
    code, doc = check_json("--from-file", str(tmp_path / "images.txt"), "--from-file", "-",
                           stdin="# from a pipe\njp-media.jp.ncr.ntruss.com/media/transcoder:1.4.2\n")
    assert code == 0
    assert [(r["ref"], r["origin"]) for i in doc["images"] for r in i["references"]] == [
        ("prod/team/web", f"{tmp_path / 'images.txt'}:3"),
        ("prod.kr.ncr.ntruss.com/hello/world:1.1", f"{tmp_path / 'images.txt'}:4"),
        ("jp-media.jp.ncr.ntruss.com/media/transcoder:1.4.2", "stdin:2"),
    ]


def test_a_bad_line_in_a_file_exits_2_naming_the_line(ncp_env, tmp_path):
    (tmp_path / "images.txt").write_text("prod/team/web\nquay.io/acme/tool:1\nprod/Team/api\n")
    result = run_cli("check", "--from-file", "images.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert [line.split(": ", 3)[2] for line in result.stderr.splitlines()] == ["images.txt:2", "images.txt:3"]
    assert ncp_env.requests == []


def test_from_stack_checks_ncr_images_and_every_ncr_reference_in_resources(ncp_env):
    # given a stack export with an NcrImage, a Kubernetes Deployment (one mutable, one immutable image),
    # a Docker container, a plaintext and a ciphertext secret, and a provider blob that hold NCR-looking text
    code, doc = check_json("--from-stack", str(STACK_EXPORT), "--require-immutable")
    # then every NCR image is checked once, the plaintext secret read as the policy pack reads it,
    # the ciphertext named as not inspected, and the __provider text ignored
    assert code == 1
    verdicts = {i["image"]: (i["region"], i["verdict"]) for i in doc["images"]}
    assert verdicts == {
        "prod/team/web": ("KR", "pass"),
        "prod/hello/world": ("KR", "pass"),
        "prod/team/api": ("KR", "violation"),
        "sgn-apps/shop/cart": ("SGN", "violation"),
    }
    origins = {i["image"]: [r["origin"] for r in i["references"]] for i in doc["images"]}
    assert origins["prod/hello/world"] == [f"{STACK_EXPORT}: hello-image (pulumi-python:dynamic/ncr:NcrImage) NcrImage"]
    assert f"{STACK_EXPORT}: storefront (kubernetes:apps/v1:Deployment) inputs.spec.template.spec.containers[0].image" \
        in origins["prod/team/web"]
    assert any(origin.endswith("outputs.dbPassword") for origin in origins["prod/team/api"])
    assert doc["not_inspected"] == [{
        "origin": f"{STACK_EXPORT}: cart (docker:index/container:Container) inputs.registryAuth",
        "reason": NOT_INSPECTED}]
    assert doc["summary"]["not_inspected"] == 1
    assert len(image_requests(ncp_env)) == 4


def test_from_stack_table_names_each_ciphertext_secret_as_not_inspected(ncp_env):
    result = run_cli("check", "--from-stack", str(STACK_EXPORT))
    assert f"NOT INSPECTED {STACK_EXPORT}: cart (docker:index/container:Container) inputs.registryAuth: " \
           f"{NOT_INSPECTED}" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].endswith("could not be checked. 1 secret value not inspected.")


def write_stack(tmp_path, *resources: dict) -> str:
    """A `pulumi stack export` document holding these resources."""
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": list(resources)}}))
    return str(path)


def stack_resource(name: str, type_: str, inputs: dict, **extra: object) -> dict:
    return {"urn": f"urn:pulumi:dev::p::{type_}::{name}", "type": type_, "inputs": inputs, "outputs": {}, **extra}


def test_an_ncr_image_in_a_stack_with_an_unknown_region_is_reported_and_the_rest_still_checked(ncp_env, tmp_path):
    # given a stack export whose NcrImage carries a region no NCR site has, beside a good reference
    path = write_stack(
        tmp_path,
        stack_resource("web", "pulumi-python:dynamic/ncr:NcrImage",
                       {"registry": "prod", "image_name": "team/web", "region": "mars"}, id="prod/team/web"),
        stack_resource("api", "kubernetes:apps/v1:Deployment", {"image": "prod.kr.ncr.ntruss.com/hello/world:1.1"}))
    # when the gate checks it
    code, doc = check_json("--from-stack", path)
    # then that image could not be checked (naming the valid regions), the other one was
    assert code == 3
    bad, good = sorted(doc["images"], key=lambda i: i["verdict"])
    assert (bad["verdict"], bad["reason"]) == ("error", "could not be checked (configuration)")
    assert "Unknown region 'MARS' for site public: valid regions are KR, SGN, JPN" in bad["error"]["message"]
    assert (good["image"], good["verdict"]) == ("prod/hello/world", "pass")
    assert len(image_requests(ncp_env)) == 1


# -- output formats -------------------------------------------------------------------------------

def test_json_document_holds_every_image_with_details_or_error_and_a_summary(ncp_env):
    code, doc = check_json("--require-immutable", "prod/team/web", "prod.kr.ncr.ntruss.com/team/api:latest", "prod/gone")
    assert code == 1
    assert doc["version"] == 1 and doc["require_immutable"] is True
    web, api, gone = doc["images"]
    assert web == {
        "ref": "prod/team/web", "image": "prod/team/web", "registry": "prod", "image_name": "team/web",
        "site": "public", "region": "KR", "verdict": "pass", "kind": "passed", "reason": "tags are immutable",
        "references": [{"ref": "prod/team/web", "origin": "argument", "tag": None, "digest": None}],
        "details": web["details"], "error": None,
    }
    assert web["details"]["tag_mutability_enabled"] is False and web["details"]["pull_count"] == 1284
    assert (api["verdict"], api["kind"], api["reason"], api["references"][0]["tag"]) == (
        "violation", "mutable-tags", "tags are mutable: a pushed tag can be overwritten", "latest")
    assert gone["details"] is None and gone["error"]["type"] == "ImageNotFoundError" and gone["verdict"] == "violation"
    assert doc["summary"] == {"images": 3, "references": 3, "passed": 1, "violations": 2, "errors": 0, "not_inspected": 0, "exit_code": 1}


def test_github_output_annotates_violations_on_their_file_lines(ncp_env, tmp_path):
    (tmp_path / "images.txt").write_text("prod/team/web\nprod/team/api\n\nprod/gone\n")
    result = run_cli("check", "--require-immutable", "--from-file", "images.txt", "--output", "github", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    annotations = [ANNOTATION.fullmatch(line) for line in lines if line.startswith("::")]
    assert [(a[1], a["title"], a["file"], a["line"]) for a in annotations] == [
        ("error", "NCR image violation%3A prod/team/api", "images.txt", "2"),
        ("error", "NCR image violation%3A prod/gone", "images.txt", "4"),
    ]
    assert annotations[0]["msg"].startswith("prod/team/api (KR): tags are mutable")
    assert "ok prod/team/web (KR): tags are immutable" in lines
    assert lines[-1] == "ncr-image check: 3 images checked: 1 passed, 2 violations, 0 could not be checked."


def test_github_output_warns_about_mutable_tags_when_not_required(ncp_env):
    result = run_cli("check", "prod.kr.ncr.ntruss.com/team/api:latest", "--output", "github")
    assert result.returncode == 0
    warning = ANNOTATION.fullmatch(result.stdout.splitlines()[0])
    assert warning[1] == "warning" and warning["title"] == "NCR image has mutable tags%3A prod/team/api"


def test_progress_line_appears_on_a_terminal_when_a_run_takes_over_a_second(ncp_env):
    # given an emulator that answers after 1.3 s, and stderr attached to a terminal
    ncp_env.latency = 1.3
    returncode, stdout, shown = run_cli_on_terminal("check", "prod/team/web")
    assert returncode == 0
    assert b"\rchecking images: [--------------------] 0/1" in shown
    assert shown.endswith(b"\r\x1b[K")  # erased before the report
    assert stdout.splitlines()[-1] == "1 image checked: 1 passed, 0 violations, 0 could not be checked."


def test_progress_stays_silent_off_a_terminal():
    stream = io.StringIO()
    with Progress(3, stream) as progress:
        progress.done()
    assert not progress.enabled and stream.getvalue() == ""
