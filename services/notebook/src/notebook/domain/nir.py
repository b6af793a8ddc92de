"""The NIR (numéro de sécurité sociale): 13 characters, and a 2-digit key checked then dropped (spec §2.2)."""
from __future__ import annotations

import re

from servicekit.errors import Invalid

INVALID_NIR = ("Ce numéro de sécurité sociale n'est pas valide : il faut 13 caractères, ou 15 avec la clé, "
               "et la clé doit correspondre.")
_SHAPE = re.compile(r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}(\d{2})?$")


def _as_number(nir13: str) -> int:
    # Corsica: 2A and 2B count as 19 and 18 in the key's computation.
    return int(nir13.replace("2A", "19").replace("2B", "18"))


def key_of(nir13: str) -> int:
    return 97 - _as_number(nir13) % 97


def clean_nir(value: str) -> str:
    """The 13 characters of a NIR typed with or without spaces and key; "" when none was typed."""
    nir = re.sub(r"[\s.-]", "", value).upper()
    if not nir:
        return ""
    if not _SHAPE.match(nir):
        raise Invalid(INVALID_NIR, details={"field": "nir"})
    if len(nir) == 15 and int(nir[13:]) != key_of(nir[:13]):
        raise Invalid(INVALID_NIR, details={"field": "nir"})
    return nir[:13]
