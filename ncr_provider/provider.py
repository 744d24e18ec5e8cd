"""NcrImageProvider: the dynamic provider behind NcrImage; it only reads NCR image details.

The Pulumi engine runs it in `python -u -m pulumi.dynamic`, a process it starts itself, after
unpickling it from the `__provider` property that every NcrImage carries in state. So the object
pickles as a bare reference to this class (no settings, no session, no secret), and everything
else lives in the provider process only: the stack config it is given by `configure`, the
resolved settings and one HTTP client per place, built on first use and shared by the
server's worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, ReadResult, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN

from .client import NcrClient
from .config import SETTINGS, SETTINGS_BY_NAME, Settings, resolve_settings, validate_endpoint, validate_region
from .errors import ConfigurationError, NcrError
from .model import ImageDetails
from .names import split_image_id, validate_image_name, validate_registry

# The provider server answers RPCs on 4 worker threads: more connections per host would never be used.
PROVIDER_SERVER_WORKERS = 4


class ReadOnlyError(NcrError):
    """Something asked NcrImage to create, update, delete or diff; it only ever reads."""

    fmt = ("NcrImage is read-only: it cannot {operation} an NCR image, it only reads an existing one "
           "(NcrImage(...) and NcrImage.get(...) register it as a read).")


class NcrImageProvider(ResourceProvider):
    """Reads one NCR image's details for NcrImage; pickles to a reference to this class only."""

    # The pickled object holds nothing (see __reduce__), so state need not hide it.
    serialize_as_secret_always = False

    client_options: ClassVar[Mapping[str, Any]] = MappingProxyType({"max_connections": PROVIDER_SERVER_WORKERS})
    """Keyword arguments for every NcrClient this provider builds (a subclass may change them)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._stack_config: dict[str, Any] = {}
        self._settings: dict[tuple[Any, Any], Settings] = {}
        self._clients: dict[tuple[str, str, str | None], NcrClient] = {}

    def __reduce__(self):
        # Unpickling calls the class afresh: the blob is 80 characters, and no lock, client or key ever enters state.
        return type(self), ()

    # -- configuration ----------------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's `ncloud:*` / `ncr:*` settings (secrets already decrypted) in this process only."""
        config = {s.pulumi_key: req.config.get(s.pulumi_key) for s in SETTINGS}
        with self._lock:
            self._stack_config = {key: value for key, value in config.items() if value is not None}
            self._settings.clear()
            self._clients.clear()

    def settings_for(self, region: Any = None, endpoint: Any = None) -> Settings:
        """Stack settings with one resource's region/endpoint overrides, resolved once per process."""
        key = (region, endpoint)
        with self._lock:
            settings = self._settings.get(key)
            if settings is None:
                settings = resolve_settings({"region": region, "endpoint": endpoint}, self._stack_config)
                self._settings[key] = settings
            return settings

    def client_for(self, settings: Settings) -> NcrClient:
        """The one client of this process for the settings' site, region and endpoint."""
        key = (settings.site, settings.region, settings.endpoint)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                require_credentials(settings)
                client = NcrClient(settings, **self.client_options)
                self._clients[key] = client
            return client

    # -- the read ---------------------------------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Fetch the image named by the id `registry/image_name`, in the resource's region if it sets one."""
        try:
            region, endpoint = optional_text(props, "region"), optional_text(props, "endpoint")
            registry, image_name = split_image_id(id_)
            settings = self.settings_for(region, endpoint)
            details = self.client_for(settings).get_image(registry, image_name)
        except NcrError as error:
            # The provider server sends traceback.format_exc() to the engine. Dropping the frames inside
            # the client keeps that traceback short; its last line is the error's own sentence.
            raise error.with_traceback(None) from None
        return ReadResult(id_, image_outputs(registry, image_name, settings.region, details, endpoint))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the inputs; each failure names its property."""
        failures = [CheckFailure(name, reason) for name, reason in self.input_problems(news)]
        return CheckResult(news, failures)

    def input_problems(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(property, reason) for every invalid input; values still unknown at preview are not judged."""
        problems = [(name, f"{name} is required") for name in ("registry", "image_name") if news.get(name) is None]
        for name in ("registry", "image_name", "region", "endpoint"):
            value = news.get(name)
            if value is None or value == UNKNOWN:
                continue
            reason = self.input_problem(name, value)
            if reason:
                problems.append((name, reason))
        return problems

    def input_problem(self, name: str, value: Any) -> str | None:
        """Why one input is invalid, or None."""
        if not isinstance(value, str):
            return f"{name} must be text, got {type(value).__name__}"
        try:
            if name == "registry":
                validate_registry(value)
            elif name == "image_name":
                validate_image_name(value)
            elif name == "region":
                self._validate_region(value)
            elif name == "endpoint":
                validate_endpoint(value)
        except NcrError as error:
            return str(error)
        return None

    def _validate_region(self, region: str) -> None:
        try:
            site = self.settings_for().site
        except NcrError:
            return  # the stack's own settings are broken: read() reports that, in one place
        validate_region(region, site)

    # -- what a read resource never does ----------------------------------------------------

    def create(self, props: dict[str, Any]):
        """Refused: NcrImage never creates an image."""
        raise ReadOnlyError(operation="create")

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]):
        """Refused: NcrImage never updates an image."""
        raise ReadOnlyError(operation="update")

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Refused: NcrImage never deletes an image."""
        raise ReadOnlyError(operation="delete")

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]):
        """Refused: only managed resources are diffed, and NcrImage is always a read."""
        raise ReadOnlyError(operation="diff")


def image_outputs(registry: str, image_name: str, region: str, details: ImageDetails,
                  endpoint_input: Any = None) -> dict[str, Any]:
    """The NcrImage outputs of one image; `region` is the region it was read in, `endpoint` is kept as given."""
    outputs = {
        "registry": registry,
        "image_name": image_name,
        "region": region,
        "description": details.description,
        "full_description": details.full_description,
        "pull_count": details.pull_count,
        "tag_mutability_enabled": details.tag_mutability_enabled,
        "last_updated": details.last_updated,
        "last_updated_at": details.last_updated_at,
        "namespace": details.namespace,
        "private_id": details.private_id,
    }
    if endpoint_input is not None:
        outputs["endpoint"] = endpoint_input
    return outputs


def optional_text(props: Mapping[str, Any], name: str) -> str | None:
    """An optional text input; anything else is a configuration error naming the input."""
    value = props.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(reason=f"The NcrImage input {name} must be text, got {type(value).__name__}")
    return value


def require_credentials(settings: Settings) -> None:
    """Raise one sentence saying exactly how to provide the missing keys in a Pulumi project."""
    missing = [SETTINGS_BY_NAME[name] for name in ("access_key", "secret_key") if not getattr(settings, name)]
    if not missing:
        return
    what = " and ".join(s.name.replace("_", " ") for s in missing)
    commands = " and ".join(
        f"`pulumi config set {'--secret ' if s.name == 'secret_key' else ''}{s.pulumi_key} <{s.name.replace('_', '-')}>`"
        for s in missing)
    env_vars = ("the environment variable " if len(missing) == 1 else "the environment variables ") + " and ".join(
        s.env_vars[0] for s in missing)
    profile_keys = " and ".join(str(s.profile_key) for s in missing)
    raise ConfigurationError(
        reason=f"No NCP {what} found: run {commands}, or set {env_vars}, "
               f"or add {profile_keys} to [{settings.profile}] in {settings.profile_file}.")
