"""NcrClient against the emulator over real HTTP: paths, signing, errors, retries, pooling."""

from __future__ import annotations

import contextlib
import threading

import pytest
from helpers import FAST_RETRY, make_client, without_request_id

from ncr_provider.client import NcrClient, RetryPolicy, parse_retry_after
from ncr_provider.config import Settings
from ncr_provider.errors import (
    AuthenticationError,
    ConfigurationError,
    ImageNotFoundError,
    InvalidNameError,
    InvalidResponseError,
    NcrApiError,
    PermissionDeniedError,
    ServerError,
    TagNotFoundError,
    ThrottledError,
    TransportError,
)
from ncr_provider.signing import now_ms
from ncr_provider.sites import API_ENDPOINTS


def test_seed_image_details(client):
    details = client.get_image("ncpdocker", "ncpdocker")
    assert details.description == "ncp docker"
    assert details.full_description == "Naver Cloud Platform Docker"
    assert details.tag_mutability_enabled is True
    assert details.last_updated == 1711928488000


# Every row of the sites table (its prefixes are spelled out literally in test_sites).
@pytest.mark.parametrize("row", [r for r in API_ENDPOINTS if r.version == "v2"], ids=lambda r: f"{r.site}-{r.region}")
def test_each_region_and_site_uses_its_prefix(emulator, row):
    emulator.add_image("everywhere", "app", description="seen in every region")
    with make_client(emulator, {"site": row.site, "region": row.region}) as client:
        assert client.get_image("everywhere", "app").description == "seen in every region"
    assert [r.raw_path for r in emulator.requests] == [f"{row.prefix}/repositories/everywhere/app"]


def test_image_name_with_slash_is_one_encoded_segment(client, emulator):
    emulator.add_image("prod", "hello/world", description="nested")
    assert client.get_image("prod", "hello/world").description == "nested"
    assert emulator.requests[-1].raw_path == "/ncr/api/v2/repositories/prod/hello%2Fworld"


def test_rejected_name_sends_no_request(client, emulator):
    with pytest.raises(InvalidNameError) as caught:
        client.get_image("prod", "../../repositories")
    assert caught.value.field == "image_name"
    assert emulator.requests == []


def test_missing_image_names_image_and_region(client):
    with pytest.raises(ImageNotFoundError) as caught:
        client.get_image("prod", "no/such")
    err = caught.value
    assert (err.status, err.error_code, err.attempts) == (404, "300", 1)
    assert str(err).startswith("Image prod/no/such not found in region KR (HTTP 404 (NCP errorCode 300): ")


def test_wrong_secret_is_an_authentication_error_not_retried(emulator):
    with make_client(emulator, {"secret_key": "not-the-secret"}) as c:
        with pytest.raises(AuthenticationError) as caught:
            c.get_image("ncpdocker", "ncpdocker")
    assert caught.value.status == 401 and caught.value.error_code == "200"
    assert len(emulator.requests) == 1
    assert "not-the-secret" not in str(caught.value)
    assert f"Check the access key {emulator.access_key[:4]}****" in str(caught.value)
    assert "clock" in str(caught.value)


@pytest.mark.parametrize("status,code,cls", [
    (401, "210", PermissionDeniedError),
    (403, "230", PermissionDeniedError),
    (400, "100", NcrApiError),
    (429, "400", ThrottledError),
    (500, None, ServerError),
])
def test_each_error_class_from_an_emulator_answer(emulator, status, code, cls):
    body = {"error": {"errorCode": code, "message": "canned", "requestId": "req-1"}} if code else "<html>boom</html>"
    for _ in range(FAST_RETRY.attempts):
        emulator.enqueue(status=status, body=body)
    with make_client(emulator) as client, pytest.raises(cls) as caught:
        client.get_image("ncpdocker", "ncpdocker")
    assert type(caught.value) is cls
    assert caught.value.status == status and caught.value.error_code == code
    retried = status in FAST_RETRY.statuses
    assert caught.value.attempts == (FAST_RETRY.attempts if retried else 1)
    assert len(emulator.requests) == caught.value.attempts


def test_server_error_message_names_status_code_message_and_attempts(emulator):
    for _ in range(3):
        emulator.enqueue(status=503, body={"error": {"errorCode": "503", "message": "Service Unavailable", "requestId": "r-9"}})
    with make_client(emulator) as client, pytest.raises(ServerError) as caught:
        client.get_image("ncpdocker", "ncpdocker")
    assert str(caught.value) == ("NCR failed to answer image ncpdocker/ncpdocker: HTTP 503 (NCP errorCode 503): "
                                 "Service Unavailable (after 3 attempt(s), request id r-9).")


