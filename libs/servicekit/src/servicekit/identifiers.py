"""French identifiers checked the same way by every service that receives them (notebook's forms, the imports,
directory's structures); each service words its own message."""
from __future__ import annotations

import re

# Sex (1, 2; 3, 7, 8 for provisional numbers), year, month, département (2A/2B for Corsica), commune, order, key.
# ASCII: digits of other scripts ("２") are not digits of a NIR.
NIR_SHAPE = re.compile(r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}(\d{2})?$", re.ASCII)


class BadNir(ValueError):
    """``reason`` is ``"shape"`` (not 13 or 15 characters of a NIR) or ``"key"`` (the 2-digit key is wrong)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def nir_key(nir13: str) -> int:
    # Corsica: 2A and 2B count as 19 and 18 in the key's computation.
    return 97 - int(nir13.replace("2A", "19").replace("2B", "18")) % 97


def nir13(value: str) -> str:
    """The 13 characters of a NIR typed with or without spaces, dots or dashes and with or without its key (then
    checked and dropped); "" when nothing was typed; ``BadNir`` otherwise."""
    nir = re.sub(r"[\s.-]", "", value).upper()
    if not nir:
        return ""
    if not NIR_SHAPE.match(nir):
        raise BadNir("shape")
    if len(nir) == 15 and int(nir[13:]) != nir_key(nir[:13]):
        raise BadNir("key")
    return nir[:13]


def siret_is_valid(siret: str) -> bool:
    """14 digits whose Luhn sum is a multiple of 10 (La Poste's establishments follow another rule)."""
    if len(siret) != 14 or not (siret.isascii() and siret.isdigit()):
        return False
    total = 0
    for index, digit in enumerate(int(d) for d in reversed(siret)):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    if total % 10 == 0:
        return True
    # La Poste's many establishments share its SIREN; theirs follow "the digits sum to a multiple of 5".
    return siret.startswith("356000000") and sum(int(d) for d in siret) % 5 == 0
