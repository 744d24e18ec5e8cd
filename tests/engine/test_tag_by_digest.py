"""NcrImageTag.image_ref_by_digest feeding a workload: a tag moved in NCR shows up as a change in the next preview."""

from __future__ import annotations

import pulumi
import pytest
from helpers import make_client

from ncr_provider import NcrImageTag
from ncr_provider.emulator import NcrEmulator
from ncr_provider.sites import TAG_TYPE_TOKEN

from .harness import ROOT, EngineStack
from .workload import WORKLOAD_TYPE, Workload

pytestmark = pytest.mark.engine

ACCESS_KEY = "TAGTESTACCESSKEY0000"
SECRET_KEY = "tag-test-secret-key-0123456789abcdef"
MOVED = "sha256:" + "5e" * 32


def program() -> None:
    tag = NcrImageTag("api", registry="prod", image_name="team/api", tag="build-144")  # a mutable repository
    Workload("api-deploy", image=tag.image_ref_by_digest)
    pulumi.export("image", tag.image_ref_by_digest)


def test_moving_the_tag_changes_the_workload_at_the_next_preview(engine_bin, tmp_path):
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        # the workload's module is imported by name in the provider server
        stack = EngineStack(engine_bin, tmp_path, project="ncr-tag-digest", program=program,
                            env={"PYTHONPATH": str(ROOT / "tests")})
        try:
            stack.use_emulator(emu)
            # given the workload deployed at the digest the tag points at
            with make_client(emu) as client:
                digest = client.get_tag("prod", "team/api", "build-144").digest
            up = stack.stack.up()
            assert up.outputs["image"].value == f"prod.kr.ncr.ntruss.com/team/api@{digest}"
            [workload] = stack.resources(WORKLOAD_TYPE)
            assert workload["outputs"]["image"] == f"prod.kr.ncr.ntruss.com/team/api@{digest}"
            # an unmoved tag: nothing to do
            assert stack.stack.preview().change_summary.get("update", 0) == 0

            # when the tag is moved in NCR
            emu.add_tag("prod", "team/api", "build-144", digest=MOVED)
            events: list = []
            preview = stack.stack.preview(on_event=events.append)

            # then the next preview updates the workload, to the new digest
            assert preview.change_summary.get("update") == 1
            steps = {m.type: m for m in (e.resource_pre_event.metadata for e in events if e.resource_pre_event)}
            assert steps[TAG_TYPE_TOKEN].op == "read"
            assert steps[WORKLOAD_TYPE].op == "update"
            assert steps[WORKLOAD_TYPE].new.inputs["image"] == f"prod.kr.ncr.ntruss.com/team/api@{MOVED}"
            stack.destroy()
        finally:
            stack.close()


def test_a_read_whose_id_is_unknown_at_preview_is_not_run_until_up(engine_bin, tmp_path):
    """The id comes from a resource still to be created: the preview cannot read it, `up` does."""

    def program() -> None:
        release = Workload("release", image="1.2.1")
        tag = NcrImageTag("web", registry="prod", image_name="team/web", tag=release.id.apply(lambda _: "1.2.1"))
        pulumi.export("digest", tag.digest)

    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        stack = EngineStack(engine_bin, tmp_path, project="ncr-unknown-id", program=program,
                            env={"PYTHONPATH": str(ROOT / "tests")})
        try:
            stack.use_emulator(emu)

            stack.stack.preview()
            assert emu.requests == []  # nothing to read yet: the id is unknown

            up = stack.stack.up()
            assert up.outputs["digest"].value.startswith("sha256:")
            assert [r.raw_path for r in emu.requests] == ["/ncr/api/v2/repositories/prod/team%2Fweb/tags/1.2.1"]
            stack.destroy()
        finally:
            stack.close()
