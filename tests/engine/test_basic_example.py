"""The README's example program (examples/basic, the root Pulumi.yaml) through the real CLI, start to finish.

One stack goes through everything a user does, once (the CLI costs seconds per command): configure it with
`pulumi config set` as the README says, preview, up, up again, refresh, export, destroy. Each test below
then checks one promise against what that run recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from helpers import make_client

from ncr_provider.emulator import NcrEmulator
from ncr_provider.sites import IMAGE_TYPE_TOKEN as TYPE_TOKEN

from .harness import ROOT, EngineStack, program_from

pytestmark = pytest.mark.engine

PROJECT = "ncr-provider-demo"
ACCESS_KEY = "ENGINETESTACCESSKEY0"
SECRET_KEY = "engine-test-secret-key-do-not-leak-0123456789"
IMAGES = ["prod/team/web", "prod/hello/world"]


def root_project_yaml() -> str:
    """The root Pulumi.yaml as users run it, minus `main` (an inline program is its own main)."""
    text = (ROOT / "Pulumi.yaml").read_text()
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("main:"))


def image_export(emu: NcrEmulator, image_id: str) -> dict:
    """What the example exports for an image, computed from the emulator's own answer."""
    registry, _, name = image_id.partition("/")
    with make_client(emu) as client:
        details = client.get_image(registry, name)
    return {"description": details.description, "pull_count": details.pull_count,
            "tag_mutability_enabled": details.tag_mutability_enabled, "last_updated_at": details.last_updated_at,
            "region": "KR", "approved": True}


class Lifecycle:
    """What one run of the whole lifecycle left behind, for the tests to look at."""

    preview: object
    preview_ops: dict[str, str]
    up: object
    second_up: object
    refresh: object
    destroy: object
    state: dict
    expected: dict
    methods: set[str]
    request_paths: list[str]
    files: list[tuple[Path, str]]
    output: str
    config_runs: list
    check_result: object
    state_after_destroy: list


@pytest.fixture(scope="module")
def lifecycle(engine_bin, tmp_path_factory) -> Lifecycle:
    base = tmp_path_factory.mktemp("basic-example")
    record = Lifecycle()
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        stack = EngineStack(engine_bin, base, project=PROJECT, program=program_from(ROOT / "examples" / "basic"),
                            project_yaml=root_project_yaml())
        try:
            # Exactly the README's commands.
            record.config_runs = [
                stack.config_set("ncloud:accessKey", ACCESS_KEY),
                stack.config_set("ncloud:secretKey", SECRET_KEY, secret=True),
                stack.config_set("ncloud:region", "KR"),
                stack.config_set("ncr:endpoint", emu.url),
                stack.cli("config", "set", "--path", "images[0]", IMAGES[0]),
                stack.cli("config", "set", "--path", "images[1]", IMAGES[1]),
            ]
            record.expected = {image_id: image_export(emu, image_id) for image_id in IMAGES}
            emu.clear_requests()
            events: list = []
            record.preview = stack.stack.preview(on_event=events.append)
            record.preview_ops = {e.resource_pre_event.metadata.urn.rpartition("::")[2]: e.resource_pre_event.metadata.op
                                  for e in events if e.resource_pre_event is not None}
            record.up = stack.stack.up()
            record.second_up = stack.stack.up()
            record.refresh = stack.refresh()
            record.state = stack.export()
            export_file = base / "stack.json"
            export_file.write_text(json.dumps(record.state))
            env = {"NCLOUD_ACCESS_KEY": ACCESS_KEY, "NCLOUD_SECRET_KEY": SECRET_KEY, "PATH": "/usr/bin:/bin",
                   "HOME": str(base)}
            record.check_result = run_cli("check", "--require-immutable", "--from-stack", str(export_file),
                                          "--endpoint", emu.url, "--output", "json", env=env)
            record.destroy = stack.destroy()
            record.state_after_destroy = stack.resources()
            record.methods = {r.method for r in emu.requests}
            record.request_paths = [r.raw_path for r in emu.requests]
            record.files = list(stack.files_text())
            record.output = stack.command.all_output(but_show_secrets=True)
        finally:
            stack.close()
    return record


