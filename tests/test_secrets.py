"""No secret leaks: every path a secret key travels, everything written captured, the key in none of it."""

from __future__ import annotations

import base64
import pickle
import traceback

import pytest
from helpers import FAST_OPTIONS, NCP_ENV_VARS, make_client
from secrets_helpers import ACCESS_KEY, MASKED, SECRET, WRONG_SECRET, Captured, cli_env, run_cli

from ncr_provider.emulator import NcrEmulator
from ncr_provider.errors import NcrError
from ncr_provider.provider import NcrImageProvider
from ncr_provider.sites import TAG_TYPE_TOKEN
from ncr_provider.testing import ProviderCallError, ProviderServer, provider_blob


def test_the_secret_key_reaches_nothing_written(log_records, capfd, tmp_path, monkeypatch):
    captured = Captured()
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET) as emulator:
        emulator.enqueue(status=503)  # one retried failure on the success path too

        # The client: success, missing image, wrong secret; reprs, errors, tracebacks, pickles.
        with make_client(emulator) as client:
            captured.add("client repr", repr(client))
            captured.add("settings repr", repr(client.settings))
            captured.add("details", client.get_image("prod", "team/web").to_dict())
            with pytest.raises(NcrError) as missing:
                client.get_image("prod", "no/such")
            captured.add_error("client missing image", missing.value)
            with pytest.raises(TypeError) as unpicklable:
                pickle.dumps(client)
            captured.add_error("client pickle", unpicklable.value)
        with make_client(emulator, {"secret_key": WRONG_SECRET}) as bad:
            with pytest.raises(NcrError) as auth:
                bad.get_image("prod", "team/web")
            captured.add_error("client auth failure", auth.value)

        # The provider, through its real gRPC server, as the engine drives it.
        server_env = {name: None for name in NCP_ENV_VARS} | {"HOME": str(tmp_path)}
        config = emulator.stack_config()
        blob = provider_blob(NcrImageProvider())
        captured.add("__provider blob decoded", base64.b64decode(blob))
        with ProviderServer(env=server_env) as server:
            captured.add("configure response", server.configure(config, secret_keys={"ncloud:secretKey"}))
            response = server.read_response("prod/team/web", {"registry": "prod", "image_name": "team/web"})
            captured.add("read response", response.SerializeToString())
            captured.add("read response text", response)
            tag_response = server.read_response("prod/team/web:1.2.1", {}, type_=TAG_TYPE_TOKEN)
            captured.add("tag read response", tag_response.SerializeToString())
            captured.add("image read with tags", server.read("prod/team/web", {"include_tags": True}))
            with pytest.raises(ProviderCallError) as read_missing:
                server.read("prod/no/such", {"registry": "prod", "image_name": "no/such"})
            captured.add("provider missing image", read_missing.value.details)
            captured.add("provider server stderr", server.stderr_text())
        with ProviderServer(env=server_env) as server:
            server.configure(config | {"ncloud:secretKey": WRONG_SECRET}, secret_keys={"ncloud:secretKey"})
            with pytest.raises(ProviderCallError) as read_auth:
                server.read("prod/team/web", {"registry": "prod", "image_name": "team/web"})
            captured.add("provider auth failure", read_auth.value.details)
            captured.add("provider server stderr (auth)", server.stderr_text())

        # The CLI in every output format, debug logging on, succeeding and failing.
        good, wrong = cli_env(emulator, SECRET), cli_env(emulator, WRONG_SECRET)
        for output in ("table", "json"):
            run_cli(captured, good, "get", "prod/team/web", "--output", output)
        run_cli(captured, good, "get", "prod/no/such")
        for output in ("table", "json", "github"):
            run_cli(captured, good, "check", "--require-immutable", "prod/team/web", "prod/team/api", "prod/none",
                    "--output", output)
            auth_failure = run_cli(captured, wrong, "check", "prod/team/web", "--output", output)
            assert auth_failure.returncode == 3
        run_cli(captured, wrong, "get", "prod/team/web")
        for secret_env in (good, wrong):
            run_cli(captured, secret_env, "tags", "prod/team/web", "--output", "json")
            run_cli(captured, secret_env, "resolve", "prod/team/web:1.2.1")
            run_cli(captured, secret_env, "check", "--max-tag-age", "30", "prod/team/web")
            # A private endpoint reference: the registry list is read (and rejected) on the way.
            run_cli(captured, secret_env, "check", "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web:1", "--output", "json")

        # The policy pack's checks, with the right and the wrong secret.
        from policy_helpers import MUTABLE, deployment, resource_args

        from ncr_provider.policy import LookupCache, mutable_image_tags_policies
        for secret in (SECRET, WRONG_SECRET):
            monkeypatch.setenv("NCLOUD_ACCESS_KEY", ACCESS_KEY)
            monkeypatch.setenv("NCLOUD_SECRET_KEY", secret)
            cache = LookupCache(options=FAST_OPTIONS)
            try:
                main, _ = mutable_image_tags_policies(lookups=cache)
                main.validate(resource_args(deployment(MUTABLE, "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web:1"),
                                            {"endpoint": emulator.url}),
                              lambda message, urn=None: captured.add("policy violation", message))
            finally:
                cache.close()

    for record in log_records:
        captured.add(f"log {record.name}", record.getMessage())
        if record.exc_info:
            captured.add(f"log {record.name} exc", "".join(traceback.format_exception(*record.exc_info)))
    out, err = capfd.readouterr()
    captured.add("test process stdout", out)
    captured.add("test process stderr", err)

    assert len(captured.items) > 40
    for secret in (SECRET, WRONG_SECRET):
        assert captured.containing(secret) == []
    assert captured.containing(ACCESS_KEY) == []
    # The access key does show, masked, where it helps: the authentication failures.
    masked = captured.containing(MASKED)
    assert "client auth failure str" in masked and "provider auth failure" in masked
    assert any(where.startswith("ncr-image check prod/team/web") for where in masked)
