"""What several test modules share, imported by name (`from helpers import ...`); fixtures stay in conftest."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from pulumi.dynamic import Config, ConfigureRequest

from ncr_provider.client import ClientOptions, NcrClient, RetryPolicy
from ncr_provider.config import ENV_VARS, Settings
from ncr_provider.emulator import NcrEmulator
from ncr_provider.provider import NcrImageProvider, NcrReadProvider
from ncr_provider.testing import ProviderServer

# Short waits so fault tests stay fast; the policy's shape is what they check.
FAST_RETRY = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05, retry_after_max=0.2)
FAST_OPTIONS = ClientOptions(retry=FAST_RETRY)

# The start of NcrImageTag's error when the tag is selected in none or several ways.
SELECT_ONE = "select the tag in exactly one way: tag, digest, or most_recent=True (optionally with tag_pattern); "

# Every variable that would point a test at the developer's NCP account instead of the emulator.
NCP_ENV_VARS = ENV_VARS

# What a read says when the stack sets keys but a Pulumi CLI older than 3.139.0 passed the provider none of them.
OLD_CLI_SENTENCE = ("ncr_provider.errors.ConfigurationError: The stack sets ncloud:accessKey, ncloud:secretKey, "
                    "ncr:endpoint, but the Pulumi CLI passed none of it to the NcrImage provider: NcrImage needs Pulumi "
                    "CLI 3.139.0 or newer (`pulumi version` shows yours; or set NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY "
                    "in the environment instead).")


def settings_for(emulator: NcrEmulator, **changes: Any) -> Settings:
    """Settings pointing at the emulator with its keys (plus any field changed, e.g. region or secret_key)."""
    base = Settings(endpoint=emulator.url, access_key=emulator.access_key, secret_key=emulator.secret_key)
    return dataclasses.replace(base, **changes)


@contextlib.contextmanager
def provider_server(home: Path, stack_config: dict[str, str]) -> Iterator[ProviderServer]:
    """The real provider server, configured with `stack_config` as the engine configures it (the secret key
    marked secret); HOME is `home` and no NCP variable of the developer's environment reaches it."""
    env = {**dict.fromkeys(NCP_ENV_VARS), "HOME": str(home)}
    with ProviderServer(env) as server:
        server.configure(stack_config, secret_keys={"ncloud:secretKey"})
        yield server


def make_client(emulator: NcrEmulator, settings: dict[str, Any] | None = None, **options: Any) -> NcrClient:
    """A client signed with the emulator's keys, with fast retries unless told otherwise."""
    return NcrClient(settings_for(emulator, **(settings or {})), dataclasses.replace(FAST_OPTIONS, **options))


# Golden vectors of NCP signature v2, computed outside this project with `openssl dgst -sha256 -hmac`:
# method, URI as sent, timestamp, access key, secret key, signature. Both the client's signer and the
# emulator's check are held to them.
GOLDEN_SIGNATURES = [
    ("GET", "/ncr/api/v2/repositories/ncpdocker/ncpdocker", 1711928488000,
     "ncp_iam_BPAMKR1AbCdEfGh", "SecretKeyForGoldenVectors0001", "NBO5poLdwNNFFQiDzDmKeL8wGykqxCqqqDvyDoXt4HM="),
    ("GET", "/ncr/api/v2/repositories/prod/hello%2Fworld", 1700000000000,
     "ncp_iam_BPAMKR1AbCdEfGh", "SecretKeyForGoldenVectors0001", "UEcY29215kgD8f+l5DyKirGde9CYQisFW2DyZjl5kiU="),
    ("GET", "/ncr/sgn-api/v2/repositories/prod/team%2Fweb/tags?page=2&pagesize=10", 1700000000123,
     "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "J1YcZjjcflnqU1/HKib+cZmVsDcUBm+8ojrr7+OstWw="),
    ("GET", "/ncr/kr/v2/repositories?page=1&pagesize=100", 0, "A", "S", "iYaRcLcy3d7qivBC3A5Xyy24tjYMcicPd3hDBawazys="),
]


def hmac_signature(secret_key: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA256(secret, text)): the tests' own signer, so a test chooses the string-to-sign itself."""
    return base64.b64encode(hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha256).digest()).decode()


