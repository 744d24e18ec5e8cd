"""ncr_provider: read NAVER Cloud Container Registry (NCR) images from Pulumi, CI and policy.

The public API is exported lazily, so `import ncr_provider.cli` never imports pulumi.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what a type checker sees; at run time each name is imported on first use (below)
    from .client import ClientOptions, NcrClient, RetryPolicy
    from .config import Settings, resolve_settings
    from .emulator import NcrEmulator
    from .errors import NcrError
    from .functions import get_image, get_image_output, get_image_tag, get_image_tag_output, get_registry, get_registry_output
    from .model import ImageDetails, PlatformImage, RegistryDetails, TagDetails
    from .provider import NcrImageProvider, NcrImageTagProvider, NcrRegistryProvider
    from .resource import NcrImage, NcrImageArgs, NcrImageTag, NcrImageTagArgs, NcrRegistry

__version__ = "0.1.0"

# Public name -> the module it lives in; kept in step with the TYPE_CHECKING imports above (a test checks).
_EXPORTS = {
    "NcrClient": "client",
    "ClientOptions": "client",
    "RetryPolicy": "client",
    "ImageDetails": "model",
    "TagDetails": "model",
    "PlatformImage": "model",
    "RegistryDetails": "model",
    "Settings": "config",
    "resolve_settings": "config",
    "NcrError": "errors",
    "NcrImage": "resource",
    "NcrImageArgs": "resource",
    "NcrImageTag": "resource",
    "NcrImageTagArgs": "resource",
    "NcrRegistry": "resource",
    "NcrImageProvider": "provider",
    "NcrImageTagProvider": "provider",
    "NcrRegistryProvider": "provider",
    "NcrEmulator": "emulator",
    "get_image": "functions",
    "get_image_output": "functions",
    "get_image_tag": "functions",
    "get_image_tag_output": "functions",
    "get_registry": "functions",
    "get_registry_output": "functions",
}

__all__ = [
    "__version__",
    "NcrClient",
    "ClientOptions",
    "RetryPolicy",
    "ImageDetails",
    "TagDetails",
    "PlatformImage",
    "RegistryDetails",
    "Settings",
    "resolve_settings",
    "NcrError",
    "NcrImage",
    "NcrImageArgs",
    "NcrImageTag",
    "NcrImageTagArgs",
    "NcrRegistry",
    "NcrImageProvider",
    "NcrImageTagProvider",
    "NcrRegistryProvider",
    "NcrEmulator",
    "get_image",
    "get_image_output",
    "get_image_tag",
    "get_image_tag_output",
    "get_registry",
    "get_registry_output",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ncr_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
