"""Golden vectors for NCP signature v2 (computed independently with `openssl dgst -sha256 -hmac`)."""

from __future__ import annotations

import pickle

import pytest
import requests
from helpers import GOLDEN_SIGNATURES, hmac_signature

from ncr_provider.signing import NcpSignatureAuth, request_uri, sign, string_to_sign

GOLDEN = GOLDEN_SIGNATURES


@pytest.mark.parametrize("method,uri,ts,ak,sk,expected", GOLDEN)
def test_golden_vectors(method, uri, ts, ak, sk, expected):
    assert string_to_sign(method, uri, ts, ak) == f"{method} {uri}\n{ts}\n{ak}"
    assert sign(method, uri, ts, ak, sk) == expected


@pytest.mark.parametrize("method,uri,ts,ak,sk,expected", GOLDEN)
def test_the_tests_own_signer_agrees_with_the_vectors(method, uri, ts, ak, sk, expected):
    assert hmac_signature(sk, f"{method} {uri}\n{ts}\n{ak}") == expected


def test_timestamp_may_be_text_or_int():
    _, uri, ts, ak, sk, expected = GOLDEN[0]
    assert sign("get", uri, str(ts), ak, sk) == expected


@pytest.mark.parametrize("url,expected", [
    ("https://ncr.apigw.ntruss.com/ncr/api/v2/repositories/prod/hello%2Fworld",
     "/ncr/api/v2/repositories/prod/hello%2Fworld"),
    ("http://127.0.0.1:8080/ncr/api/v2/repositories?pagesize=5&page=2", "/ncr/api/v2/repositories?pagesize=5&page=2"),
    ("https://host", "/"),
])
def test_request_uri_keeps_encoding_and_query_order(url, expected):
    assert request_uri(url) == expected


def test_auth_signs_the_prepared_request_exactly_as_sent():
    """Given a frozen clock, the headers sign the encoded path and the query in sent order."""
    _, uri, ts, ak, sk, expected = GOLDEN[2]
    auth = NcpSignatureAuth(ak, sk, clock=lambda: ts)
    prepared = requests.Request("GET", "http://127.0.0.1:1" + uri, auth=auth).prepare()

    assert prepared.path_url == uri
    assert prepared.headers["x-ncp-apigw-timestamp"] == str(ts)
    assert prepared.headers["x-ncp-iam-access-key"] == ak
    assert prepared.headers["x-ncp-apigw-signature-v2"] == expected


def test_auth_resigns_with_a_fresh_timestamp_each_call():
    times = iter([1000, 2000])
    auth = NcpSignatureAuth("AK", "SK", clock=lambda: next(times))
    first = dict(auth(requests.Request("GET", "http://h/p").prepare()).headers)
    second = dict(auth(requests.Request("GET", "http://h/p").prepare()).headers)
    assert first["x-ncp-apigw-timestamp"] == "1000" and second["x-ncp-apigw-timestamp"] == "2000"
    assert first["x-ncp-apigw-signature-v2"] != second["x-ncp-apigw-signature-v2"]


def test_auth_repr_and_pickle_hide_the_keys():
    auth = NcpSignatureAuth("AKIAVERYSECRETACCESS", "the-secret-key-value")
    assert "the-secret-key-value" not in repr(auth)
    assert "AKIAVERYSECRETACCESS" not in repr(auth) and "AKIA****" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
