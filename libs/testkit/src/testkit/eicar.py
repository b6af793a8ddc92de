"""The EICAR test file, which every antivirus reports as « Eicar-Test-Signature » without it being harmful.

Assembled from two parts at run time, so that no file of the repository is itself one: an antivirus on a
developer's machine or a forge would quarantine it."""
from __future__ import annotations

_HEAD = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
_TAIL = b"EICAR-STANDARD-ANTIVIRUS-" + b"TEST-FILE!$H+H*"


def eicar() -> bytes:
    return _HEAD + _TAIL