def signed_headers(uri: str, access_key: str, secret_key: str, timestamp: int | str | None = None,
                   string_to_sign: str = "GET {uri}\n{timestamp}\n{access_key}") -> dict[str, str]:
    """NCP's three signature headers for a GET of `uri` (path and query as sent), from the documented rule
    unless a test gives another `string_to_sign` template."""
    ts = str(time.time_ns() // 1_000_000 if timestamp is None else timestamp)
    text = string_to_sign.format(uri=uri, timestamp=ts, access_key=access_key)
    return {"x-ncp-apigw-timestamp": ts, "x-ncp-iam-access-key": access_key,
            "x-ncp-apigw-signature-v2": hmac_signature(secret_key, text)}


class FastRetryProvider(NcrImageProvider):
    """The provider with short retry waits, so throttling tests stay fast."""

    client_options = dataclasses.replace(NcrImageProvider.client_options, retry=FAST_RETRY)


def configured(stack_config: dict[str, Any], cls: type[NcrReadProvider] = FastRetryProvider) -> NcrReadProvider:
    """A provider configured as the provider server configures it: once, with the whole stack config."""
    provider = cls()
    provider.configure(ConfigureRequest(Config(raw_config=stack_config, project_name="p")))
    return provider

# Every API error's sentence ends with NCP's request id; tests compare the rest of it exactly.
REQUEST_ID = re.compile(r", request id [^\s,)]+")


def without_request_id(text: str) -> str:
    """`text` with its `, request id <id>` removed; fails if it has none (so the id is proven shown)."""
    assert REQUEST_ID.search(text), f"no request id in {text!r}"
    return REQUEST_ID.sub("", text)


SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def validate_sarif(document: dict[str, Any]) -> None:
    """Validate against the OASIS schema (draft-04), formats included, as a SARIF consumer would."""
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    validator.validate(document)


class LastLine:
    """A provider error's last line (through `transform`), compared as the SDK in use can show it:
    `LastLine(error) == expected`.

    Newer pulumi SDKs send the traceback, whose last line is `module.Class: sentence`. Older ones (the lowest
    pulumi allowed, which .ci/run also tests) send grpc's `Exception calling application: sentence`, without
    the class: then only the sentence is compared.
    """

    OLD_SDK_PREFIX = "Exception calling application: "

    def __init__(self, error, transform=lambda line: line) -> None:
        self.line = transform(error.last_line)

    def __eq__(self, expected: object) -> bool:
        if not isinstance(expected, str):
            return NotImplemented
        if self.line.startswith(self.OLD_SDK_PREFIX):
            return self.line.removeprefix(self.OLD_SDK_PREFIX) == expected.split(": ", 1)[1]
        return self.line == expected

    def __repr__(self) -> str:
        return repr(self.line)


# What a Read of the default data's prod/team/web answers, under both API versions, as numbers cross gRPC.
EXPECTED_IMAGE_OUTPUTS = {
    "registry": "prod", "image_name": "team/web", "region": "KR",
    "description": "Storefront web frontend",
    "full_description": "Next.js storefront on Node 20, built by the web team's CI on every release. "
                        "Tags are immutable: a release tag always means the same image.",
    "pull_count": 1284.0, "tag_mutability_enabled": False,
    "last_updated": 1717400000000.0, "last_updated_at": "2024-06-03T07:33:20Z",
    "repository_url": "prod.kr.ncr.ntruss.com/team/web",
    # v3's image answer has no private id: the provider reads it from the registry, so this is the same too
    "private_repository_url": "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web",
}
