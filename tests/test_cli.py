"""`ncr-image` get, demo, emulator, --version and -v, run as a separate process against the emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from cli_runner import CLI, image_requests, run_cli
from helpers import without_request_id

from ncr_provider import __version__
from ncr_provider.client import NcrClient
from ncr_provider.config import Settings


def test_version_is_printed_without_importing_pulumi():
    # given a fresh interpreter, when `ncr-image --version` runs in it
    probe = ("import sys; from ncr_provider.cli import main; code = main(['--version']); "
             "print(code, 'pulumi' in sys.modules, 'requests' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    # then it prints its name and version, exits 0, and has loaded neither pulumi nor requests
    assert result.stdout.splitlines() == [f"ncr-image {__version__}", "0 False False"]


def test_a_real_check_never_imports_pulumi(ncp_env):
    # given the emulator, when a check runs to completion in a fresh interpreter
    probe = ("import sys; from ncr_provider.cli import main; code = main(['check', 'prod/team/web']); "
             "print('exit', code, 'pulumi' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    # then the image passed and pulumi was never imported on the way
    assert result.stdout.splitlines()[-1] == "exit 0 False"


def test_get_prints_the_details_as_a_table(ncp_env):
    # when
    result = run_cli("get", "prod/team/web")
    # then
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:])
    assert rows["image"] == "prod/team/web"
    assert rows["region"] == "KR"
    assert rows["tag_mutability_enabled"] == "false"
    assert rows["pull_count"] == "1284"
    assert rows["last_updated_at"] == "2024-06-03T07:33:20Z"
    assert result.stderr == ""


def test_get_prints_json_for_a_docker_reference_to_another_region(ncp_env):
    # when the reference's host names Singapore
    result = run_cli("get", "sgn-apps.sg.ncr.ntruss.com/shop/cart:3.1.0", "--output", "json")
    # then the details come from the SGN prefix, as one JSON object
    assert result.returncode == 0, result.stderr
    details = json.loads(result.stdout)
    assert details["namespace"] == "sgn-apps" and details["name"] == "shop/cart"
    assert details["tag_mutability_enabled"] is True
    assert details["last_updated_at"] == "2024-05-18T02:40:00Z"
    assert image_requests(ncp_env) == ["/ncr/sgn-api/v2/repositories/sgn-apps/shop%2Fcart"]


def test_get_of_a_missing_image_exits_3_with_one_line(ncp_env):
    result = run_cli("get", "prod/team/gone")
    assert result.returncode == 3
    assert result.stdout == ""
    assert without_request_id(result.stderr).splitlines() == [
        "ncr-image: error: Image prod/team/gone not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."]


def test_get_of_a_rejected_name_exits_2_and_sends_nothing(ncp_env):
    result = run_cli("get", "prod/../admin")
    assert result.returncode == 2
    assert result.stderr == "ncr-image: error: Invalid image_name '../admin': '.' and '..' segments are not allowed\n"
    assert ncp_env.requests == []


def test_get_with_bad_usage_exits_2(ncp_env):
    # an endpoint that is not https to a remote host, and a region no site has
    for args in (["get", "prod/team/web", "--endpoint", "http://ncr.example.com"],
                 ["get", "prod/team/web", "--region", "MARS"],
                 ["get"]):
        result = run_cli(*args)
        assert result.returncode == 2, args
    assert ncp_env.requests == []


def test_get_with_a_wrong_secret_exits_3_and_never_prints_either_secret(ncp_env, monkeypatch):
    # given a secret key NCR does not accept, and verbose logging on
    monkeypatch.setenv("NCLOUD_SECRET_KEY", "wrong-secret-key-0123456789abcdef")
    # when
    result = run_cli("get", "prod/team/web", "-v")
    # then one error sentence naming the masked access key, debug lines, and no key material
    assert result.returncode == 3
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("ncr-image: error:")]
    assert [without_request_id(line) for line in error_lines] == [
        f"ncr-image: error: NCR rejected the credentials for image prod/team/web (HTTP 401 (NCP errorCode 200): "
        f"Authentication Failed). Check the access key {ncp_env.access_key[:4]}**** and its secret key, "
        "and that this machine's clock is correct."]
    assert "ncr-image: DEBUG ncr_provider.client: GET /ncr/api/v2/repositories/prod/team%2Fweb -> 401" in result.stderr
    assert ncp_env.secret_key not in result.stdout + result.stderr
    assert ncp_env.access_key not in result.stdout + result.stderr


def test_get_without_credentials_exits_3_naming_every_place_searched(emulator):
    # given no keys anywhere (the fixtures clear NCLOUD_* and point HOME at an empty directory)
    result = run_cli("get", "prod/team/web", "--endpoint", emulator.url)
    assert result.returncode == 3
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("ncr-image: error: No NCP access key and secret key found. Looked in: ")
    assert "NCLOUD_ACCESS_KEY" in result.stderr and ".ncloud/configure [DEFAULT]" in result.stderr
    assert emulator.requests == []


def test_get_when_nothing_listens_exits_3_naming_the_endpoint(monkeypatch):
    # given credentials and an endpoint where no server listens (port 9 on loopback: discard, closed)
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", "AKIDEXAMPLE000000000")
    monkeypatch.setenv("NCLOUD_SECRET_KEY", "secret-for-a-closed-port")
    result = run_cli("get", "prod/team/web", "--endpoint", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert result.stderr.startswith("ncr-image: error: Could not reach NCR at http://127.0.0.1:9 for image prod/team/web")
    assert len(result.stderr.splitlines()) == 1


def test_demo_reads_the_sample_images_and_shows_verdicts():
    # given no credentials and no emulator of our own: the demo brings its own
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^Emulator: http://127\.0\.0\.1:\d+$", out, re.M)
    assert re.search(r"^prod/team/web\s+KR\s+immutable\s+1284\s", out, re.M)
    assert re.search(r"^gov-archive/archive/indexer\s+gov/KRS\s+mutable\s", out, re.M)
    assert re.search(r"^  PASS  prod\.kr\.ncr\.ntruss\.com/team/web\s+tags are immutable$", out, re.M)
    assert re.search(r"^  FAIL  prod\.kr\.ncr\.ntruss\.com/team/api\s+tags are mutable", out, re.M)
    assert "ncr-image check --require-immutable" in out
    assert result.stderr == ""


def test_emulator_subcommand_serves_signed_requests_until_terminated():
    # given `ncr-image emulator` started with keys we chose
    process = subprocess.Popen([*CLI, "emulator", "--access-key", "AKEMULATORTEST000001", "--secret-key", "s3cret-emu"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # when we read the URL from its first line and GET through the signed client
        first = process.stdout.readline()
        url = re.fullmatch(r"NCR emulator listening on (http://127\.0\.0\.1:\d+)\n", first).group(1)
        with NcrClient(Settings(endpoint=url, access_key="AKEMULATORTEST000001", secret_key="s3cret-emu")) as client:
            details = client.get_image("prod", "team/web")
        # then it answered like NCR
        assert details.tag_mutability_enabled is False
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_site_fin_works_with_an_endpoint_and_asks_for_one_without(ncp_env, monkeypatch):
    from cli_runner import run_cli as run

    monkeypatch.setenv("NCLOUD_SITE", "fin")
    result = run("check", "prod/team/web")
    assert result.returncode == 0, result.stderr
    assert len(ncp_env.requests) == 1
    assert run("get", "prod/team/web", "--site", "fin").returncode == 0
    monkeypatch.delenv("NCR_ENDPOINT")
    for args in (["check", "prod/team/web"], ["get", "prod/team/web", "--site", "fin"]):
        result = run(*args)
        assert result.returncode == 2
        assert result.stderr.strip() == ("ncr-image: error: Site 'fin' needs an endpoint: NCP documents no NCR API "
                                         "host for it. Set its API endpoint (ncr:endpoint, NCR_ENDPOINT or --endpoint)")
    assert len(ncp_env.requests) == 2
