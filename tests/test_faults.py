"""Faults the emulator injects, and what the client does about each: retry, refuse, or explain."""

from __future__ import annotations

import re
import ssl
import time
from email.utils import formatdate

import pytest
from cli_runner import run_cli_interrupted
from helpers import make_client, without_request_id

from ncr_provider import errors
from ncr_provider.client import ClientOptions, NcrClient, RetryPolicy
from ncr_provider.config import Settings
from ncr_provider.emulator import NcrEmulator

POLICY = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.04, jitter=0.5, retry_after_max=0.3)
IMAGE = ("ncpdocker", "ncpdocker")


class SleepLog:
    """Records the delays the client asks for, and really sleeps them (they are tiny)."""

    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def sleeps():
    return SleepLog()


def client_for(emulator, sleeps, **options):
    options.setdefault("retry", POLICY)
    return make_client(emulator, sleep=sleeps, rand=lambda: 0.5, **options)


def ncp_error(code, message):
    return {"error": {"errorCode": code, "message": message, "requestId": f"req-{code}"}}


# -- 429 and Retry-After ------------------------------------------------------------------------

@pytest.mark.parametrize("retry_after,expected", [("0", 0.0), ("9999", 0.3), (None, 0.0075)])
def test_429_waits_as_told_clamped_or_backs_off(emulator, sleeps, retry_after, expected):
    headers = {"Retry-After": retry_after} if retry_after else {}
    emulator.enqueue(status=429, body=ncp_error("400", "Quota Exceeded"), headers=headers)
    with client_for(emulator, sleeps) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
    assert sleeps.delays == [pytest.approx(expected)]
    assert [r.status for r in emulator.requests] == [429, 200]


def test_429_retry_after_as_an_http_date_is_honoured(emulator):
    # given a Retry-After date half a minute ahead (one-second resolution), and a sleep that only records
    emulator.enqueue(status=429, body=ncp_error("410", "Throttle Limited"),
                     headers={"Retry-After": formatdate(time.time() + 30, usegmt=True)})
    delays = []
    with make_client(emulator, sleep=delays.append, rand=lambda: 0.5,
                     retry=RetryPolicy(attempts=2, retry_after_max=60.0)) as client:
        client.get_image(*IMAGE)
    # then the wait is the date's distance, not the 0.25 s backoff an ignored header would give
    (delay,) = delays
    assert 28.0 <= delay <= 31.0


def test_a_backoff_that_would_pass_the_deadline_is_not_slept(emulator):
    emulator.enqueue(status=503, body=ncp_error("503", "busy"), headers={"Retry-After": "5"})
    delays = []
    with make_client(emulator, sleep=delays.append, deadline=1.0,
                     retry=RetryPolicy(attempts=4, retry_after_max=10.0)) as client, pytest.raises(errors.ServerError) as caught:
        client.get_image(*IMAGE)
    assert delays == [] and caught.value.attempts == 1
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("seconds_ahead,expected", [(3600, 2.0), (-3600, 0.0)])
def test_429_retry_after_date_is_clamped_or_means_now(emulator, sleeps, seconds_ahead, expected):
    # given a Retry-After date an hour ahead (clamped to the policy's 2 s) or an hour past (no wait)
    emulator.enqueue(status=429, body=ncp_error("410", "Throttle Limited"),
                     headers={"Retry-After": formatdate(time.time() + seconds_ahead, usegmt=True)})
    with client_for(emulator, sleeps, retry=RetryPolicy(attempts=2, retry_after_max=2.0)) as client:
        client.get_image(*IMAGE)
    # then the client waited exactly that, not its own backoff (0.0075 s here)
    assert sleeps.delays == [expected]


def test_429_past_the_budget_names_status_code_message_and_attempts(emulator, sleeps):
    for _ in range(3):
        emulator.enqueue(status=429, body=ncp_error("420", "Rate Limited"))
    with client_for(emulator, sleeps) as client, pytest.raises(errors.ThrottledError) as caught:
        client.get_image(*IMAGE)
    assert without_request_id(str(caught.value)) == (
        "NCR throttled the request for image ncpdocker/ncpdocker: HTTP 429 (NCP errorCode 420): Rate Limited, "
        "still throttled after 3 attempt(s). Lower the request rate or concurrency and retry later.")
    assert len(sleeps.delays) == 2


# -- server errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_within_budget_succeeds_with_fresh_signatures(emulator, sleeps, status):
    emulator.enqueue(status=status, body=ncp_error(str(status), "try again"))
    emulator.enqueue(status=status, body=ncp_error(str(status), "try again"))
    with client_for(emulator, sleeps) as client:
        assert client.get_image(*IMAGE).description == "ncp docker"
    records = emulator.requests
    assert [r.status for r in records] == [status, status, 200]
    assert len({r.signature for r in records}) == 3
    assert len({r.timestamp for r in records}) == 3


