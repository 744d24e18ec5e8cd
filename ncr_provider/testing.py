"""Drive NcrImage, NcrImageTag and NcrRegistry the way the Pulumi engine does, without the Pulumi CLI: for our tests,
benchmarks and yours.

Level 2, the provider protocol: `ProviderServer` starts `python -u -m pulumi.dynamic` exactly as the
engine does, reads its port, and calls `Configure`, `Read` and `Check` over gRPC with properties
serialized by the SDK's own `rpc.serialize_properties`.

Level 3, whole programs: `ProviderMocks` is a `pulumi.runtime.Mocks` that forwards every NcrImage,
NcrImageTag and NcrRegistry read to such a server, so a program runs in-process with real reads; `use_mocks` installs it (and
restores the runtime afterwards) and `run_program` runs a program and returns its stack exports.

Testing your own program against the local emulator:

    from ncr_provider.emulator import NcrEmulator
    from ncr_provider.testing import ProviderMocks, ProviderServer, run_program, use_mocks

    with NcrEmulator() as emu, ProviderServer() as server:
        server.configure({"ncloud:accessKey": emu.access_key, "ncloud:secretKey": emu.secret_key,
                          "ncr:endpoint": emu.url})
        with use_mocks(ProviderMocks(server), project="my-project",
                       config={"my-project:images": '["prod/team/web"]'}):
            exports = run_program("path/to/program/")
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
import queue
import runpy
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import IO, Any, cast

import grpc
import pulumi
import pulumi.runtime
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pulumi.runtime.settings import get_root_resource, reset_options

from .provider import NcrImageProvider, NcrImageTagProvider, NcrReadProvider, NcrRegistryProvider
from .sites import IMAGE_TYPE_TOKEN, REGISTRY_TYPE_TOKEN, TAG_TYPE_TOKEN

PROVIDER_KEY = "__provider"

READ_TYPES: Mapping[str, type[NcrReadProvider]] = {
    IMAGE_TYPE_TOKEN: NcrImageProvider, TAG_TYPE_TOKEN: NcrImageTagProvider, REGISTRY_TYPE_TOKEN: NcrRegistryProvider}
"""The type token of each read resource, and the provider class behind it."""


def provider_blob(provider: pulumi.dynamic.ResourceProvider | None = None) -> str:
    """The `__provider` value the SDK stores for a provider (default: NcrImageProvider()), a plain string."""
    return serialize_provider(provider if provider is not None else NcrImageProvider())


def serialize(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Properties as the SDK puts them on the wire; callable from any thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # A private loop, never installed as the thread's loop: Pulumi's own loop (mocks) stays untouched.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
        finally:
            loop.close()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop already runs on this thread
        return pool.submit(serialize, props).result()


def deserialize(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Wire properties back to plain Python values, as the SDK reads them (numbers are floats)."""
    return rpc.deserialize_properties(struct)


def secret(value: Any) -> dict[str, Any]:
    """A value wrapped as a secret on the wire, as the engine may send secret config."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


class ProviderCallError(Exception):
    """A gRPC call to the provider server failed; `details` is what the engine would show the user."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str):
        self.method = method
        self.code = code
        self.details = details
        super().__init__(f"{method} failed with {code.name}: {self.last_line}")

    @property
    def last_line(self) -> str:
        """The last line of the details: for a Python traceback, the exception and its message."""
        lines = self.details.strip().splitlines()
        return lines[-1] if lines else ""


