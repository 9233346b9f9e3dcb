"""``python -m gradstack.cli``: the same as the ``gradstack`` command."""

import sys

from .main import main

sys.exit(main())
