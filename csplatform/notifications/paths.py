"""Where a notification or digest item points: a path within the tenant ("accounts/12/"), stored without the
tenant's prefix so it stays right if the tenant's slug changes, and made absolute for emails with SITE_URL."""

from django.conf import settings
from django.urls import reverse

_SLUG = "tenant-slug-placeholder"
_ID = 987654321  # an id no test or tenant reaches, replaced in SQL by the row's id


def _tenant_root(slug: str) -> str:
    return reverse("tenant_home", kwargs={"tenant_slug": slug})


def tenant_path(viewname: str, **kwargs) -> str:
    """The path of a tenant page relative to the tenant's root: tenant_path("accounts:detail", account_id=3)."""
    full = reverse(viewname, kwargs={"tenant_slug": _SLUG, **kwargs})
    return full[len(_tenant_root(_SLUG)) :]


def tenant_path_around(viewname: str, id_kwarg: str, **kwargs) -> tuple[str, str]:
    """(before, after) of a page's relative path around its integer keyword `id_kwarg`, for building the path of
    each row in SQL: before || row.id || after."""
    path = tenant_path(viewname, **{id_kwarg: _ID}, **kwargs)
    before, _, after = path.partition(str(_ID))
    return before, after


def in_tenant(slug: str, path: str) -> str:
    """The page's absolute path in this tenant (`path` as stored on a notification); the tenant's home if none."""
    path = (path or "").lstrip("/")
    if "//" in path or ":" in path.split("/")[0]:  # only our own relative paths, never another site
        path = ""
    return _tenant_root(slug) + path


def absolute(slug: str, path: str) -> str:
    """The full URL of a tenant page, for emails (no request to take the host from)."""
    return settings.SITE_URL.rstrip("/") + in_tenant(slug, path)
