"""French labels of the notebook's values: they live in ``contracts.labels``, shared with the notebook service's PDFs
(« Mes données » says what the pages say); pages and templates keep reading them from here."""
from __future__ import annotations

from contracts.labels import *  # noqa: F401,F403
