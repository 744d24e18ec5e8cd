"""The emulator's own check of NCP API Gateway signature v2, written from NCP's API documentation.

Deliberately independent of the client's signer (`ncr_provider.signing`): the emulator is the
judge a client is tested against, so a client whose string-to-sign is wrong must be refused here,
not agreed with. Documented rule (shared/ncr-api.md, "Signing"):

    signature = base64( HMAC-SHA256( secret key, METHOD + " " + URI + "\\n" + timestamp + "\\n" + access key ) )

where URI is the request's path and query exactly as received, and the timestamp is milliseconds
since the epoch that must be within 5 minutes of the gateway's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# The three headers every signed NCP API request carries (documented names; HTTP headers are case-insensitive).
TIMESTAMP = "x-ncp-apigw-timestamp"
ACCESS_KEY = "x-ncp-iam-access-key"
SIGNATURE = "x-ncp-apigw-signature-v2"
HEADERS = (TIMESTAMP, ACCESS_KEY, SIGNATURE)
WINDOW_MS = 5 * 60 * 1000


def expected_signature(secret_key: str, method: str, target: str, timestamp: str, access_key: str) -> bytes:
    """The signature the gateway expects for a request target as received, as base64 ASCII bytes."""
    lines = (f"{method} {target}", timestamp, access_key)
    mac = hmac.new(secret_key.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha256)
    return base64.standard_b64encode(mac.digest())


def matches(secret_key: str, method: str, target: str, timestamp: str, access_key: str, given: str) -> bool:
    """Whether `given` is the signature of this request, compared in constant time."""
    return hmac.compare_digest(expected_signature(secret_key, method, target, timestamp, access_key),
                               given.encode("utf-8", "replace"))


def shown_key(access_key: str) -> str:
    """An access key as the emulator's error details show it: never more than its first 4 characters."""
    return access_key[:4] + "****" if access_key else "<none>"