def test_503_then_200_succeeds_with_two_fresh_signatures(emulator):
    emulator.enqueue(status=503, body={"error": {"errorCode": "503", "message": "busy"}})
    start = now_ms()
    clock = iter(range(start, start + 100, 7))  # distinct timestamps, near the emulator's clock
    with make_client(emulator, clock=lambda: next(clock)) as client:
        assert client.get_image("ncpdocker", "ncpdocker").description == "ncp docker"
    first, second = emulator.requests
    assert (first.status, second.status) == (503, 200)
    assert first.timestamp != second.timestamp
    assert first.signature != second.signature


def test_missing_credentials_are_a_configuration_error_when_the_client_is_built(emulator):
    # no client exists without keys, so none can send
    with pytest.raises(ConfigurationError) as caught:
        NcrClient(Settings(endpoint=emulator.url))
    assert "No NCP access key and secret key found" in str(caught.value)


def test_sequential_gets_reuse_one_connection(client, emulator):
    for _ in range(10):
        client.get_image("ncpdocker", "ncpdocker")
    assert emulator.connections == 1


def test_threads_share_a_client_within_its_pool(emulator):
    emulator.latency = 0.01
    with make_client(emulator, max_connections=4) as client:
        errors = []

        def work():
            try:
                for _ in range(5):
                    client.get_image("ncpdocker", "ncpdocker")
            except Exception as exc:  # collected, asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(emulator.requests) == 40
    assert emulator.connections <= 4