class ProviderServer:
    """The dynamic provider server, started as the engine starts it, and a gRPC client for it."""

    def __init__(self, env: Mapping[str, str | None] | None = None, *, python: str = sys.executable,
                 startup_timeout: float = 30.0, urn_prefix: str = "urn:pulumi:stack::project"):
        """`env` overrides the inherited environment; a None value removes a variable."""
        self.env = dict(env or {})
        self.python = python
        self.startup_timeout = startup_timeout
        self.urn_prefix = urn_prefix
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._blobs: dict[str, str] = {}

    # -- lifecycle --

    def __enter__(self) -> ProviderServer:
        return self if self._process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> ProviderServer:
        """Start the server process, read its port from stdout, and connect."""
        if self._process is not None:
            raise RuntimeError("The provider server is already running")
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None}}
        for name in (k for k, v in self.env.items() if v is None):
            env.pop(name, None)
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen([self.python, "-u", "-m", "pulumi.dynamic"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        # Should close() never be called, the process still ends with this interpreter.
        weakref.finalize(self, stop_process, self._process)
        try:
            self.port = self._read_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        except BaseException:
            self.close()
            raise
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def _read_port(self) -> int:
        lines: queue.Queue[bytes] = queue.Queue()

        def pump(stream: IO[bytes]) -> None:
            # First line: the port. Keep draining afterwards so a chatty provider never blocks on a full pipe.
            for line in iter(stream.readline, b""):
                lines.put(line)
            lines.put(b"")

        assert self._process is not None and self._process.stdout is not None
        threading.Thread(target=pump, args=(self._process.stdout,), daemon=True, name="provider-stdout").start()
        try:
            first = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            raise RuntimeError(f"The provider server printed no port within {self.startup_timeout:g}s") from None
        if not first.strip().isdigit():
            raise RuntimeError(f"The provider server did not start: {first!r} {self.stderr_text()[-2000:]}")
        return int(first)

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (None before start and after close)."""
        return None if self._process is None else self._process.pid

    def close(self) -> None:
        """Close the channel and stop the process."""
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_text(self) -> str:
        """What the server wrote on stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    # -- the RPCs --

    @property
    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        """The raw gRPC stub, for calls this class does not wrap."""
        if self._stub is None:
            raise RuntimeError("The provider server is not running: use it in a with block or call start()")
        return self._stub

    @property
    def blob(self) -> str:
        """The default `__provider` value: a serialized NcrImageProvider()."""
        return self.blob_for(IMAGE_TYPE_TOKEN)

    def blob_for(self, type_: str) -> str:
        """The `__provider` value of a read resource type: its serialized provider."""
        if type_ not in self._blobs:
            self._blobs[type_] = provider_blob(READ_TYPES[type_]())
        return self._blobs[type_]

    def urn(self, name: str, type_: str = IMAGE_TYPE_TOKEN) -> str:
        return f"{self.urn_prefix}::{type_}::{name}"

    def call(self, method: str, request: Any) -> Any:
        """One RPC by name; a gRPC error becomes ProviderCallError."""
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as error:
            raise ProviderCallError(method, error.code(), error.details() or "") from None

    def configure(self, config: Mapping[str, Any], secret_keys: Collection[str] = ()) -> provider_pb2.ConfigureResponse:
        """Send the stack config (namespaced keys such as `ncloud:accessKey`); `secret_keys` go secret-wrapped."""
        args = {key: secret(value) if key in secret_keys else value for key, value in config.items()}
        return self.call("Configure", provider_pb2.ConfigureRequest(args=serialize(args), acceptSecrets=True,
                                                                    acceptResources=True))

    def read_request(self, id_: str, inputs: Mapping[str, Any], provider_blob: str | None = None,
                     name: str = "image", type_: str = IMAGE_TYPE_TOKEN) -> provider_pb2.ReadRequest:
        """The ReadRequest of a read resource: its registered properties as both state and inputs."""
        props = serialize({**inputs, PROVIDER_KEY: provider_blob or self.blob_for(type_)})
        return provider_pb2.ReadRequest(id=id_, urn=self.urn(name, type_), name=name, type=type_,
                                        properties=props, inputs=props)

    def read_response(self, id_: str, inputs: Mapping[str, Any], provider_blob: str | None = None,
                      name: str = "image", type_: str = IMAGE_TYPE_TOKEN) -> provider_pb2.ReadResponse:
        """Read, returning the raw ReadResponse."""
        return self.call("Read", self.read_request(id_, inputs, provider_blob, name, type_))

    def read(self, id_: str, inputs: Mapping[str, Any], provider_blob: str | None = None,
             name: str = "image", type_: str = IMAGE_TYPE_TOKEN) -> tuple[str, dict[str, Any]]:
        """Read; returns (id, outputs) with the outputs as the engine receives them, minus `__provider`."""
        response = self.read_response(id_, inputs, provider_blob, name, type_)
        outputs = deserialize(response.properties)
        outputs.pop(PROVIDER_KEY, None)
        return response.id, outputs

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any], provider_blob: str | None = None,
              name: str = "image", type_: str = IMAGE_TYPE_TOKEN) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Check; returns (inputs, [(property, reason), ...])."""
        blob = provider_blob or self.blob_for(type_)
        request = provider_pb2.CheckRequest(urn=self.urn(name, type_), name=name, type=type_,
                                            olds=serialize({**olds, PROVIDER_KEY: blob}),
                                            news=serialize({**news, PROVIDER_KEY: blob}))
        response = self.call("Check", request)
        inputs = deserialize(response.inputs)
        inputs.pop(PROVIDER_KEY, None)
        return inputs, [(failure.property, failure.reason) for failure in response.failures]


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """End a server process started for a test (politely first) and close its pipe; harmless if already done."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


