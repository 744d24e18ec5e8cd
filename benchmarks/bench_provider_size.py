"""Figure 5: the size of the `__provider` value every NcrImage carries in state."""

from __future__ import annotations

from common import Row, Sizes, run_alone

from ncr_provider.testing import provider_blob

NAME = "__provider size"
TARGET_BYTES = 100


def run(sizes: Sizes) -> list[Row]:
    """Serialize NcrImageProvider() as the SDK does (dill, base64) and count the bytes stored."""
    blob = provider_blob()
    size = len(blob.encode("utf-8"))
    return [Row(NAME, f"<= {TARGET_BYTES} bytes", f"{size} bytes", size <= TARGET_BYTES, {"bytes": size, "blob": blob})]


if __name__ == "__main__":
    run_alone(run, __doc__)
