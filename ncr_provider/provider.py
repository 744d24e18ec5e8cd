"""The dynamic providers behind NcrImage and NcrImageTag; they only read NCR.

The Pulumi engine runs them in `python -u -m pulumi.dynamic`, a process it starts itself, after
unpickling each from the `__provider` property its resources carry in state. So each object
pickles as a bare reference to its class (no settings, no session, no secret), and everything
else lives in the provider process only: the stack config it is given by `configure`, the
resolved settings and one HTTP client per place, built on first use and shared by the
server's worker threads. `NcrReadProvider` holds all of that; each subclass says only which
inputs it takes, how its id splits, and which outputs a read returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NoReturn

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, ReadResult, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN

from .client import ClientOptions, NcrClient
from .config import (
    SETTINGS,
    SETTINGS_BY_NAME,
    Settings,
    resolve_settings,
    validate_api_version,
    validate_endpoint,
    validate_region,
)
from .engine_config import check_config_reached
from .errors import ConfigurationError, NcrError
from .model import ImageDetails, PlatformImage, RegistryDetails, TagDetails
from .names import (
    digest_reference,
    private_repository_url,
    repository_url,
    split_image_id,
    split_selection_id,
    tag_reference,
    validate_image_name,
    validate_registry,
    validate_tag,
)
from .selection import SelectedTag, TagSelection, select_tag, selection_problems

log = logging.getLogger("ncr_provider.provider")

# The provider server answers RPCs on 4 worker threads: more connections per host would never be used.
PROVIDER_SERVER_WORKERS = 4


class ReadOnlyError(NcrError):
    """Something asked a read resource (NcrImage, NcrImageTag) to create, update, delete or diff; it only ever reads."""

    resource: str
    operation: str
    thing: str
    fmt: ClassVar[str] = ("{resource} is read-only: it cannot {operation} an NCR {thing}, it only reads an existing one "
           "({resource}(...) and {resource}.get(...) register it as a read).")


class NcrReadProvider(ResourceProvider):
    """What every read-only NCR provider shares: settings, lazily built clients, check, and refusing writes.

    A subclass names its resource and inputs, splits its id (`parse_id`) and reads (`fetch`).
    It pickles to a reference to its class only.
    """

    # The pickled object holds nothing (see __reduce__), so state need not hide it.
    serialize_as_secret_always = False

    client_options: ClassVar[ClientOptions] = ClientOptions(max_connections=PROVIDER_SERVER_WORKERS)
    """The options of every NcrClient this provider builds (a subclass may change them)."""

    resource: ClassVar[str]
    """The resource class this provider reads for, as error messages name it."""
    thing: ClassVar[str]
    """What the resource reads, in `it cannot create an NCR <thing>`."""
    required_inputs: ClassVar[tuple[str, ...]] = ("registry", "image_name")
    text_inputs: ClassVar[tuple[str, ...]] = ("registry", "image_name", "region", "endpoint", "api_version")
    flag_inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._stack_config: dict[str, Any] = {}
        self._settings: dict[tuple[Any, Any, Any], Settings] = {}
        self._clients: dict[tuple[str, str, str | None, str], NcrClient] = {}

    def __reduce__(self) -> tuple[type[NcrReadProvider], tuple[()]]:
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

    def settings_for(self, region: Any = None, endpoint: Any = None, api_version: Any = None) -> Settings:
        """Stack settings with one resource's region/endpoint/api_version overrides, resolved once per process."""
        key = (region, endpoint, api_version)
        with self._lock:
            settings = self._settings.get(key)
            if settings is None:
                settings = resolve_settings({"region": region, "endpoint": endpoint, "api_version": api_version},
                                            self._stack_config)
                self._settings[key] = settings
            return settings

    def client_for(self, settings: Settings) -> NcrClient:
        """The one client of this process for the settings' site, region, endpoint and API version."""
        key = (settings.site, settings.region, settings.endpoint, settings.api_version)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                require_credentials(settings)
                client = NcrClient(settings, self.client_options)
                self._clients[key] = client
            return client

    # -- the read ---------------------------------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Fetch what the id names, in the resource's region and endpoint if it sets them."""
        try:
            region, endpoint = self.optional_text(props, "region"), self.optional_text(props, "endpoint")
            api_version = self.optional_text(props, "api_version")
            names = self.parse_id(id_)
            with self._lock:
                configured = set(self._stack_config)
            check_config_reached(props, configured, self.resource)
            settings = self.settings_for(region, endpoint, api_version)
            outputs = self.fetch(self.client_for(settings), settings, names, props)
        except NcrError as error:
            # The provider server sends traceback.format_exc() to the engine. Dropping the frames inside
            # the client keeps that traceback short; its last line is the error's own sentence.
            raise error.with_traceback(None) from None
        if endpoint is not None:
            outputs["endpoint"] = endpoint  # kept as given
        if api_version is not None:
            outputs["api_version"] = api_version  # kept as given, like endpoint
        return ReadResult(id_, outputs)

    def parse_id(self, id_: str) -> tuple[Any, ...]:
        """The validated names in a resource id."""
        raise NotImplementedError

    def fetch(self, client: NcrClient, settings: Settings, names: tuple[str, ...],
              props: Mapping[str, Any]) -> dict[str, Any]:
        """Read what `names` names with `client`; the resource's outputs."""
        raise NotImplementedError

    def optional_text(self, props: Mapping[str, Any], name: str) -> str | None:
        return optional_text(props, name, self.resource)

    def optional_flag(self, props: Mapping[str, Any], name: str) -> bool:
        """An optional true/false input (default false); anything else is a configuration error naming the input.

        A value still unknown during preview counts as true: reading a little more keeps every output known.
        """
        value = props.get(name)
        if value == UNKNOWN:
            return True
        if value is not None and not isinstance(value, bool):
            raise ConfigurationError(reason=f"The {self.resource} input {name} must be true or false, "
                                            f"got {type(value).__name__}")
        return bool(value)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the inputs; each failure names its property."""
        failures = [CheckFailure(name, reason) for name, reason in self.input_problems(news)]
        return CheckResult(news, failures)

    def input_problems(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(property, reason) for every invalid input; values still unknown at preview are not judged."""
        problems = [(name, f"{name} is required") for name in self.required_inputs if news.get(name) is None]
        for name in (*self.text_inputs, *self.flag_inputs):
            value = news.get(name)
            if value is None or value == UNKNOWN:
                continue
            reason = self.input_problem(name, value)
            if reason:
                problems.append((name, reason))
        return problems

    def input_problem(self, name: str, value: Any) -> str | None:
        """Why one input is invalid, or None."""
        if name in self.flag_inputs:
            return None if isinstance(value, bool) else f"{name} must be true or false, got {type(value).__name__}"
        if not isinstance(value, str):
            return f"{name} must be text, got {type(value).__name__}"
        validators: dict[str, Callable[[str], object]] = {
            "registry": validate_registry, "image_name": validate_image_name, "tag": validate_tag,
            "region": self._validate_region, "endpoint": validate_endpoint, "api_version": self._validate_api_version,
        }
        try:
            validators[name](value)
        except NcrError as error:
            return str(error)
        return None

    def _validate_api_version(self, api_version: str) -> None:
        try:
            site = self.settings_for().site
        except NcrError:
            site = None  # the stack's own settings are broken: read() reports that, in one place
        validate_api_version(api_version, site)

    def _validate_region(self, region: str) -> None:
        try:
            site = self.settings_for().site
        except NcrError:
            return  # the stack's own settings are broken: read() reports that, in one place
        validate_region(region, site)

    # -- what a read resource never does ----------------------------------------------------

    def create(self, props: dict[str, Any]) -> NoReturn:
        """Refused: a read resource never creates anything."""
        raise self._read_only("create")

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> NoReturn:
        """Refused: a read resource never updates anything."""
        raise self._read_only("update")

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Refused: a read resource never deletes anything."""
        raise self._read_only("delete")

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> NoReturn:
        """Refused: only managed resources are diffed, and a read resource is always a read."""
        raise self._read_only("diff")

    def _read_only(self, operation: str) -> ReadOnlyError:
        return ReadOnlyError(resource=self.resource, operation=operation, thing=self.thing)


class NcrImageProvider(NcrReadProvider):
    """Reads one NCR image's details (and, with `include_tags`, its tag list) for NcrImage."""

    resource = "NcrImage"
    thing = "image"
    flag_inputs = ("include_tags",)

    def parse_id(self, id_: str) -> tuple[str, str]:
        return split_image_id(id_)

    def fetch(self, client: NcrClient, settings: Settings, names: tuple[str, ...],
              props: Mapping[str, Any]) -> dict[str, Any]:
        registry, image_name = names
        include_tags = self.optional_flag(props, "include_tags")
        outputs = read_image_outputs(client, settings, registry, image_name)
        if include_tags:
            outputs |= tag_list_outputs(client.list_tags(registry, image_name))
        return outputs