@pytest.mark.parametrize("header,seconds", [
    ("3", 3.0), ("0", 0.0), ("-5", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: now
    (None, None), ("", None), ("soon", None), ("1.5e3x", None),
])
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    assert parse_retry_after(header) == seconds


def test_a_429_waits_what_retry_after_says_not_the_backoff(emulator):
    # given NCR throttling once with Retry-After: 7, and a backoff of its own that would wait 0.01 s
    emulator.enqueue(status=429, body={"error": {"errorCode": "400", "message": "Quota Exceeded"}},
                     headers={"Retry-After": "7"})
    waited: list[float] = []
    with make_client(emulator, sleep=waited.append, retry=RetryPolicy(attempts=2, backoff_base=0.01, retry_after_max=30)) as c:
        c.get_image("ncpdocker", "ncpdocker")
    # then the client slept the 7 seconds NCR asked for, once
    assert waited == [7.0]


def test_the_deadline_bounds_the_wait_for_a_free_connection(emulator):
    # given a one-connection client whose only connection a thread holds: its signing clock blocks mid-attempt
    holding, release = threading.Event(), threading.Event()

    def clock() -> int:
        if threading.current_thread().name == "holder":
            holding.set()
            release.wait(10)
        return now_ms()

    with make_client(emulator, max_connections=1, deadline=0.2, clock=clock) as client:
        def hold() -> None:
            with contextlib.suppress(TransportError):  # its own deadline passes while its clock blocks
                client.get_image("ncpdocker", "ncpdocker")

        holder = threading.Thread(target=hold, name="holder")
        holder.start()
        assert holding.wait(10)
        # when another call needs a connection, then it gives up at its deadline instead of waiting forever
        with pytest.raises(TransportError) as caught:
            client.get_image("ncpdocker", "ncpdocker")
        release.set()
        holder.join(10)
    assert caught.value.reason == "no free connection before the deadline"
    assert caught.value.attempts == 1


def test_registry_and_image_lists_follow_pagination(client, emulator):
    for i in range(5):
        emulator.add_image("paged", f"img{i}")
    names = [item["name"] for item in client.list_images("paged", pagesize=2)]
    assert sorted(names) == [f"img{i}" for i in range(5)]
    assert len(emulator.requests) == 3
    assert "paged" in [r["name"] for r in client.list_registries()]


def test_retry_policy_delays():
    policy = RetryPolicy(backoff_base=1, backoff_max=3, jitter=0.5, retry_after_max=10)
    assert [policy.delay(n, None, 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert [policy.delay(n, None, 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 3.0]
    assert policy.delay(1, 4.0, 0.5) == 4.0
    assert policy.delay(1, 99.0, 0.5) == 10


def test_repr_shows_no_secret(client, emulator):
    assert emulator.secret_key not in repr(client)
    assert emulator.access_key not in repr(client)


# -- tags -----------------------------------------------------------------------------------------

def tag_list_requests(emulator) -> list[dict]:
    return [r.query for r in emulator.requests if r.path.endswith("/tags")]


@pytest.mark.parametrize("pagesize,pages", [(10, 5), (20, 3), (45, 1), (100, 1)])
def test_list_tags_follows_every_page_to_the_end(client, emulator, pagesize, pages):
    # given prod/team/api with 45 tags, when listed `pagesize` at a time
    tags = client.list_tags("prod", "team/api", pagesize=pagesize)
    # then every tag arrives once, newest first, in exactly as many requests as there are pages
    assert len(tags) == 45 and len({t.name for t in tags}) == 45
    times = [t.last_updated for t in tags]
    assert times == sorted(times, reverse=True)
    assert tag_list_requests(emulator) == [{"page": str(n), "pagesize": str(pagesize)} for n in range(1, pages + 1)]
    assert emulator.requests[0].raw_path == f"/ncr/api/v2/repositories/prod/team%2Fapi/tags?page=1&pagesize={pagesize}"


def test_list_tags_is_typed_and_sorted_newest_first_whatever_the_server_order(client, emulator):
    # given NCR answering one page in oldest-first order (NCP documents no order)
    old = {"name": "old", "digest": "sha256:" + "0" * 64, "last_updated": 1000, "images": []}
    new = {"name": "new", "digest": "sha256:" + "1" * 64, "last_updated": 2000, "images": []}
    emulator.enqueue(status=200, body={"count": 2, "next": None, "previous": None, "results": [old, new]})
    # when listed
    tags = client.list_tags("prod", "team/web")
    # then newest first
    assert [(t.name, t.last_updated_at) for t in tags] == [("new", "1970-01-01T00:00:02Z"), ("old", "1970-01-01T00:00:01Z")]


def test_list_tags_of_a_missing_image_names_image_and_region(client):
    with pytest.raises(ImageNotFoundError) as caught:
        client.list_tags("prod", "no/such")
    assert without_request_id(str(caught.value)) == "Image prod/no/such not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."


def test_list_tags_of_an_image_without_tags_is_empty_after_one_request(client, emulator):
    emulator.add_image("prod", "empty/repo")
    assert client.list_tags("prod", "empty/repo") == []
    assert len(emulator.requests) == 1


def test_get_tag_returns_digest_and_platforms(client, emulator):
    tag = client.get_tag("prod", "team/web", "1.2.1")
    assert tag.name == "1.2.1"
    assert tag.digest == "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"
    assert [(p.os, p.architecture, p.variant) for p in tag.platforms] == [("linux", "amd64", None), ("linux", "arm64", "v8")]
    assert tag.full_size == sum(p.size for p in tag.platforms)
    assert [r.raw_path for r in emulator.requests] == ["/ncr/api/v2/repositories/prod/team%2Fweb/tags/1.2.1"]


def test_get_tag_of_a_missing_tag_names_image_tag_and_region(client):
    with pytest.raises(TagNotFoundError) as caught:
        client.get_tag("prod", "team/web", "9.9.9")
    assert without_request_id(str(caught.value)) == "Tag prod/team/web:9.9.9 not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."
    assert (caught.value.status, caught.value.error_code, caught.value.tag) == (404, "300", "9.9.9")


@pytest.mark.parametrize("tag", ["", ".hidden", "-x", "a/b", "a?b", "a#b", "a b", "..", "a%2F", "x" * 129, "ａ"])
def test_get_tag_refuses_a_bad_tag_before_sending(client, emulator, tag):
    with pytest.raises(InvalidNameError) as caught:
        client.get_tag("prod", "team/web", tag)
    assert caught.value.field == "tag"
    assert emulator.requests == []


def test_get_tag_in_another_region_uses_its_prefix(emulator):
    with make_client(emulator, {"region": "SGN"}) as client:
        assert client.get_tag("sgn-apps", "shop/cart", "3.1.0").name == "3.1.0"
    assert emulator.requests[-1].raw_path == "/ncr/sgn-api/v2/repositories/sgn-apps/shop%2Fcart/tags/3.1.0"


def test_a_listing_that_never_ends_stops_at_the_page_cap(emulator):
    for _ in range(3):
        emulator.enqueue(status=200, body={"count": None, "next": 99, "previous": None, "results": [{"name": "x"}]})
    with make_client(emulator, max_pages=3) as client, pytest.raises(InvalidResponseError) as caught:
        list(client.list_registries(pagesize=1))
    assert str(caught.value) == "NCR returned an invalid response for the registry list: it still had more after 3 pages of 1"
    assert len(emulator.requests) == 3
