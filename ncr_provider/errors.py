"""Every error ncr_provider raises: one base class, each error's fields declared, its message one template.

Each error is a keyword-only dataclass (NcrError makes every subclass one): its fields are typed attributes a type checker sees
(`error.status`), its message is `fmt` filled from them (and from properties such as `code_text`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, dataclass_transform


@dataclass_transform(kw_only_default=True, eq_default=False)
@dataclasses.dataclass(eq=False, repr=False, kw_only=True)
class NcrError(Exception):
    """Base class of every error raised by ncr_provider; each subclass is made a keyword-only dataclass."""

    fmt: ClassVar[str] = "An unspecified NCR error occurred"

    def __init_subclass__(cls, init: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # In place, so a subclass needs no decorator. `init=False` (a class keyword) keeps an inherited
        # __init__, as InvalidNameError's positional one for its subclasses.
        dataclasses.dataclass(eq=False, repr=False, kw_only=True, init=init)(cls)

    def __post_init__(self) -> None:
        super().__init__(self.fmt.format_map(_Fields(self)))

    # dataclass's repr would show every field; an exception reads best as its message.
    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def fields(self) -> dict[str, Any]:
        """The declared fields and their values (what rebuilds the error)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.fields())

    @property
    def message(self) -> str:
        return str(self)


class _Fields(dict[str, Any]):
    """The names a template may use: the error's fields and properties."""

    def __init__(self, error: NcrError):
        super().__init__()
        self._error = error

    def __missing__(self, key: str) -> Any:
        return getattr(self._error, key)


def _rebuild(cls: type[NcrError], fields: dict[str, Any]) -> NcrError:
    return cls(**fields)


class _InPlace:
    """An error about something in one region of one site: `region KR`, or `region KR of site gov` off the
    public site (the same name on site gov is another registry)."""

    region: str
    site: str

    @property
    def place(self) -> str:
        return f"region {self.region}" if self.site == "public" else f"region {self.region} of site {self.site}"


class ConfigurationError(NcrError):
    """A setting is missing or invalid."""

    fmt: ClassVar[str] = "{reason}"
    reason: str


class InvalidNameError(NcrError, init=False):
    """A registry, image or reference name breaks the name rules; nothing was sent."""

    fmt: ClassVar[str] = "Invalid {field} {shown}: {reason}"
    field: str
    value: str
    reason: str

    def __init__(self, field: str, value: str, reason: str):
        self.field, self.value, self.reason = field, value, reason
        self.__post_init__()

    @property
    def shown(self) -> str:
        return shorten(self.value)


class UnmappedReferenceError(NcrError):
    """A reference names an NCR registry host, but no registry we can look up: never skipped, always reported."""

    fmt: ClassVar[str] = "Cannot check {reference}: {reason}"
    reference: str
    reason: str


class InvalidResponseError(NcrError):
    """The API answered with something that is not the documented shape."""

    fmt: ClassVar[str] = "NCR returned an invalid response for {what}: {reason}"
    what: str
    reason: str


class TransportError(NcrError):
    """The request never got an HTTP answer: connection failure or timeout."""

    fmt: ClassVar[str] = (
        "Could not reach NCR at {endpoint} for {what} after {attempts} attempt(s): {reason}. "
        "Check the endpoint and your network."
    )
    endpoint: str
    what: str
    attempts: int
    reason: str