def test_html_502_page_past_budget_is_a_server_error(emulator, sleeps):
    for _ in range(3):
        emulator.enqueue(status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>",
                         headers={"Content-Type": "text/html"})
    with client_for(emulator, sleeps) as client, pytest.raises(errors.ServerError) as caught:
        client.get_image(*IMAGE)
    assert str(caught.value) == ("NCR failed to answer image ncpdocker/ncpdocker: HTTP 502: "
                                 "a HTML body instead of an NCP error (after 3 attempt(s)).")
    assert caught.value.attempts == 3


@pytest.mark.parametrize("status,code,cls", [(400, "100", errors.NcrApiError), (401, "200", errors.AuthenticationError),
                                             (403, "230", errors.PermissionDeniedError), (404, "300", errors.ImageNotFoundError)])
def test_4xx_other_than_429_is_never_retried(emulator, sleeps, status, code, cls):
    emulator.enqueue(status=status, body=ncp_error(code, "no"))
    with client_for(emulator, sleeps) as client, pytest.raises(cls):
        client.get_image(*IMAGE)
    assert len(emulator.requests) == 1 and sleeps.delays == []


# -- the connection --------------------------------------------------------------------------------

def test_dropped_connection_is_retried(emulator, sleeps):
    emulator.enqueue_fault("drop")
    with client_for(emulator, sleeps) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
    assert [r.status for r in emulator.requests] == [None, 200]


def test_dropped_connections_past_budget_are_a_transport_error(emulator, sleeps):
    for _ in range(3):
        emulator.enqueue_fault("drop")
    with client_for(emulator, sleeps) as client, pytest.raises(errors.TransportError) as caught:
        client.get_image(*IMAGE)
    assert str(caught.value) == (
        f"Could not reach NCR at {emulator.url} for image ncpdocker/ncpdocker after 3 attempt(s): "
        "the server closed the connection without answering. Check the endpoint and your network.")


def test_response_slower_than_read_timeout_is_retried(emulator, sleeps):
    emulator.enqueue_fault("delay", seconds=2.0)
    with client_for(emulator, sleeps, read_timeout=0.2) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
    # The slow attempt is abandoned before the emulator answers (and records) it: count connections.
    assert emulator.connections == 2


def test_truncated_body_is_retried(emulator, sleeps):
    emulator.enqueue_fault("truncate", status=200, body={"name": "ncpdocker", "pull_count": 1})
    with client_for(emulator, sleeps) as client:
        assert client.get_image(*IMAGE).pull_count == 0
    assert len(emulator.requests) == 2


def test_nothing_listening_is_a_transport_error(sleeps):
    with NcrEmulator() as emu:
        url, ak, sk = emu.url, emu.access_key, emu.secret_key
    with NcrClient(Settings(endpoint=url, access_key=ak, secret_key=sk), ClientOptions(retry=POLICY, sleep=sleeps)) as client:
        with pytest.raises(errors.TransportError) as caught:
            client.get_image(*IMAGE)
    assert "connection refused" in str(caught.value)
    assert caught.value.attempts == 3


def test_a_call_never_outlives_its_deadline(emulator, sleeps):
    """A budget of 10 attempts, each abandoned after its 0.3 s read timeout: the 1 s deadline stops it first."""
    for _ in range(10):
        emulator.enqueue_fault("delay", seconds=5.0)
    policy = RetryPolicy(attempts=10, backoff_base=0.05, backoff_max=0.05)
    with client_for(emulator, sleeps, retry=policy, read_timeout=0.3, deadline=1.0) as client:
        with pytest.raises(errors.TransportError) as caught:
            client.get_image(*IMAGE)
    # Each attempt waits at most what is left of the second, so at most 4 (0.3 + 0.3 + 0.3 + 0.1) fit;
    # the emulator answers none of them (it records answers), so count the connections it accepted.
    assert caught.value.attempts == emulator.connections
    assert 1 <= caught.value.attempts <= 4
    # The last attempt has only what is left of the second: its read timeout or the deadline's watchdog
    # ends it, whichever fires first on a loaded machine; either way a timeout is named, not a refusal.
    assert caught.value.reason.endswith(("s read timeout", "s deadline")), caught.value.reason
    assert emulator.requests == []


