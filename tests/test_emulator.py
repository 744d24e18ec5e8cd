"""The NCR emulator over real HTTP: wire shapes, NCP's signature, regions, pagination and scripted faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from helpers import GOLDEN_SIGNATURES, hmac_signature, signed_headers

from ncr_provider.config import resolve_settings
from ncr_provider.emulator import NcrEmulator
from ncr_provider.emulator import signature as signature_check

KR = "/ncr/api/v2"
SEED_IMAGE = {
    "can_edit": True, "description": "ncp docker", "full_description": "Naver Cloud Platform Docker",
    "is_automated": None, "is_private": None, "last_updated": 1711928488000, "name": "ncpdocker",
    "namespace": "ncpdocker", "private_id": "", "pull_count": 0, "repository_type": "image",
    "star_count": None, "status": 0, "tag_mutability_enabled": True, "user": None,
}


@pytest.fixture
def emu():
    with NcrEmulator() as emulator:
        yield emulator


def signed_get(emu: NcrEmulator, path: str, *, session: requests.Session | None = None,
               timestamp: int | None = None, secret_key: str | None = None, access_key: str | None = None,
               timeout: float = 5) -> requests.Response:
    """GET emu.url + path signed with NCP signature v2 over the exact path and query sent."""
    prepared = requests.Request("GET", emu.url + path).prepare()
    assert prepared.path_url == path  # requests sends the path and query as given: sign exactly those
    prepared.headers.update(signed_headers(path, access_key or emu.access_key, secret_key or emu.secret_key, timestamp))
    if session is not None:
        return session.send(prepared, timeout=timeout)
    with requests.Session() as s:
        return s.send(prepared, timeout=timeout)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def assert_ncp_error(response: requests.Response, status: int, code: str, message: str) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    error = response.json()["error"]
    assert (error["errorCode"], error["message"]) == (code, message)
    assert error["requestId"]
    return error


# --- wire shapes ---

def test_seed_image_detail_is_the_documented_body_exactly(emu):
    # Given the default data, when the documented example image is read
    response = signed_get(emu, f"{KR}/repositories/ncpdocker/ncpdocker")
    # Then the body is the seed document's, field for field, with NCP's headers
    assert response.status_code == 200
    assert response.json() == SEED_IMAGE
    assert list(response.json()) == sorted(SEED_IMAGE)
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.headers["Date"].endswith("GMT")


@pytest.mark.parametrize(("prefix", "registry", "image"), [
    ("/ncr/api/v2", "prod", "team%2Fweb"),
    ("/ncr/sgn-api/v2", "sgn-apps", "shop%2Fcart"),
    ("/ncr/jpn-api/v2", "jp-media", "media%2Ftranscoder"),
    ("/ncr/kr/v2", "gov-portal", "portal%2Fweb"),
    ("/ncr/krs/v2", "gov-archive", "archive%2Findexer"),
])
def test_each_prefix_serves_its_own_region(emu, prefix, registry, image):
    # Given a registry in each region, when it is read under its prefix and under the KR one
    here = signed_get(emu, f"{prefix}/repositories/{registry}/{image}")
    listed = signed_get(emu, f"{prefix}/repositories").json()
    elsewhere = signed_get(emu, f"{'/ncr/krs/v2' if prefix == KR else KR}/repositories/{registry}/{image}")
    # Then only its own prefix knows it; the region-less seed registry is everywhere
    assert here.status_code == 200
    assert here.json()["namespace"] == registry
    assert sorted(r["name"] for r in listed["results"]) == sorted([registry, "ncpdocker"])
    assert_ncp_error(elsewhere, 404, "300", "Not Found")
    assert signed_get(emu, f"{prefix}/repositories/ncpdocker/ncpdocker").json() == SEED_IMAGE


def test_image_name_with_slash_travels_as_one_encoded_segment(emu):
    # When hello/world is asked for encoded, and with a raw slash
    encoded = signed_get(emu, f"{KR}/repositories/prod/hello%2Fworld")
    raw = signed_get(emu, f"{KR}/repositories/prod/hello/world")
    # Then only the documented encoded form names the image
    assert encoded.status_code == 200
    assert encoded.json()["name"] == "hello/world"
    assert encoded.json()["tag_mutability_enabled"] is False
    assert_ncp_error(raw, 404, "300", "Not Found")
    assert emu.requests[0].raw_path == f"{KR}/repositories/prod/hello%2Fworld"
    assert emu.requests[0].path == f"{KR}/repositories/prod/hello/world"


def test_list_shapes(emu):
    # When registries, images and one tag are read
    registries = signed_get(emu, f"{KR}/repositories").json()
    images = signed_get(emu, f"{KR}/repositories/prod").json()
    tag = signed_get(emu, f"{KR}/repositories/prod/team%2Fweb/tags/1.2.1").json()
    # Then each has the documented fields
    assert set(registries["results"][0]) == {"name", "bucket", "created", "end_point", "private_end_point",
                                             "private_id", "public_reg_status", "scan_on_push_enabled", "status"}
    assert [i["name"] for i in images["results"]] == ["hello/world", "team/api", "team/web"]
    assert set(images["results"][0]) == set(SEED_IMAGE) - {"full_description", "private_id", "tag_mutability_enabled"}
    assert {"name", "digest", "full_size", "last_updated", "last_updater", "creator", "images"} <= set(tag)
    assert [(p["os"], p["architecture"]) for p in tag["images"]] == [("linux", "amd64"), ("linux", "arm64")]
    assert {"architecture", "os", "digest", "size", "created", "updated", "latest_pulled"} <= set(tag["images"][0])
    assert tag["full_size"] == sum(p["size"] for p in tag["images"])


def test_tag_detail_by_name_or_digest(emu):
    # Given a tag added through the Python API
    digest = "sha256:" + "ab" * 32
    emu.add_tag("prod", "team/web", "2.0.0", digest=digest, platforms=["linux/amd64"], last_updated=1720000000000)
    # When it is read by name and by its (encoded) digest
    by_name = signed_get(emu, f"{KR}/repositories/prod/team%2Fweb/tags/2.0.0").json()
    by_digest = signed_get(emu, f"{KR}/repositories/prod/team%2Fweb/tags/sha256%3A{'ab' * 32}").json()
    # Then both are the same tag, newest first in the list
    assert by_name == by_digest
    assert by_name["digest"] == by_name["images"][0]["digest"] == digest
    first = signed_get(emu, f"{KR}/repositories/prod/team%2Fweb/tags?pagesize=1").json()["results"][0]
    assert first["name"] == "2.0.0"


def test_unknown_things_are_ncp_404s(emu):
    for path in (f"{KR}/repositories/prod/nope", f"{KR}/repositories/nope", f"{KR}/repositories/prod/team%2Fweb/tags/9",
                 f"{KR}/nothing", "/ncr/api/v9/repositories", f"{KR}/repositories/"):
        assert_ncp_error(signed_get(emu, path), 404, "300", "Not Found")


def test_other_methods_are_refused_after_the_signature(emu):
    # Given a correctly signed POST
    path = f"{KR}/repositories/prod"
    headers = signed_headers(path, emu.access_key, emu.secret_key, string_to_sign="POST {uri}\n{timestamp}\n{access_key}")
    # When it is sent, Then it is an NCP-shaped 405 naming GET
    response = requests.post(emu.url + path, headers=headers, json={"x": 1}, timeout=5)
    assert_ncp_error(response, 405, "100", "Method Not Allowed")
    assert response.headers["Allow"] == "GET"


# --- pagination ---

def test_tags_page_through_all_45(emu):
    # Given team/api with 45 tags, when read 20 at a time
    pages = [signed_get(emu, f"{KR}/repositories/prod/team%2Fapi/tags?page={n}&pagesize=20").json() for n in (1, 2, 3)]
    # Then counts, links and results add up, newest first
    assert [p["count"] for p in pages] == [45, 45, 45]
    assert [(p["previous"], p["next"]) for p in pages] == [(None, 2), (1, 3), (2, None)]
    names = [t["name"] for p in pages for t in p["results"]]
    assert [len(p["results"]) for p in pages] == [20, 20, 5]
    assert len(set(names)) == 45
    times = [t["last_updated"] for p in pages for t in p["results"]]
    assert times == sorted(times, reverse=True)
    default = signed_get(emu, f"{KR}/repositories/prod/team%2Fapi/tags").json()
    assert len(default["results"]) == 20


@pytest.mark.parametrize("query", ["page=0", "pagesize=0", "page=-1", "pagesize=abc", "page="])
def test_bad_page_parameters_are_400_code_100(emu, query):
    response = signed_get(emu, f"{KR}/repositories/prod/team%2Fapi/tags?{query}")
    assert_ncp_error(response, 400, "100", "Bad Request")


# --- signature ---

def test_wrong_signature_is_401_code_200_without_the_secret(emu):
    # When a request is signed with another secret
    response = signed_get(emu, f"{KR}/repositories/ncpdocker/ncpdocker", secret_key="not-the-secret")
    # Then NCP's 401 shape, and the real secret appears nowhere
    error = assert_ncp_error(response, 401, "200", "Authentication Failed")
    assert "Signature" in error["details"]
    assert emu.secret_key not in response.text and emu.secret_key not in str(response.headers)


@pytest.mark.parametrize("method,uri,ts,access_key,secret_key,signature", GOLDEN_SIGNATURES)
def test_the_emulators_own_check_accepts_the_golden_vectors(method, uri, ts, access_key, secret_key, signature):
    assert signature_check.matches(secret_key, method, uri, str(ts), access_key, signature)
    assert not signature_check.matches(secret_key, method, uri, str(ts), access_key, signature[:-2] + "A=")


@pytest.mark.parametrize("string_to_sign", [
    "GET {uri}\n{timestamp}\n{access_key}\n",         # a trailing newline
    "GET {uri}\r\n{timestamp}\r\n{access_key}",       # CRLF
    "GET {uri}\n{access_key}\n{timestamp}",           # key and timestamp swapped
    "{uri}\n{timestamp}\n{access_key}",               # no method
    "get {uri}\n{timestamp}\n{access_key}",           # the method in lowercase
    "GET  {uri}\n{timestamp}\n{access_key}",          # two spaces
    "GET /ncr/api/v2/repositories/prod/team/web\n{timestamp}\n{access_key}",  # the decoded path
    "GET /ncr/api/v2/repositories/prod/team%2Fweb\n{timestamp}\n{access_key}",  # the query left out
    "GET http://127.0.0.1{uri}\n{timestamp}\n{access_key}",  # scheme and host included
])
def test_a_request_signed_another_way_is_refused(emu, string_to_sign):
    # Given the documented string-to-sign, a request is accepted
    uri = f"{KR}/repositories/prod/team%2Fweb?pagesize=5"
    good = signed_headers(uri, emu.access_key, emu.secret_key)
    assert requests.get(emu.url + uri, headers=good, timeout=5).status_code == 200
    # When the same request is signed over another string, with the right keys and a fresh timestamp
    other = signed_headers(uri, emu.access_key, emu.secret_key, string_to_sign=string_to_sign)
    # Then the emulator refuses it as NCP does
    error = assert_ncp_error(requests.get(emu.url + uri, headers=other, timeout=5), 401, "200", "Authentication Failed")
    assert "Signature mismatch" in error["details"]


def test_unknown_key_missing_header_and_bad_timestamp_are_401(emu):
    path = f"{KR}/repositories/ncpdocker/ncpdocker"
    assert_ncp_error(signed_get(emu, path, access_key="NOPE0000000000000000"), 401, "200", "Authentication Failed")
    assert_ncp_error(requests.get(emu.url + path, timeout=5), 401, "200", "Authentication Failed")
    headers = signed_headers(path, emu.access_key, emu.secret_key, timestamp="soon")
    assert_ncp_error(requests.get(emu.url + path, headers=headers, timeout=5), 401, "200", "Authentication Failed")


def test_signature_covers_the_query_as_sent(emu):
    # Given a request signed for one query order but sent with another
    path = f"{KR}/repositories/prod/team%2Fapi/tags"
    headers = signed_headers(path + "?page=1&pagesize=5", emu.access_key, emu.secret_key)
    # Then it is refused
    refused = requests.get(emu.url + path + "?pagesize=5&page=1", headers=headers, timeout=5)
    assert_ncp_error(refused, 401, "200", "Authentication Failed")


def test_timestamp_older_than_five_minutes_is_401(emu):
    path = f"{KR}/repositories/ncpdocker/ncpdocker"
    stale = signed_get(emu, path, timestamp=now_ms() - 5 * 60 * 1000 - 2000)
    assert "behind" in assert_ncp_error(stale, 401, "200", "Authentication Failed")["details"]
    assert signed_get(emu, path, timestamp=now_ms() - 4 * 60 * 1000).status_code == 200


def test_clock_offset_moves_the_window_and_the_date_header(emu):
    # Given an emulator whose clock runs 10 minutes ahead
    emu.clock_offset_ms = 10 * 60 * 1000
    path = f"{KR}/repositories/ncpdocker/ncpdocker"
    # When a client signs with the real clock, and with the emulator's
    real = signed_get(emu, path)
    shifted = signed_get(emu, path, timestamp=now_ms() + emu.clock_offset_ms)
    # Then only the emulator's time passes, and its Date header is 10 minutes ahead
    assert "behind" in assert_ncp_error(real, 401, "200", "Authentication Failed")["details"]
    assert shifted.status_code == 200
    ahead = parsedate_to_datetime(shifted.headers["Date"]).timestamp() - time.time()
    assert 590 <= ahead <= 610


def test_recorded_requests_carry_raw_path_and_fresh_signatures(emu):
    # When the same path is read twice
    for _ in range(2):
        signed_get(emu, f"{KR}/repositories/prod/team%2Fapi/tags?page=2&pagesize=3")
        time.sleep(0.002)
    first, second = emu.requests
    # Then each record holds the raw target and a signature valid for it at its own timestamp
    assert first.raw_path == f"{KR}/repositories/prod/team%2Fapi/tags?page=2&pagesize=3"
    assert first.query == {"page": "2", "pagesize": "3"}
    assert first.timestamp != second.timestamp and first.signature != second.signature
    for r in (first, second):
        assert (r.method, r.status, r.access_key) == ("GET", 200, emu.access_key)
        assert r.signature == hmac_signature(emu.secret_key, f"GET {r.raw_path}\n{r.timestamp}\n{r.access_key}")
    emu.clear_requests()
    assert emu.requests == []


# --- scripted answers and faults ---

def test_canned_answers_come_first_in_order_then_normal_handling(emu):
    # Given a queued 503 (with Retry-After) and a queued custom 200
    emu.enqueue(status=503, headers={"Retry-After": "1"})
    emu.enqueue(status=200, body={"hello": "canned"})
    path = f"{KR}/repositories/ncpdocker/ncpdocker"
    # When three requests arrive, the first not even signed
    unsigned = requests.get(emu.url + path, timeout=5)
    canned = signed_get(emu, path)
    normal = signed_get(emu, path)
    # Then the gateway-style answers come first, in order, and are recorded
    assert_ncp_error(unsigned, 503, "503", "Service Unavailable")
    assert unsigned.headers["Retry-After"] == "1"
    assert canned.json() == {"hello": "canned"}
    assert normal.json() == SEED_IMAGE
    assert [r.status for r in emu.requests] == [503, 200, 200]
    assert emu.pending == 0


def test_drop_closes_without_an_answer_and_the_next_request_works(emu):
    emu.enqueue_fault("drop")
    with pytest.raises(requests.ConnectionError):
        signed_get(emu, f"{KR}/repositories/ncpdocker/ncpdocker")
    assert signed_get(emu, f"{KR}/repositories/ncpdocker/ncpdocker").status_code == 200
    assert [r.status for r in emu.requests] == [None, 200]


def test_truncate_sends_less_than_content_length(emu):
    emu.enqueue_fault("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        signed_get(emu, f"{KR}/repositories/ncpdocker/ncpdocker")


def test_queue_mixes_canned_answers_and_faults_in_order(emu):
    emu.enqueue(status=503)
    emu.enqueue_fault("drop")
    emu.enqueue_fault("delay", seconds=0.1, then={"status": 429, "headers": {"Retry-After": "0"}})
    path = f"{KR}/repositories/ncpdocker/ncpdocker"
    assert signed_get(emu, path).status_code == 503
    with pytest.raises(requests.ConnectionError):
        signed_get(emu, path)
    started = time.perf_counter()
    assert_ncp_error(signed_get(emu, path), 429, "400", "Quota Exceeded")
    assert time.perf_counter() - started >= 0.1
    assert signed_get(emu, path).status_code == 200


def test_large_canned_body(emu):
    emu.enqueue(status=200, body=b"x" * (2 * 1024 * 1024))
    response = signed_get(emu, f"{KR}/repositories")
    assert len(response.content) == 2 * 1024 * 1024


def test_latency_is_applied_to_each_request(emu):
    emu.latency = 0.15
    started = time.perf_counter()
    signed_get(emu, f"{KR}/repositories")
    assert time.perf_counter() - started >= 0.15


def test_one_session_is_one_connection(emu):
    # When three GETs share a requests.Session
    with requests.Session() as session:
        statuses = [signed_get(emu, f"{KR}/repositories", session=session).status_code for _ in range(3)]
    # Then HTTP/1.1 keep-alive carried them on one TCP connection
    assert statuses == [200, 200, 200]
    assert emu.connections == 1
    assert {r.connection_id for r in emu.requests} == {1}


def test_concurrent_keep_alive_connections(emu):
    # When 32 sessions each send 5 requests at once
    def client(_):
        with requests.Session() as session:
            return [signed_get(emu, f"{KR}/repositories/prod/team%2Fweb", session=session).status_code
                    for _ in range(5)]

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(client, range(32)))
    # Then every answer is right, on one connection per session
    assert all(s == [200] * 5 for s in results)
    assert emu.connections == 32
    assert len(emu.requests) == 160


def test_stop_is_fast_with_open_and_busy_connections():
    # Given an idle keep-alive connection and a request held by a 30 s delay
    emu = NcrEmulator().start()
    idle = requests.Session()
    signed_get(emu, f"{KR}/repositories", session=idle)
    emu.enqueue_fault("delay", seconds=30)
    outcome = []

    def busy():
        try:
            signed_get(emu, f"{KR}/repositories")
            outcome.append("answered")
        except requests.RequestException:
            outcome.append("failed")

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    deadline = time.monotonic() + 2
    while emu.pending and time.monotonic() < deadline:
        time.sleep(0.005)
    # When the emulator stops
    stopper = threading.Thread(target=emu.stop)
    stopper.start()
    # Then it returns without waiting for the held request, which fails, and the emulator no longer has a URL
    stopper.join(10)
    assert not stopper.is_alive()
    worker.join(2)
    assert outcome == ["failed"]
    idle.close()
    with pytest.raises(RuntimeError):
        _ = emu.url


# --- the Python API and seed data ---

def test_add_calls_validate_before_changing_anything(emu):
    # Given an immutable image with a tag
    emu.add_image("prod", "team/new", tag_mutability_enabled=False, pull_count=3, description="new")
    emu.add_tag("prod", "team/new", "v1", digest="sha256:" + "1" * 64)
    # When invalid additions are attempted, Then they are refused and nothing changed
    with pytest.raises(ValueError, match="immutable"):
        emu.add_tag("prod", "team/new", "v1", digest="sha256:" + "2" * 64)
    with pytest.raises(ValueError, match="digest"):
        emu.add_tag("prod", "team/new", "v2", digest="sha256:short")
    with pytest.raises(ValueError, match="image name"):
        emu.add_image("prod", "Bad/Name")
    with pytest.raises(TypeError, match="descripton"):
        emu.add_image("prod", "team/new", descripton="typo")
    with pytest.raises(ValueError, match="pull_count"):
        emu.add_image("prod", "team/new", pull_count="many")
    with pytest.raises(ValueError, match="region"):
        emu.add_registry("elsewhere", region="US")
    tags = signed_get(emu, f"{KR}/repositories/prod/team%2Fnew/tags").json()
    assert [(t["name"], t["digest"]) for t in tags["results"]] == [("v1", "sha256:" + "1" * 64)]
    assert signed_get(emu, f"{KR}/repositories/prod/team%2Fnew").json()["pull_count"] == 3
    assert_ncp_error(signed_get(emu, "/ncr/api/v2/repositories/elsewhere"), 404, "300", "Not Found")


def test_seed_file_loads_and_a_bad_one_is_refused(tmp_path):
    good = tmp_path / "seed.json"
    good.write_text(json.dumps({"registries": [{"name": "solo", "region": "JPN", "images": [
        {"name": "app", "tags": [{"name": "1", "images": ["linux/arm64"]}]}]}]}))
    with NcrEmulator.from_file(good, access_key="AK", secret_key="SK") as emu:
        assert (emu.access_key, emu.secret_key) == ("AK", "SK")
        tag = signed_get(emu, "/ncr/jpn-api/v2/repositories/solo/app/tags/1").json()
        assert tag["images"][0]["architecture"] == "arm64"
        assert signed_get(emu, f"{KR}/repositories").json()["count"] == 0
    bad = {"registries": [{"name": "ok-registry"}, {"name": "x", "images": []}]}
    with pytest.raises(ValueError, match="registry name"):
        NcrEmulator(data=bad)


def test_main_prints_url_and_keys_and_exits_0_on_sigterm():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, "-m", "ncr_provider.emulator", "--access-key", "CLIKEY",
                             "--secret-key", "CLISECRET"], stdout=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert lines[0].startswith("NCR emulator listening on http://127.0.0.1:")
        assert lines[1:] == ["access key: CLIKEY", "secret key: CLISECRET"]
        emu_url = lines[0].rsplit(" ", 1)[1]
        stub = type("Stub", (), {"url": emu_url, "access_key": "CLIKEY", "secret_key": "CLISECRET"})()
        assert signed_get(stub, f"{KR}/repositories/ncpdocker/ncpdocker").json() == SEED_IMAGE
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_stack_config_points_the_providers_settings_at_the_emulator(emu, tmp_path):
    # the emulator writes the Pulumi keys itself (it imports nothing of the client): they must be the keys it reads
    settings = resolve_settings(None, emu.stack_config(**{"ncloud:region": "SGN"}), {}, tmp_path / "no-profile")
    assert (settings.host, settings.region) == (emu.url, "SGN")
    assert settings.credentials() == (emu.access_key, emu.secret_key)


@pytest.mark.parametrize("args", [["--port", "99999"], ["--port", "-5"], ["--port", "http"],
                                  ["--latency", "-1"], ["--latency", "nan"], ["--latency", "inf"]])
def test_bad_emulator_options_are_usage_errors_not_tracebacks(args):
    from cli_runner import run_cli

    result = run_cli("emulator", *args, timeout=20)
    assert result.returncode == 2, result.stderr
    assert "error: argument" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["-m", "ncr_provider.cli", "emulator", "-v"],
                                     ["-m", "ncr_provider.cli", "-v", "emulator"],
                                     ["-m", "ncr_provider.emulator", "-v"]])
def test_emulator_v_logs_each_request_without_a_key(command):
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, *command, "--access-key", "CLIKEY", "--secret-key", "CLISECRET"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        emu_url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        stub = type("Stub", (), {"url": emu_url, "access_key": "CLIKEY", "secret_key": "CLISECRET"})()
        assert signed_get(stub, f"{KR}/repositories/ncpdocker/ncpdocker").status_code == 200
        assert signed_get(stub, f"{KR}/repositories/ncpdocker/nothing-here").status_code == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        logged = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    lines = [line for line in logged.splitlines() if "/repositories/" in line]
    assert lines == [f"ncr emulator: GET {KR}/repositories/ncpdocker/ncpdocker -> 200",
                     f"ncr emulator: GET {KR}/repositories/ncpdocker/nothing-here -> 404"], logged
    assert "CLISECRET" not in logged and "CLIKEY" not in logged
