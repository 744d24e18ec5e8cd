"""NCP API Gateway signature v2: the string-to-sign, the signature, and a requests auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import NoReturn
from urllib.parse import urlsplit

import requests

TIMESTAMP_HEADER = "x-ncp-apigw-timestamp"
ACCESS_KEY_HEADER = "x-ncp-iam-access-key"
SIGNATURE_HEADER = "x-ncp-apigw-signature-v2"


def now_ms() -> int:
    """Milliseconds since the epoch, the clock NCP signs with."""
    return time.time_ns() // 1_000_000


def string_to_sign(method: str, uri: str, timestamp_ms: int | str, access_key: str) -> str:
    """`METHOD URI\\ntimestamp\\naccessKey`, where URI is the path and query as sent."""
    return f"{method.upper()} {uri}\n{timestamp_ms}\n{access_key}"


def sign(method: str, uri: str, timestamp_ms: int | str, access_key: str, secret_key: str) -> str:
    """Base64 HMAC-SHA256 of the string-to-sign, keyed by the secret key."""
    message = string_to_sign(method, uri, timestamp_ms, access_key).encode("utf-8")
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request_uri(url: str) -> str:
    """The path and query of a prepared URL exactly as they go on the wire."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def mask(access_key: str | None) -> str:
    """An access key as it may appear in logs and errors: its first 4 characters only."""
    if not access_key:
        return "<none>"
    return access_key[:4] + "****"


class NcpSignatureAuth(requests.auth.AuthBase):
    """Signs each prepared request (and each retry, afresh) with NCP signature v2."""

    def __init__(self, access_key: str, secret_key: str, clock: Callable[[], int] = now_ms):
        self.access_key = access_key
        self._secret_key = secret_key
        self.clock = clock

    def headers_for(self, method: str, uri: str) -> dict[str, str]:
        """The three signature headers for one request, at the clock's current time."""
        timestamp = str(self.clock())
        return {
            TIMESTAMP_HEADER: timestamp,
            ACCESS_KEY_HEADER: self.access_key,
            SIGNATURE_HEADER: sign(method, uri, timestamp, self.access_key, self._secret_key),
        }

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.update(self.headers_for(r.method or "GET", request_uri(r.url or "")))
        return r

    def __repr__(self) -> str:
        return f"NcpSignatureAuth(access_key={mask(self.access_key)!r})"

    def __getstate__(self) -> NoReturn:  # never let a pickle carry the secret
        raise TypeError("NcpSignatureAuth holds a secret key and cannot be pickled")
