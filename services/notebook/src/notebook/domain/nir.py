"""The NIR (numéro de sécurité sociale): 13 characters, and a 2-digit key checked then dropped (spec §2.2)."""
from __future__ import annotations

from servicekit.errors import Invalid
from servicekit.identifiers import BadNir, nir13

INVALID_NIR = ("Ce numéro de sécurité sociale n'est pas valide : il faut 13 caractères, ou 15 avec la clé, "
               "et la clé doit correspondre.")


def clean_nir(value: str) -> str:
    """The 13 characters of a NIR typed with or without spaces and key; "" when none was typed."""
    try:
        return nir13(value)
    except BadNir:
        raise Invalid(INVALID_NIR, details={"field": "nir"}) from None
