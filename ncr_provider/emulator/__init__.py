"""A local NAVER Cloud Container Registry API server for development and tests.

Strict about NCP's signature v2, so a client that passes against it signs correctly. It serves
the five NCR path prefixes of `sites.API_ENDPOINTS` (KR, SGN, JPN; gov KR, KRS) with the read
operations (registry list, image list, image details, tag list, tag details), records every
request, and can script answers and faults (`enqueue`, `enqueue_fault`). Stdlib and requests
only: importing it never imports pulumi.

    with NcrEmulator() as emu:             # default data: data/default.json
        emu.add_image("prod", "team/web", tag_mutability_enabled=False)
        url = emu.url + "/ncr/api/v2/repositories/prod/team%2Fweb"

Layers, as in moto: `urls` (routing), `responses` (wire format, signature, the one error
renderer), `models` (state, validation, API errors), `server` (HTTP, faults, CLI).
"""

from .server import NcrEmulator, RecordedRequest, main

__all__ = ["NcrEmulator", "RecordedRequest", "main"]
