"""``python -m carbon_balance`` is the ``carbon-balance`` command."""

import sys

from .interrupt import INTERRUPTED, watch_for_ctrl_c

watch_for_ctrl_c()   # before the slow imports below, so no Ctrl-C goes unrecorded
try:
    from .cli import console_main
except KeyboardInterrupt:
    # Ctrl-C while the command line is still being imported (slow on a busy machine):
    # nothing was started, so say so as the command itself would, without a traceback.
    print(INTERRUPTED, file=sys.stderr)
    raise SystemExit(130) from None

console_main()