class NcrImageTagProvider(NcrReadProvider):
    """Reads one NCR image tag (its digest and platform images) for NcrImageTag: selected by name, by digest,
    or as the most recent tag (matching `tag_pattern`)."""

    resource = "NcrImageTag"
    thing = "image tag"
    required_inputs = ("registry", "image_name")
    text_inputs = ("registry", "image_name", "region", "endpoint", "api_version")

    def parse_id(self, id_: str) -> tuple[str, str, str | None, str | None]:
        return split_selection_id(id_)

    def input_problems(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The common checks, and exactly one way of selecting the tag (tag, digest or most_recent)."""
        return super().input_problems(news) + selection_problems(
            news.get("tag"), news.get("digest"), news.get("most_recent"), news.get("tag_pattern"), unknown=UNKNOWN)

    def fetch(self, client: NcrClient, settings: Settings, names: tuple[Any, ...],
              props: Mapping[str, Any]) -> dict[str, Any]:
        registry, image_name, tag, digest = names
        selection = self.selection_from(tag, digest, props)
        return tag_outputs(registry, image_name, settings, select_tag(client, registry, image_name, selection),
                           selection)

    def selection_from(self, tag: str | None, digest: str | None, props: Mapping[str, Any]) -> TagSelection:
        """The selection an id names: `:tag`, `@digest`, or neither (the most recent, which the inputs must ask for)."""
        pattern = props.get("tag_pattern")
        if tag is None and digest is None:
            if props.get("most_recent") is not True:
                raise ConfigurationError(
                    reason="The NcrImageTag id 'registry/image' names no tag: add ':tag' or '@digest', "
                           "or set most_recent=True")
            problems = selection_problems(most_recent=True, tag_pattern=pattern)
            if problems:
                raise ConfigurationError(reason=f"Invalid NcrImageTag input {problems[0][0]}: {problems[0][1]}")
            return TagSelection(most_recent=True, tag_pattern=pattern)
        if pattern is not None or props.get("most_recent") is True:
            raise ConfigurationError(
                reason=f"The NcrImageTag id names its {'tag' if tag else 'digest'}: most_recent and tag_pattern "
                       "select the tag instead of one, give one or the other")
        return TagSelection(tag=tag, digest=digest)


class NcrRegistryProvider(NcrReadProvider):
    """Reads one NCR registry's settings and endpoints for NcrRegistry (from the region's registry list)."""

    resource = "NcrRegistry"
    thing = "registry"
    required_inputs = ("name",)
    text_inputs = ("name", "region", "endpoint", "api_version")

    def input_problem(self, name: str, value: Any) -> str | None:
        if name == "name" and isinstance(value, str):
            try:
                validate_registry(value, "name")
            except NcrError as error:
                return str(error)
            return None
        return super().input_problem(name, value)

    def parse_id(self, id_: str) -> tuple[str]:
        return (validate_registry(id_, "id"),)

    def fetch(self, client: NcrClient, settings: Settings, names: tuple[str, ...],
              props: Mapping[str, Any]) -> dict[str, Any]:
        return registry_outputs(settings.region, client.get_registry(names[0]))


def image_outputs(registry: str, image_name: str, region: str, details: ImageDetails,
                  endpoint_input: Any = None, site: str = "public", private_id: str | None = None) -> dict[str, Any]:
    """The NcrImage outputs of one image; `region` (and `site`) where it was read, `endpoint` is kept as given.

    `private_id` (default: the image answer's) makes `private_repository_url`; the `private_id` output is
    always the image answer's own (API v2 only).
    """
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
        "repository_url": repository_url(registry, image_name, region, site),
        "private_repository_url": private_repository_url(
            details.private_id if private_id is None else private_id, image_name, region, site),
        "last_pulled": details.last_pulled,
        "last_pulled_at": details.last_pulled_at,
    }
    if endpoint_input is not None:
        outputs["endpoint"] = endpoint_input
    return outputs


def read_image_outputs(client: NcrClient, settings: Settings, registry: str, image_name: str) -> dict[str, Any]:
    """Read one image and make its NcrImage outputs (NcrImage and get_image share this)."""
    details = client.get_image(registry, image_name)
    private_id = details.private_id if details.private_id is not None else registry_private_id(client, registry)
    return image_outputs(registry, image_name, settings.region, details, site=settings.site, private_id=private_id)


def registry_private_id(client: NcrClient, registry: str) -> str | None:
    """The registry's private endpoint id, for an image answer that carries none (API v3's getImage).

    Only `private_repository_url` depends on it, so a failure to read it costs that output (None, with a
    warning), never the read.
    """
    try:
        return client.get_registry(registry).private_id
    except NcrError as error:
        log.warning("private_repository_url of registry %s left unset: %s", registry, error)
        return None


def tag_list_outputs(tags: list[TagDetails]) -> dict[str, Any]:
    """NcrImage's `include_tags` outputs from a tag list already newest first."""
    names = [tag.name for tag in tags if tag.name is not None]
    return {"include_tags": True, "tags": names, "latest_tag": names[0] if names else None}


