"""Tables of the notebook service."""
from __future__ import annotations

from servicekit.db import new_metadata

metadata = new_metadata()
