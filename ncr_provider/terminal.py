"""Text from the API made safe for a terminal, a table cell or a GitHub annotation.

NCR's descriptions and error messages are written by whoever controls the registry (or the
network path to it). An escape sequence in them could recolour, hide or rewrite what a person
reads, set the terminal title, or smuggle a link; a bidi override could reverse a name. Every
such sequence is removed whole, and any other non-printable character becomes a space.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings up to BEL or ST, two-byte ESC sequences, and the
# 8-bit CSI (U+009B). A sequence cut off at the end of the text is removed too.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x9d\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)",
    re.DOTALL,
)


def strip_control(text: object) -> str:
    """`text` without terminal control sequences; other non-printable characters (controls, line
    breaks, zero-width and bidi characters) replaced by a space. Plain printable text is unchanged."""
    value = str(text)
    if value.isprintable():
        return value
    value = _SEQUENCES.sub("", value)
    return "".join(c if c.isprintable() else " " for c in value)
