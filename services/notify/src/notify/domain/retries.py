"""When to try a failed delivery again."""
from datetime import datetime, timedelta


def next_attempt_at(now: datetime, attempts: int, base_s: float, cap_s: float = 3600) -> datetime:
    return now + timedelta(seconds=min(base_s * 2 ** (attempts - 1), cap_s))
