"""Sentences a new user reads, as `ncr-image` prints them against the emulator: they name the site off the
public one, cut what they echo, say which option an emulator start failed on, and never print a `None`."""

from __future__ import annotations

import json
import os
import socket

import pytest
from cli_runner import run_cli
from helpers import NCP_ENV_VARS

from ncr_provider.signing import now_ms

MINUTE_MS = 60_000


def test_a_missing_gov_image_is_named_with_its_site(ncp_env):
    result = run_cli("get", "prod.ncr.gov-ntruss.com/team/web")
    assert result.returncode == 3
    assert "Image prod/team/web not found in region KR of site gov (HTTP 404" in result.stderr
    # and on the public site the sentence is as before
    public = run_cli("get", "prod/team/nope")
    assert "Image prod/team/nope not found in region KR (HTTP 404" in public.stderr


def test_a_gov_violation_line_names_the_site_as_the_table_does(ncp_env):
    ncp_env.add_image("gov-portal", "portal/api", tag_mutability_enabled=True)
    result = run_cli("check", "--require-immutable", "gov-portal.ncr.gov-ntruss.com/portal/api")
    assert result.returncode == 1
    assert "FAIL gov-portal/portal/api (gov/KR): tags are mutable: a pushed tag can be overwritten" in \
        result.stdout.splitlines()
    github = run_cli("check", "gov-portal.ncr.gov-ntruss.com/portal/api", "-o", "github")
    assert "gov-portal/portal/api (gov/KR): " in github.stdout


def test_a_huge_setting_is_cut_where_it_is_echoed(ncp_env, monkeypatch):
    monkeypatch.setenv("NCLOUD_REGION", "K" * 100_000)
    result = run_cli("get", "prod/team/web")
    assert result.returncode == 2
    assert "Unknown region 'KKKKKKKK" in result.stderr and "...' (100000 characters) for site public" in result.stderr
    assert len(result.stderr) < 300


def test_emulator_start_errors_name_the_address_and_option():
    env = {k: v for k, v in os.environ.items() if k not in NCP_ENV_VARS}
    unresolvable = run_cli("emulator", "--host", "no-such-host.invalid", env=env)
    assert unresolvable.returncode == 2
    assert unresolvable.stderr.startswith("ncr emulator: cannot resolve --host 'no-such-host.invalid': ")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("emulator", "--port", str(port), env=env)
    assert busy.returncode == 2
    assert busy.stderr == f"ncr emulator: cannot listen on 127.0.0.1:{port} (--host, --port): Address already in use\n"


def test_a_huge_emulator_option_is_cut_where_it_is_echoed():
    env = {k: v for k, v in os.environ.items() if k not in NCP_ENV_VARS}
    for option in ("--port", "--latency"):
        result = run_cli("emulator", option, "9" * 100_000, env=env)
        assert result.returncode == 2
        assert "...' (100000 characters)" in result.stderr and len(result.stderr) < 1000, option


def test_a_tag_dated_in_the_future_is_said_to_be(ncp_env):
    ncp_env.add_image("prod", "fresh/app", tag_mutability_enabled=False)
    ncp_env.add_tag("prod", "fresh/app", "ahead", last_updated=now_ms() + 60 * MINUTE_MS)
    result = run_cli("check", "--min-tag-age", "10", "prod.kr.ncr.ntruss.com/fresh/app:ahead", "-o", "json")
    assert result.returncode == 1
    [image] = json.loads(result.stdout)["images"]
    assert image["reason"].startswith("tag ahead is dated 60 minute(s) in the future (under 10; updated ")


def test_the_verbose_log_names_no_request_id_when_there_is_none(ncp_env):
    result = run_cli("-v", "get", "prod/team/web")
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if "/repositories/prod/team%2Fweb -> 200" in line]
    assert lines and all(line.endswith(f"(attempt 1, access key {ncp_env.access_key[:4]}****)") for line in lines)
    assert "None" not in result.stderr


def test_a_profile_without_the_named_section_says_which_sections_it_has(emulator, monkeypatch, tmp_path):
    for name in NCP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".ncloud").mkdir(parents=True)
    (home / ".ncloud" / "configure").write_text(
        "[DEFAULT]\nncloud_access_key_id = AKDEFAULTKEY\nncloud_secret_access_key = SKDEFAULTVALUE\n"
        "[staging]\nncloud_access_key_id = AKSTAGINGKEY\nncloud_secret_access_key = SKSTAGINGVALUE\n")
    monkeypatch.setenv("HOME", str(home))
    result = run_cli("get", "prod/team/web", "--profile", "nope", "--endpoint", emulator.url)
    assert result.returncode == 3
    assert result.stderr.rstrip().endswith(
        f"Profile file {home / '.ncloud' / 'configure'} has no section [nope]; its sections: [default], [staging].")
    assert "SKDEFAULTVALUE" not in result.stderr and "AKSTAGINGKEY" not in result.stderr
    assert emulator.requests == []


@pytest.mark.parametrize("option", ["--endpoint", "--region", "--site", "--profile", "--api-version", "--cache"])
def test_an_explicit_empty_setting_is_a_usage_error_naming_the_option(ncp_env, option):
    # given NCR_ENDPOINT (and the keys) in the environment, and `--endpoint "$UNSET"` on the command line
    result = run_cli("check" if option == "--cache" else "get", "prod/team/web", option, "")
    assert result.returncode == 2
    assert f"error: argument {option}: must not be empty (leave the option out to use the environment or the " \
           "default)" in result.stderr
    assert ncp_env.requests == []


def test_an_unbalanced_quote_in_the_profile_file_is_named_by_file_and_line(emulator, monkeypatch, tmp_path):
    for name in NCP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".ncloud").mkdir()
    (tmp_path / ".ncloud" / "configure").write_text(
        '[DEFAULT]\nncloud_access_key_id = AKQUOTEDKEY\nncloud_secret_access_key = "SKHALFQUOTED\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_cli("get", "prod/team/web", "--endpoint", emulator.url)
    assert result.returncode == 2
    assert f"Profile file {tmp_path / '.ncloud' / 'configure'} line 3: the value of ncloud_secret_access_key has an " \
           "unbalanced quote (a quoted value needs one at each end)" in result.stderr
    assert "SKHALFQUOTED" not in result.stderr and emulator.requests == []
