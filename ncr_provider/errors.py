"""Every error ncr_provider raises: one base class, message templates filled from named fields."""

from __future__ import annotations

from typing import Any


class NcrError(Exception):
    """Base class of every error raised by ncr_provider."""

    fmt = "An unspecified NCR error occurred"

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)
        super().__init__(self.fmt.format(**kwargs))

    def __reduce__(self):
        return _rebuild, (type(self), self.kwargs)

    @property
    def message(self) -> str:
        return str(self)


def _rebuild(cls: type[NcrError], kwargs: dict[str, Any]) -> NcrError:
    return cls(**kwargs)


class ConfigurationError(NcrError):
    """A setting is missing or invalid."""

    fmt = "{reason}"


class InvalidNameError(NcrError):
    """A registry, image or reference name breaks the name rules; nothing was sent."""

    fmt = "Invalid {field} {shown}: {reason}"

    def __init__(self, field: str, value: str, reason: str):
        super().__init__(field=field, value=value, reason=reason, shown=shorten(value))


class UnmappedReferenceError(NcrError):
    """A reference names an NCR registry host, but no registry we can look up: never skipped, always reported."""

    fmt = "Cannot check {reference}: {reason}"


class InvalidResponseError(NcrError):
    """The API answered with something that is not the documented shape."""

    fmt = "NCR returned an invalid response for {what}: {reason}"


class TransportError(NcrError):
    """The request never got an HTTP answer: connection failure or timeout."""

    fmt = (
        "Could not reach NCR at {endpoint} for {what} after {attempts} attempt(s): {reason}. "
        "Check the endpoint and your network."
    )


class NcrApiError(NcrError):
    """NCR or the API gateway answered with an error status."""

    fmt = "NCR request for {what} failed with HTTP {status}{code_text}: {api_message} (after {attempts} attempt(s){request_text})"

    def __init__(
        self,
        *,
        what: str,
        status: int,
        error_code: str | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
        attempts: int = 1,
        **extra: Any,
    ):
        super().__init__(
            what=what,
            status=status,
            error_code=error_code,
            api_message=api_message or "no message",
            request_id=request_id,
            attempts=attempts,
            code_text=f" (NCP errorCode {error_code})" if error_code else "",
            # NCP support asks for it, so every API error's sentence carries it.
            request_text=f", request id {request_id}" if request_id else "",
            **extra,
        )

    def __reduce__(self):
        kwargs = {k: v for k, v in self.kwargs.items() if k not in ("code_text", "request_text")}
        return _rebuild, (type(self), kwargs)


class AuthenticationError(NcrApiError):
    fmt = (
        "NCR rejected the credentials for {what} (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Check the access key {access_key} and its secret key, and that this machine's clock is correct."
    )


class ClockSkewError(AuthenticationError):
    """A 401 whose Date header puts this machine's clock further off than the client corrects for (a day)."""

    fmt = (
        "NCR rejected the request for {what}, and its Date header says this machine's clock is off by {skew}, "
        "too far to correct automatically (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Synchronise the clock (NTP) and try again."
    )


class CredentialsRejectedError(AuthenticationError):
    """A 401 that persisted after the clock offset was corrected: the keys, not the clock, are wrong."""

    fmt = (
        "NCR rejected the credentials for {what} (HTTP {status}{code_text}: {api_message}{request_text}) even after "
        "correcting for this machine's clock being off by {skew}, so the clock is not the cause. "
        "Check the access key {access_key} and its secret key."
    )


class PermissionDeniedError(NcrApiError):
    fmt = (
        "Access key {access_key} may not read {what} (HTTP {status}{code_text}: {api_message}{request_text}). "
        "Grant it NCR read permission in Sub Account."
    )


class ImageNotFoundError(NcrApiError):
    fmt = ("Image {registry}/{image} not found in region {region} "
           "(HTTP {status}{code_text}: {api_message}{request_text}).")


class TagNotFoundError(NcrApiError):
    fmt = ("Tag {registry}/{image}:{tag} not found in region {region} "
           "(HTTP {status}{code_text}: {api_message}{request_text}).")


class RegistryNotFoundError(NcrError):
    """No registry of that name in the region's registry list (the list answered; the name is not in it)."""

    fmt = "Registry {registry} not found in region {region}."


class NoMatchingTagError(NcrError):
    """The tag list answered, but no tag fits the selection (a digest, or the newest matching a pattern)."""

    fmt = "No tag of image {registry}/{image} in region {region} {selection}."


class NotFoundError(NcrApiError):
    fmt = "{what} not found in region {region} (HTTP {status}{code_text}: {api_message}{request_text})."


class ThrottledError(NcrApiError):
    fmt = (
        "NCR throttled the request for {what}: HTTP {status}{code_text}: {api_message}{request_text}, "
        "still throttled after {attempts} attempt(s). Lower the request rate or concurrency and retry later."
    )


class ServerError(NcrApiError):
    fmt = "NCR failed to answer {what}: HTTP {status}{code_text}: {api_message} (after {attempts} attempt(s){request_text})."


def shorten(value: object, limit: int = 60) -> str:
    """repr() of a value, cut to a readable length (hostile names can be 10 000 characters)."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[: limit - 3]}...' ({len(value) if hasattr(value, '__len__') else '?'} characters)"
    return text