@pytest.mark.parametrize("fault", ["trickle-body", "trickle"])
def test_an_answer_trickling_in_a_byte_at_a_time_is_cut_at_the_deadline(emulator, fault):
    # given an answer (headers too, for "trickle") sent one byte every 50 ms: each byte well inside the read
    # timeout, the whole answer (about 600 bytes) half a minute
    emulator.enqueue_fault(fault, seconds=0.05)
    with make_client(emulator, read_timeout=5.0, deadline=0.5) as client, pytest.raises(errors.TransportError) as caught:
        client.get_image(*IMAGE)
    # then the call ends at its deadline, with a sentence that says so, and is not retried past it
    assert caught.value.reason == "no complete answer within the 0.5s deadline"
    assert caught.value.attempts == 1
    assert emulator.trickled_bytes < 100
    assert len(emulator.requests) == 1


def _closed_while(client, busy) -> BaseException | None:
    """Call get_image on a thread, close the client from here once `busy()`, and return what the call raised."""
    import threading
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_capture(client.get_image, *IMAGE)))
    worker.start()
    while not busy():
        time.sleep(0.01)
    client.close()
    worker.join(timeout=30)
    assert not worker.is_alive(), "close() did not end the call"
    (error,) = outcome
    return error


def test_a_closed_client_ends_a_retry_after_wait_at_once(emulator):
    """What Ctrl-C needs: close() from another thread ends the default (interruptible) wait."""
    emulator.enqueue(status=429, body=ncp_error("400", "Quota Exceeded"), headers={"Retry-After": "3600"})
    client = make_client(emulator, sleep=None, retry=RetryPolicy(attempts=3, retry_after_max=3600.0), deadline=7200.0)
    error = _closed_while(client, lambda: bool(emulator.requests))
    assert isinstance(error, errors.TransportError) and error.reason == "the client was closed (interrupted)"
    assert len(emulator.requests) == 1


def test_a_closed_client_cuts_a_call_in_flight(emulator):
    emulator.enqueue_fault("trickle", seconds=0.5)
    client = make_client(emulator, read_timeout=60.0, deadline=600.0)
    error = _closed_while(client, lambda: bool(emulator.trickled_bytes))
    assert isinstance(error, errors.TransportError) and error.reason == "the client was closed (interrupted)"
    assert emulator.trickled_bytes < 100


def _capture(call, *args):
    try:
        return call(*args)
    except Exception as exc:  # the test inspects what the worker thread raised
        return exc


# -- bodies ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,reason", [
    ("not json at all", "the body is not JSON"),
    ([{"name": "ncpdocker"}], "expected a JSON object, got a JSON array"),
    ({"name": "ncpdocker", "pull_count": "12"}, "pull_count must be a number, got string '12'"),
])
def test_bad_200_bodies_are_invalid_responses_not_retried(emulator, sleeps, body, reason):
    emulator.enqueue(status=200, body=body)
    with client_for(emulator, sleeps) as client, pytest.raises(errors.InvalidResponseError) as caught:
        client.get_image(*IMAGE)
    assert str(caught.value) == f"NCR returned an invalid response for image ncpdocker/ncpdocker: {reason}"
    assert len(emulator.requests) == 1


