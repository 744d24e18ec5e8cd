"""`python -m ncr_provider.cli`, the same as the `ncr-image` script."""

import sys

from . import main

sys.exit(main())
