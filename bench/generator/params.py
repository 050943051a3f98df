"""What a book is (its parameters), how its accounts are split across tenants, and where it is recorded."""

import json
import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import connection

SLUG_PREFIX = "bench-"
EMAIL_DOMAIN = "bench.example"  # users are <role>-<n>@<tenant slug>.bench.example
# Zipf-like exponent of the split: at 100,000 accounts in 50 tenants the largest has ~18,600, the smallest ~550.
ZIPF_EXPONENT = 0.9
MIN_ACCOUNTS_PER_TENANT = 5
RECORD_DIR = Path(settings.BASE_DIR) / "var" / "bench"

FULL = {"tenants": 50, "accounts": 100_000, "days": 100}
SMALL = {"tenants": 5, "accounts": 5_000, "days": 30}


@dataclass(frozen=True)
class BookParams:
    tenants: int
    accounts: int
    days: int
    seed: int

    def __post_init__(self):
        if not 1 <= self.tenants <= 999:
            raise ValueError("--tenants must be between 1 and 999")
        if self.accounts < self.tenants * MIN_ACCOUNTS_PER_TENANT:
            raise ValueError(f"--accounts must be at least {MIN_ACCOUNTS_PER_TENANT} per tenant")
        if self.accounts // self.tenants >= 10_000_000:
            raise ValueError("at most 9,999,999 accounts per tenant")
        if not 1 <= self.days <= 1000:
            raise ValueError("--days must be between 1 and 1000")

    def as_dict(self) -> dict:
        return asdict(self)


def tenant_slug(index: int, tenants: int) -> str:
    return f"{SLUG_PREFIX}{index:0{max(2, len(str(tenants)))}d}"


def account_split(total: int, tenants: int, exponent: float = ZIPF_EXPONENT) -> list[int]:
    """Accounts per tenant, largest first, summing to `total` (largest-remainder rounding of a Zipf split)."""
    weights = [1 / (i ** exponent) for i in range(1, tenants + 1)]
    spare = total - MIN_ACCOUNTS_PER_TENANT * tenants
    shares = [spare * w / sum(weights) for w in weights]
    counts = [MIN_ACCOUNTS_PER_TENANT + math.floor(s) for s in shares]
    by_remainder = sorted(range(tenants), key=lambda i: (-(shares[i] - math.floor(shares[i])), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def record_path() -> Path:
    db = settings.DATABASES["default"]
    return RECORD_DIR / f"book-{db.get('HOST') or 'local'}-{connection.settings_dict['NAME']}.json"


def record_read() -> dict | None:
    path = record_path()
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def record_write(record: dict) -> Path:
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def record_forget() -> None:
    record_path().unlink(missing_ok=True)


def end_day_of(record: dict) -> date:
    return date.fromisoformat(record["end"])
