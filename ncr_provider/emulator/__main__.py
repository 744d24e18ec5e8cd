"""`python -m ncr_provider.emulator`: run the emulator until Ctrl-C."""

import sys

from .server import main

sys.exit(main())