class NcrApiError(NcrError):
    """NCR or the API gateway answered with an error status."""

    fmt: ClassVar[str] = (
        "NCR request for {what} failed with HTTP {status}{code_text}: {api_message} "
        "(after {attempts} attempt(s){request_text})"
    )
    what: str
    status: int
    error_code: str | None = None
    api_message: str | None = None
    request_id: str | None = None
    attempts: int = 1

    def __post_init__(self) -> None:
        self.api_message = self.api_message or "no message"
        super().__post_init__()

    @property
    def code_text(self) -> str:
        return f" (NCP errorCode {self.error_code})" if self.error_code else ""

    @property
    def request_text(self) -> str:
        # NCP support asks for it, so every API error's sentence carries it.
        return f", request id {self.request_id}" if self.request_id else ""

    def api_fields(self) -> dict[str, Any]:
        """The fields every API error has (what another kind of API error is built from)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(NcrApiError)}


class AuthenticationError(NcrApiError):
    fmt: ClassVar[str] = (
        "NCR rejected the credentials for {what} (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Check the access key {access_key} and its secret key, and that this machine's clock is correct."
    )
    access_key: str
    """Masked, never the whole key."""


class ClockSkewError(AuthenticationError):
    """A 401 whose Date header puts this machine's clock further off than the client corrects for (a day)."""

    fmt: ClassVar[str] = (
        "NCR rejected the request for {what}, and its Date header says this machine's clock is off by {skew}, "
        "too far to correct automatically (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Synchronise the clock (NTP) and try again."
    )
    skew: str


class CredentialsRejectedError(AuthenticationError):
    """A 401 that persisted after the clock offset was corrected: the keys, not the clock, are wrong."""

    fmt: ClassVar[str] = (
        "NCR rejected the credentials for {what} (HTTP {status}{code_text}: {api_message}{request_text}) even after "
        "correcting for this machine's clock being off by {skew}, so the clock is not the cause. "
        "Check the access key {access_key} and its secret key."
    )
    skew: str


class PermissionDeniedError(NcrApiError):
    fmt: ClassVar[str] = (
        "Access key {access_key} may not read {what} (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Grant it NCR read permission in Sub Account."
    )
    access_key: str
    """Masked, never the whole key."""


class ImageNotFoundError(_InPlace, NcrApiError):
    fmt: ClassVar[str] = ("Image {registry}/{image} not found in {place} "
                          "(HTTP {status}{code_text}: {api_message}{request_text}).")
    registry: str
    image: str
    region: str
    site: str = "public"


class TagNotFoundError(_InPlace, NcrApiError):
    fmt: ClassVar[str] = ("Tag {registry}/{image}:{tag} not found in {place} "
                          "(HTTP {status}{code_text}: {api_message}{request_text}).")
    registry: str
    image: str
    tag: str
    region: str
    site: str = "public"


class RegistryNotFoundError(_InPlace, NcrError):
    """No registry of that name in the region's registry list (the list answered; the name is not in it)."""

    fmt: ClassVar[str] = "Registry {registry} not found in {place}."
    registry: str
    region: str
    site: str = "public"
    # Where an API answer said so (v3's getRegistry 404), what it said; None where the list did not name it.
    what: str | None = None
    status: int | None = None
    error_code: str | None = None
    api_message: str | None = None
    request_id: str | None = None
    attempts: int | None = None


class NoMatchingTagError(_InPlace, NcrError):
    """The tag list answered, but no tag fits the selection (a digest, or the newest matching a pattern)."""

    fmt: ClassVar[str] = "No tag of image {registry}/{image} in {place} {selection}."
    registry: str
    image: str
    region: str
    site: str = "public"
    selection: str


class NotFoundError(_InPlace, NcrApiError):
    fmt: ClassVar[str] = "{what} not found in {place} (HTTP {status}{code_text}: {api_message}{request_text})."
    region: str
    site: str = "public"


class ThrottledError(NcrApiError):
    fmt: ClassVar[str] = (
        "NCR throttled the request for {what}: HTTP {status}{code_text}: {api_message}{request_text}, "
        "still throttled after {attempts} attempt(s). Lower the request rate or concurrency and retry later."
    )


class ServerError(NcrApiError):
    fmt: ClassVar[str] = (
        "NCR failed to answer {what}: HTTP {status}{code_text}: {api_message} (after {attempts} attempt(s){request_text})."
    )


def shorten(value: object, limit: int = 60) -> str:
    """repr() of a value, cut to a readable length (hostile names can be 10 000 characters)."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[: limit - 3]}...' ({len(value) if hasattr(value, '__len__') else '?'} characters)"
    return text
