"""``python -m gradstack.course ARGS``: the same as ``gradstack-course ARGS``."""

import sys

from . import main

sys.exit(main())
