"""What every long-running process (each service, the gateway) does once it has started."""
from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """What start-up built (modules, models, metadata, referentials, templates: 170,000 to 300,000 objects) is left
    out of the garbage collector's full passes from now on. Each full pass walked them all: a bulk import (many
    objects kept a little while) set one off every few batches, a fifth of the CPU an imported row cost the
    notebook; a server-rendered page (thousands of short-lived strings) did too, some 5 ms of a 14 ms notebook page
    in the gateway, under 2 ms once frozen (issue 19)."""
    gc.collect()
    gc.freeze()
