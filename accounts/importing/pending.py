"""An upload kept between its preview and its commit: a JSON file named by an unguessable token.

Not the session: the session is decoded on every request, and a 5 MB table would ride along on all
of them. The file records its tenant and user, and `pending_load` returns it only to that same user
in that same tenant, so a leaked URL is useless to anyone else. Files older than MAX_AGE are purged.
Set ACCOUNTS_IMPORT_DIR to a directory shared by all web servers when there is more than one.
"""

import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .files import Table

MAX_AGE_SECONDS = 6 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32); also keeps paths inside the directory


@dataclass
class PendingImport:
    token: str
    tenant_id: int
    user_id: int
    kind: str
    filename: str
    table: Table
    mapping: dict[str, str] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)


def _directory() -> Path:
    path = Path(getattr(settings, "ACCOUNTS_IMPORT_DIR", "") or Path(tempfile.gettempdir()) / "csplatform-imports")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # In a shared /tmp another local user could create the directory first and read or plant uploads.
    if path.is_symlink() or (hasattr(os, "getuid") and path.stat().st_uid != os.getuid()):
        raise ImproperlyConfigured(f"{path} is not a directory of this user; set ACCOUNTS_IMPORT_DIR.")
    return path


def _path(token: str) -> Path:
    return _directory() / f"{token}.json"


def pending_create(*, tenant_id: int, user_id: int, kind: str, filename: str, table: Table,
                   mapping: dict[str, str]) -> PendingImport:
    _purge_stale()
    pending = PendingImport(token=secrets.token_urlsafe(32), tenant_id=tenant_id, user_id=user_id, kind=kind,
                            filename=filename, table=table, mapping=mapping)
    pending_save(pending)
    return pending


def pending_save(pending: PendingImport) -> None:
    payload = {
        "tenant_id": pending.tenant_id, "user_id": pending.user_id, "kind": pending.kind,
        "filename": pending.filename, "table": pending.table.to_dict(), "mapping": pending.mapping,
        "created_at": pending.created_at,
    }
    target = _path(pending.token)
    scratch = target.with_name(f".{pending.token}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(payload, out)
    os.replace(scratch, target)  # readers never see a half-written file


def pending_load(*, token: str, tenant_id: int, user_id: int) -> PendingImport | None:
    """The upload, only for the user and tenant that made it, and only while it is fresh."""
    if not TOKEN.match(token or ""):
        return None
    try:
        payload = json.loads(_path(token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("tenant_id") != tenant_id or payload.get("user_id") != user_id:
        return None
    if time.time() - payload.get("created_at", 0) > MAX_AGE_SECONDS:
        pending_delete(token)
        return None
    return PendingImport(
        token=token, tenant_id=tenant_id, user_id=user_id, kind=payload["kind"], filename=payload["filename"],
        table=Table.from_dict(payload["table"]), mapping=payload.get("mapping") or {},
        created_at=payload["created_at"],
    )


def pending_delete(token: str) -> None:
    if TOKEN.match(token or ""):
        _path(token).unlink(missing_ok=True)


def _purge_stale() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _directory().glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue  # another worker removed it first