def tag_outputs(registry: str, image_name: str, settings: Settings, selected: SelectedTag,
                selection: TagSelection | None = None) -> dict[str, Any]:
    """The NcrImageTag outputs of a selected tag read with `settings` (their region and site make the Docker host)."""
    details, region, site = selected.details, settings.region, settings.site
    outputs = {
        "registry": registry,
        "image_name": image_name,
        "tag": selected.tag,
        "region": region,
        "digest": selected.digest,
        "full_size": details.full_size,
        "last_updated": details.last_updated,
        "last_updated_at": details.last_updated_at,
        "platforms": [platform_output(registry, image_name, p, region, site) for p in details.platforms],
        "image_ref": tag_reference(registry, image_name, selected.tag, region, site),
        "image_ref_by_digest": digest_reference(registry, image_name, selected.digest, region, site),
        "tags": None if selected.tags is None else list(selected.tags),
    }
    if selection is not None and selection.most_recent:
        outputs["most_recent"] = True
        outputs["tag_pattern"] = selection.tag_pattern
    return outputs


def platform_output(registry: str, image_name: str, platform: PlatformImage, region: str,
                    site: str = "public") -> dict[str, Any]:
    """One platform image as a dict, with its own pullable by-digest reference (None if NCR gave no digest)."""
    out = platform.to_dict()
    out["image_ref_by_digest"] = (None if platform.digest is None
                                  else digest_reference(registry, image_name, platform.digest, region, site))
    return out


def registry_outputs(region: str, details: RegistryDetails) -> dict[str, Any]:
    """The NcrRegistry outputs of one registry, and the region it was read in."""
    return {"region": region, **details.to_dict()}


def optional_text(props: Mapping[str, Any], name: str, resource: str = "NcrImage") -> str | None:
    """An optional text input; anything else is a configuration error naming the input."""
    value = props.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(reason=f"The {resource} input {name} must be text, got {type(value).__name__}")
    return value


def require_credentials(settings: Settings) -> None:
    """Raise one sentence saying exactly how to provide the missing keys in a Pulumi project."""
    if settings.credentials_problem:  # half a pair, or a profile file that cannot be read
        raise ConfigurationError(reason=settings.credentials_problem)
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