def test_preview_reads_every_image_and_up_exports_the_emulators_data(lifecycle):
    # then the preview ran a Read step for each image, and nothing else for them
    image_ops = {name: op for name, op in lifecycle.preview_ops.items() if name.startswith("prod-")}
    assert image_ops == {"prod-team-web": "read", "prod-hello-world": "read"}
    # and up exported exactly what the emulator holds
    outputs = {name: value.value for name, value in lifecycle.up.outputs.items()}
    assert {image_id: outputs[image_id] for image_id in IMAGES} == lifecycle.expected
    assert outputs["annotations"]["prod/team/web"]["ncr.ntruss.com/description"] == "Storefront web frontend"


def test_a_second_up_changes_nothing(lifecycle):
    # reads are not counted as changes: the stack itself is all there is, unchanged
    assert lifecycle.second_up.summary.resource_changes == {"same": 1}


def test_refresh_and_destroy_work_and_only_ever_get(lifecycle):
    assert lifecycle.refresh.result == "succeeded"
    assert lifecycle.destroy.result == "succeeded"
    assert lifecycle.state_after_destroy == []
    assert lifecycle.methods == {"GET"}
    # every request went to the KR prefix the configured region names
    assert lifecycle.request_paths
    assert [p for p in lifecycle.request_paths if not p.startswith("/ncr/api/v2/repositories")] == []


def test_the_secret_key_appears_nowhere(lifecycle):
    assert SECRET_KEY not in json.dumps(lifecycle.state)
    leaked = [str(path) for path, text in lifecycle.files if SECRET_KEY in text]
    assert leaked == []
    assert SECRET_KEY not in lifecycle.output
    # (the Automation API itself reads the config with --show-secrets to hand it to the inline program)
    assert SECRET_KEY not in lifecycle.check_result.stdout + lifecycle.check_result.stderr
    # and the config file holds it encrypted, as `--secret` promises
    config_files = [text for path, text in lifecycle.files if path.name == "Pulumi.dev.yaml"]
    assert config_files and "secure:" in config_files[0]


def test_provider_blob_is_small_and_stored_in_plain_text(lifecycle):
    images = [r for r in lifecycle.state["deployment"]["resources"] if r["type"] == TYPE_TOKEN]
    assert len(images) == 2
    for resource in images:
        for props in (resource["inputs"], resource["outputs"]):
            blob = props["__provider"]
            assert isinstance(blob, str), f"__provider is not plain text: {blob!r}"
            assert len(blob) <= 100
        assert resource.get("external") is True  # a read: the engine will never delete it


def test_stack_export_feeds_the_gate_the_same_images(lifecycle):
    result = lifecycle.check_result
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert sorted(item["image"] for item in document["images"]) == sorted(IMAGES)
    assert {item["verdict"] for item in document["images"]} == {"pass"}
    assert all(ref["origin"] != "argument" for item in document["images"] for ref in item["references"])
    # and the default provider's ciphertext ncloud:secretKey is credentials, not a reference left unchecked
    assert document["not_inspected"] == [] and document["summary"]["not_inspected"] == 0


def test_state_holds_the_access_key_as_plain_config_and_the_secret_key_only_as_ciphertext(lifecycle):
    # what the README says Pulumi stores: the default provider keeps the stack's config as its inputs
    providers = [r for r in lifecycle.state["deployment"]["resources"] if r["type"] == "pulumi:providers:pulumi-python"]
    assert providers
    for resource in providers:
        assert resource["inputs"]["ncloud:accessKey"] == ACCESS_KEY
        assert set(resource["inputs"]["ncloud:secretKey"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}
