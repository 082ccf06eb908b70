"""``python -m tockshell``: the same as the ``tockshell`` command."""

import sys

from .cli import main

sys.exit(main())
