"""What the policy tests share: resources as programs declare them, the args pulumi_policy builds,
and the pack process driven over the Analyzer gRPC protocol as the engine drives it.

Its fixtures (`lookups`, `validate`, `pack_emulator`, `pack`) live in conftest.py and call the functions here.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from google.protobuf import json_format, struct_pb2
from helpers import NCP_ENV_VARS
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from ncr_provider.emulator import NcrEmulator
from ncr_provider.policy import (
    MUTABLE_TAGS_POLICY,
    REGISTERED_IMAGES_POLICY,
    UNCHECKED_IMAGES_POLICY,
    LookupCache,
    mutable_image_tags_policies,
)
from ncr_provider.testing import stop_process

PACK_DIR = Path(__file__).resolve().parent.parent / "examples" / "policy-pack"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONTAINER = "docker:index/container:Container"
# In the emulator's default data, prod/team/web has immutable tags and prod/team/api mutable ones.
IMMUTABLE = "prod.kr.ncr.ntruss.com/team/web:1.4.2"
MUTABLE = "prod.kr.ncr.ntruss.com/team/api:2.0.0"
CONTAINER_PATH = "spec.template.spec.containers[{}].image"


# --- resources as programs declare them ---

def deployment(*images: str, init_images: tuple[str, ...] = ()) -> dict:
    """A Kubernetes Deployment's inputs running these images."""
    def containers(names: tuple[str, ...], prefix: str) -> list[dict]:
        return [{"name": f"{prefix}{i}", "image": image} for i, image in enumerate(names)]

    pod = {"containers": containers(images, "c")}
    if init_images:
        pod["initContainers"] = containers(init_images, "init")
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "shop"}}, "spec": pod}}}


def docker_container(image: str, **extra: object) -> dict:
    """A `docker:index/container:Container`'s inputs."""
    return {"name": "shop", "image": image, "restart": "always", **extra}


def wire(props: dict) -> struct_pb2.Struct:
    """Properties as the engine marshals them (unknowns kept as their sentinel strings)."""
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def as_policy_sees(props: dict):
    """Properties exactly as pulumi_policy's Analyze hands them to `validate`."""
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(wire(props))))


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])  # parent: newer pulumi-policy only


def resource_args(props: dict, config: dict | None = None, type_: str = DEPLOYMENT,
                  name: str = "shop") -> ResourceValidationArgs:
    """The args pulumi_policy builds for one resource and one policy's config."""
    urn = f"urn:pulumi:dev::shop::{type_}::{name}"
    return ResourceValidationArgs(type_, as_policy_sees(props), urn, name, options(), None, config)  # stack_tags: newer pulumi-policy only


class Reports:
    """What a policy reported: blocking violations from the main policy, advisories from its companion."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.advisories: list[str] = []


# `python -m pulumi.policy` requires the engine's address as its first argument, but neither it
# nor pulumi_policy ever dials it: this pack never logs through the engine.
UNUSED_ENGINE_ADDRESS = "127.0.0.1:1"
PORT_TIMEOUT = 20.0


def pack_environment(emu: NcrEmulator, home: Path) -> dict[str, str]:
    """The environment the engine gives a policy pack (constructEnv), plus the user's NCP keys."""
    env = {k: v for k, v in os.environ.items() if k not in NCP_ENV_VARS and not k.startswith("PULUMI_")}
    env.update({
        "HOME": str(home),
        "PULUMI_CONFIG": "{}",
        "PULUMI_PROJECT": "shop",
        "PULUMI_STACK": "dev",
        "PULUMI_ORGANIZATION": "organization",
        "PULUMI_DRY_RUN": "true",
        "NCLOUD_ACCESS_KEY": emu.access_key,
        "NCLOUD_SECRET_KEY": emu.secret_key,
    })
    return env


def read_port(proc: subprocess.Popen, stderr_path: Path) -> int:
    """The first stdout line of a plugin is its port, as the engine reads it."""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + PORT_TIMEOUT
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = proc.stdout.readline().strip()
            if line:
                return int(line)
        if proc.poll() is not None:
            break
    raise AssertionError(f"policy pack printed no port; stderr:\n{stderr_path.read_text()}")


def configure(stub, emu: NcrEmulator, **properties: object) -> None:
    """Configure every policy as the engine does: each with its level, the main one with its properties."""
    main = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
    main.properties.update({"endpoint": emu.url, **properties})
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        MUTABLE_TAGS_POLICY: main,
        UNCHECKED_IMAGES_POLICY: analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY),
        REGISTERED_IMAGES_POLICY: analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY),
    }))


def analyze(stub, type_: str, props: dict, name: str = "shop") -> list[analyzer_pb2.AnalyzeDiagnostic]:
    urn = f"urn:pulumi:dev::shop::{type_}::{name}"
    request = analyzer_pb2.AnalyzeRequest(type=type_, name=name, urn=urn, properties=wire(props))
    return list(stub.Analyze(request, timeout=30).diagnostics)


def summary(diagnostics) -> list[tuple[str, int]]:
    return [(d.policyName, d.enforcementLevel) for d in diagnostics]


def validator(lookups: LookupCache):
    """Run the mutable-tags policy and its companion on one resource, in pack order."""
    main, companion = mutable_image_tags_policies(lookups=lookups)

    def run(args: ResourceValidationArgs) -> Reports:
        reports = Reports()
        main.validate(args, lambda message, urn=None: reports.violations.append(message))
        companion.validate(args, lambda message, urn=None: reports.advisories.append(message))
        return reports

    return run


def running_pack(emu: NcrEmulator, home: Path, **env: str) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """`examples/policy-pack` started as `pulumi-analyzer-policy-python` starts it (with `env` added to the
    environment the engine gives it), and a stub to drive it."""
    home.mkdir(exist_ok=True)
    stderr_path = home / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", UNUSED_ENGINE_ADDRESS, "."],
            cwd=PACK_DIR, env={**pack_environment(emu, home), **env},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
    try:
        port = read_port(proc, stderr_path)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=10)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        stop_process(proc)