def test_body_over_the_cap_is_refused(emulator, sleeps):
    emulator.enqueue(status=200, body=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    with client_for(emulator, sleeps) as client, pytest.raises(errors.InvalidResponseError) as caught:
        client.get_image(*IMAGE)
    assert "over the 1048576-byte cap" in str(caught.value)


def test_body_under_a_small_cap_still_parses(emulator, sleeps):
    with client_for(emulator, sleeps, max_body_bytes=4096) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"


# -- clock skew -----------------------------------------------------------------------------------

@pytest.mark.parametrize("offset_minutes", [10, -30])
def test_clock_skew_is_corrected_once_from_the_date_header(emulator, sleeps, offset_minutes):
    emulator.clock_offset_ms = offset_minutes * 60_000
    with client_for(emulator, sleeps) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
        assert abs(client.clock_offset_ms - offset_minutes * 60_000) < 5_000
        client.get_image(*IMAGE)  # later calls sign with the corrected clock straight away
    assert [r.status for r in emulator.requests] == [401, 200, 200]
    assert sleeps.delays == []


def test_a_401_that_persists_after_the_clock_correction_stops_blaming_the_clock(emulator, sleeps):
    # given NCR's Date says we are ten minutes behind, and the corrected retry is still refused
    ten_minutes_ahead = formatdate(time.time() + 600, usegmt=True)
    for _ in range(2):
        emulator.enqueue(status=401, body=ncp_error("200", "Authentication Failed"), headers={"Date": ten_minutes_ahead})
    with client_for(emulator, sleeps) as client, pytest.raises(errors.CredentialsRejectedError) as caught:
        client.get_image(*IMAGE)
    # then the clock was corrected once, and the error points at the keys
    message = without_request_id(str(caught.value))
    assert re.fullmatch(
        r"NCR rejected the credentials for image ncpdocker/ncpdocker \(HTTP 401 \(NCP errorCode 200\): Authentication "
        r"Failed\) even after correcting for this machine's clock being off by (599|600|601) s \(behind NCR's clock\), so "
        r"the clock is not the cause\. Check the access key EMU.\*\*\*\* and its secret key\.", message), message
    assert "Synchronise" not in message and "clock is correct" not in message
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("days", [2, -400, 3650])
def test_an_unbelievable_clock_offset_is_not_applied_and_the_error_says_why(emulator, sleeps, days):
    far = formatdate(time.time() + days * 86400, usegmt=True)
    emulator.enqueue(status=401, body=ncp_error("200", "Authentication Failed"), headers={"Date": far})
    with client_for(emulator, sleeps) as client, pytest.raises(errors.ClockSkewError) as caught:
        client.get_image(*IMAGE)
    assert client.clock_offset_ms == 0
    assert len(emulator.requests) == 1
    assert "its Date header says this machine's clock is off by" in str(caught.value)
    assert "too far to correct automatically" in str(caught.value)


def test_a_server_clock_a_year_off_never_moves_ours(emulator, sleeps):
    emulator.clock_offset_ms = 366 * 86400 * 1000
    with client_for(emulator, sleeps) as client:
        with pytest.raises(errors.ClockSkewError):
            client.get_image(*IMAGE)
        assert client.clock_offset_ms == 0
    assert [r.status for r in emulator.requests] == [401]


def test_a_401_with_a_correct_clock_is_not_retried(emulator, sleeps):
    with client_for(emulator, sleeps) as client:
        emulator.enqueue(status=401, body=ncp_error("200", "Authentication Failed"))
        with pytest.raises(errors.AuthenticationError) as caught:
            client.get_image(*IMAGE)
    assert not isinstance(caught.value, errors.ClockSkewError)
    assert len(emulator.requests) == 1


# -- TLS --------------------------------------------------------------------------------------------

@pytest.fixture
def tls_emulator(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with NcrEmulator(tls=context) as emu:
        yield emu


def test_tls_is_verified_for_https_endpoints(tls_emulator, sleeps, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert tls_emulator.url.startswith("https://127.0.0.1:")
    with client_for(tls_emulator, sleeps) as client, pytest.raises(errors.TransportError) as caught:
        client.get_image(*IMAGE)
    assert "TLS verification failed (for a private CA, set REQUESTS_CA_BUNDLE)" in str(caught.value)
    assert caught.value.attempts == 1


def test_requests_ca_bundle_trusts_a_private_ca(tls_emulator, certificate, sleeps, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with client_for(tls_emulator, sleeps) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"


# -- Ctrl-C ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["retry-after", "trickle"])
def test_ctrl_c_during_check_stops_at_once_with_one_line_and_exit_130(ncp_env, fault):
    # given check waiting out a 30 s Retry-After (the default cap), or reading an answer that trickles in
    for _ in range(4):
        if fault == "retry-after":
            ncp_env.enqueue(status=429, body=ncp_error("400", "Quota Exceeded"), headers={"Retry-After": "3600"})
        else:
            ncp_env.enqueue_fault("trickle", seconds=1.0)
    # when the user presses Ctrl-C, then it stops well before the wait would have ended (a bound, not a
    # measurement: the wait is 30 s)
    code, stdout, stderr = run_cli_interrupted(
        "check", "prod/team/web", "prod/hello/world",
        ready=lambda: len(ncp_env.requests) >= (2 if fault == "retry-after" else 1)
        and (fault != "trickle" or bool(ncp_env.trickled_bytes)))
    assert code == 130
    assert stderr.splitlines() == ["ncr-image: interrupted"], stderr
    assert stdout == ""
    assert len([r for r in ncp_env.requests if r.status == 429]) <= 2


def test_a_closed_client_ends_a_wait_for_a_free_connection(emulator):
    import threading
    # given a one-connection client whose connection a trickling answer holds, and a second call waiting for it
    emulator.enqueue_fault("trickle", seconds=0.5)
    client = make_client(emulator, max_connections=1, read_timeout=60.0, deadline=600.0)
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(_capture(client.get_image, *IMAGE))) for _ in range(2)]
    for thread in threads:
        thread.start()
    while not emulator.trickled_bytes:
        time.sleep(0.01)
    # when the client is closed, then both calls end: the one in flight and the one waiting for the connection
    client.close()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert sorted(type(o).__name__ for o in outcomes) == ["TransportError", "TransportError"]
    assert {o.reason for o in outcomes} == {"the client was closed (interrupted)"}
    assert len(emulator.requests) == 1