class ProviderMocks(pulumi.runtime.Mocks):
    """Pulumi mocks that send every NcrImage, NcrImageTag and NcrRegistry read to a real provider server; other
    resources go to `fallback`."""

    def __init__(self, server: ProviderServer, fallback: pulumi.runtime.Mocks | None = None):
        self.server = server
        self.fallback = fallback
        self.reads: list[tuple[str, str]] = []
        """(resource name, id) of every read forwarded, in order."""
        self.skipped_reads: list[str] = []
        """Names of the reads not run because their id was still unknown (previews only), in order."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ in READ_TYPES and args.resource_id == rpc.UNKNOWN:
            # As the engine does in a preview: a read whose id is not known yet is not run, and its outputs stay
            # unknown (`up` reads it once the id is known). Forwarding the placeholder id would fail the read.
            self.skipped_reads.append(args.name)
            return None, {}
        if args.typ in READ_TYPES and args.resource_id:
            inputs = dict(args.inputs)
            blob = rpc.unwrap_rpc_secret(inputs.pop(PROVIDER_KEY, None))
            self.reads.append((args.name, args.resource_id))
            return self.server.read(args.resource_id, inputs, blob, name=args.name, type_=args.typ)
        if self.fallback is not None:
            return self.fallback.new_resource(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if self.fallback is not None:
            return self.fallback.call(args)
        return {}, None


@contextlib.contextmanager
def use_mocks(mocks: pulumi.runtime.Mocks, *, project: str = "project", stack: str = "stack",
              config: Mapping[str, str] | None = None, preview: bool = False) -> Iterator[pulumi.runtime.Mocks]:
    """Run the enclosed code under `mocks` with this stack config (`project:key` -> text); restore the runtime after."""
    reset_options(project=project, stack=stack)  # also forgets the previous root stack and its exports
    set_all_config(dict(config or {}), [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview)
    try:
        yield mocks
    finally:
        set_all_config({}, [])
        reset_options()
        # A failed program leaves output futures whose exceptions nobody retrieved. Collect them here: run later at
        # a random point, their finalizers can land inside ast.parse and trip CPython's check (python/cpython#106905).
        gc.collect()


def run_program(program: str | os.PathLike[str] | Callable[[], Any]) -> dict[str, Any]:
    """Run a Pulumi program (its directory, a file, or a function) under the current mocks; return its exports.

    Export values come back resolved (plain values); an exception raised by the program or by one
    of its applies is raised here.
    """
    exports: dict[str, Any] = {}

    def body() -> pulumi.Output[None]:
        if callable(program):
            program()
        else:
            runpy.run_path(os.fspath(program), run_name="__main__")
        root = get_root_resource()
        if root is None:
            raise RuntimeError("run_program needs Pulumi mocks: call it inside use_mocks(...)")
        return pulumi.Output.from_input(dict(cast(Any, root).outputs)).apply(exports.update)  # the stack: a Resource with outputs

    try:
        pulumi.runtime.test(body)()
    except BaseException:
        _mark_failed_futures_retrieved()
        raise
    return exports


def _mark_failed_futures_retrieved() -> None:
    """Mark a failed program's output futures as seen: its failure reaches the caller once, from run_program.

    Otherwise each of them logs "Future exception was never retrieved" when finally collected,
    which may be at interpreter exit or inside pytest's ast.parse (python/cpython#106905).
    """
    loop = asyncio.get_event_loop_policy().get_event_loop()
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.get_loop() is loop and obj.done() and not obj.cancelled():
            obj.exception()  # the documented way to retrieve it
