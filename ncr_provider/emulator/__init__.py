"""A local NAVER Cloud Container Registry API server for development and tests.

Strict about NCP's signature v2, so a client that passes against it signs correctly. It serves
the five NCR path prefixes of `sites.API_ENDPOINTS` (KR, SGN, JPN; gov KR, KRS) with the read
operations (registry list, image list, image details, tag list, tag details), records every
request, and can script answers and faults (`enqueue`, `enqueue_fault`). Standard library only,
and independent of the client it judges: it has its own signature check (`signature`) and its
own reading of the name rules; only documented facts (hosts, prefixes) come from `sites`.

    with NcrEmulator() as emu:             # default data: data/default.json
        emu.add_image("prod", "team/web", tag_mutability_enabled=False)
        url = emu.url + "/ncr/api/v2/repositories/prod/team%2Fweb"

Layers, as in moto: `urls` (routing), `responses` (wire format, signature, the one error
renderer), `models` (state, validation, API errors), `server` (HTTP, faults, CLI).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import NcrEmulator, RecordedRequest, main

__all__ = ["NcrEmulator", "RecordedRequest", "main"]


def __getattr__(name: str) -> Any:
    # Lazily, so `ncr-image` can read the emulator's options (`.arguments`) without starting up the server module.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".server", __name__), name)
    globals()[name] = value
    return value
