"""ncr_provider: read NAVER Cloud Container Registry (NCR) images from Pulumi, CI and policy.

The public API is exported lazily, so `import ncr_provider.cli` never imports pulumi.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

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

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ncr_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
