"""Cells of France Travail's "SPIE" extract (spec §4.3): the principal and actions CSV files its FTP delivers.

The extract writes an empty cell as ``NULL`` or ``_`` (``EMPTY_CELLS``), dates as ``YYYY-MM-DD HH:MM:SS.f`` (read
by ``values.parse_date``, which drops the time), and the référent's address on France Travail's internal domain,
``NNNprenom.nom@pole-emploi.net``, where the address that receives mail is ``prenom.nom@pole-emploi.fr``.
"""
from __future__ import annotations

import re

from data_import.domain.values import Ignored, ValueProblem, parse_email

EMPTY_CELLS = ("NULL", "_")

# v1's rule (cdb_csv/pe.py): the agency's digits in front dropped, ".net" becomes ".fr".
_INTERNAL_ADDRESS = re.compile(r"^[0-9]*(?P<address>.+)\.net$", re.IGNORECASE)


def parse_referent_email(text: str) -> str:
    """The référent's address that receives mail; one that is not an address leaves the row without référent."""
    internal = _INTERNAL_ADDRESS.match(text.strip())
    address = internal["address"] + ".fr" if internal else text
    try:
        return parse_email(address)
    except ValueProblem as problem:
        raise Ignored(f"{problem} Le référent France Travail ne sera pas ajouté.") from None


def parse_o_n(text: str) -> bool:
    """France Travail's flags: "O" (or "OUI") is yes; "N", "NON" and anything else are no, as v1 read them."""
    return text.strip().upper() in ("O", "OUI")
