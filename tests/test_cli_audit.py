"""`ncr-image audit`, run as a separate process against the emulator (and once in-process for counting)."""

from __future__ import annotations

import json

import pytest
from cli_runner import run_cli

from ncr_provider.cli import main
from ncr_provider.emulator import NcrEmulator
from ncr_provider.signing import now_ms

DAY_MS = 24 * 60 * 60 * 1000


@pytest.fixture
def account(monkeypatch):
    """An emulator holding two registries of three images: `safe` all immutable, `loose` with one mutable image."""
    with NcrEmulator(data={"registries": []}) as emu:
        emu.add_registry("safe", scan_on_push_enabled=True)
        emu.add_registry("loose", scan_on_push_enabled=False)
        for n in range(3):
            emu.add_image("safe", f"app/s{n}", tag_mutability_enabled=False, pull_count=n)
            emu.add_tag("safe", f"app/s{n}", "1.0", last_updated=now_ms() - 2 * DAY_MS)
        emu.add_image("loose", "web", tag_mutability_enabled=True)
        emu.add_image("loose", "api", tag_mutability_enabled=False)
        emu.add_tag("loose", "api", "old", last_updated=now_ms() - 90 * DAY_MS)
        emu.add_image("loose", "fresh", tag_mutability_enabled=False)
        emu.add_tag("loose", "fresh", "new", last_updated=now_ms())
        monkeypatch.setenv("NCLOUD_ACCESS_KEY", emu.access_key)
        monkeypatch.setenv("NCLOUD_SECRET_KEY", emu.secret_key)
        monkeypatch.setenv("NCR_ENDPOINT", emu.url)
        emu.clear_requests()
        yield emu


def audit_json(*args: str) -> tuple[int, dict]:
    result = run_cli("audit", "-o", "json", *args)
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def test_audit_of_every_registry_judges_each_image_like_check_require_immutable(account):
    code, doc = audit_json()

    assert code == 1
    verdicts = {i["image"]: i["verdict"] for i in doc["images"]}
    assert verdicts == {"loose/api": "pass", "loose/fresh": "pass", "loose/web": "violation",
                        "safe/app/s0": "pass", "safe/app/s1": "pass", "safe/app/s2": "pass"}
    scan = {i["image"]: i["registry_scan_on_push"] for i in doc["images"]}
    assert scan["loose/web"] is False and scan["safe/app/s0"] is True
    assert [r["name"] for r in doc["registries"]] == ["loose", "safe"]
    assert doc["summary"] == {"registries": 2, "images": 6, "references": 6, "passed": 5, "violations": 1,
                              "errors": 0, "not_inspected": 0, "exit_code": 1}
    # One registry list, one image list per registry, one detail read per image: nothing read twice.
    paths = [r.raw_path for r in account.requests]
    assert len(paths) == 1 + 2 + 6 == len(set(paths))


def test_audit_table_shows_mutability_last_push_pulls_and_scan_on_push(account):
    result = run_cli("audit", "--registry", "safe")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "REGION", "TAGS", "LAST", "PUSH", "PULLS", "SCAN", "ON", "PUSH", "RESULT"]
    assert lines[1].split()[:3] == ["safe/app/s0", "KR", "immutable"]
    assert lines[3].split()[4:9] == ["2", "on", "PASS", "tags", "are"]
    assert lines[-1] == "1 registry audited: 3 images, 3 passed, 0 violations, 0 could not be checked."
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_max_tag_age_fails_an_image_whose_newest_tag_is_old_or_missing(account):
    code, doc = audit_json("--registry", "loose", "--max-tag-age", "30")

    assert code == 1
    reasons = {i["image"]: (i["verdict"], i["reason"]) for i in doc["images"]}
    assert reasons["loose/api"][0] == "violation" and "newest tag old is 90 days old" in reasons["loose/api"][1]
    assert reasons["loose/fresh"][0] == "pass"
    assert reasons["loose/web"][0] == "violation"  # mutable first: its first reason is the one to fix


def test_a_named_registry_that_does_not_exist_is_a_violation(account):
    code, doc = audit_json("--registry", "safe", "--registry", "gone")

    assert code == 1
    [missing] = [i for i in doc["images"] if i["registry"] == "gone"]
    assert (missing["verdict"], missing["reason"]) == ("violation", "registry not found")
    assert missing["error"]["message"] == "Registry gone not found in region KR."


def test_an_image_list_that_fails_is_could_not_be_checked_exit_3(account):
    account.enqueue(status=200, body={"count": 1, "next": None, "results": [{"name": "safe"}]})
    account.enqueue(status=500, body=None)  # the image list, and its retries
    account.enqueue(status=500, body=None)
    account.enqueue(status=500, body=None)
    account.enqueue(status=500, body=None)

    code, doc = audit_json("--registry", "safe")

    assert code == 3
    assert doc["images"][0]["verdict"] == "error"
    assert doc["images"][0]["reason"] == "its images could not be listed (HTTP 500)"


def test_github_output_annotates_each_violation(account):
    result = run_cli("audit", "-o", "github")

    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "loose/web" in errors[0] and "tags are mutable" in errors[0]
    assert result.stdout.splitlines()[-1].startswith("ncr-image audit: 2 registries audited: 6 images, 5 passed")


@pytest.mark.parametrize(("args", "message"), [
    (["--registry", "Bad_Name"], "Invalid --registry 'Bad_Name'"),
    (["--registry", "a/b"], "Invalid --registry 'a/b'"),
    (["--concurrency", "0"], "must be at least 1"),
    (["--max-tag-age", "x"], "expected a whole number"),
    (["-o", "sarif"], "invalid choice: 'sarif'"),
])
def test_bad_usage_exits_2_and_sends_nothing(account, args, message):
    result = run_cli("audit", *args)

    assert result.returncode == 2
    assert message in result.stderr
    assert account.requests == []


def test_missing_credentials_exit_3_before_any_request(account, monkeypatch):
    monkeypatch.delenv("NCLOUD_SECRET_KEY")

    result = run_cli("audit")

    assert result.returncode == 3
    assert "secret key" in result.stderr
    assert account.requests == []


def test_lookups_run_concurrently_over_one_pool(account, capsys):
    """In-process, so the emulator can count: with latency, 16 images at concurrency 8 overlap on few connections."""
    for n in range(16):
        account.add_image("safe", f"many/m{n}", tag_mutability_enabled=False)
    account.latency = 0.02
    account.clear_requests()

    code = main(["audit", "--registry", "safe", "--concurrency", "8", "-o", "json"])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["passed"] == 19
    assert account.connections <= 8


def test_progress_bar_appears_on_a_terminal_and_is_erased_before_the_report(account):
    from cli_runner import run_cli_on_terminal

    # given an emulator slow enough for the bar to show, and stderr attached to a terminal
    account.latency = 0.6
    returncode, stdout, shown = run_cli_on_terminal("audit", "--registry", "safe", timeout=60)
    assert returncode == 0
    assert b"\rauditing images: [" in shown and b"/3" in shown
    assert shown.endswith(b"\r\x1b[K")
    assert stdout.splitlines()[-1] == "1 registry audited: 3 images, 3 passed, 0 violations, 0 could not be checked."
