"""What the digests share: links made absolute (emails have no request) and the text + HTML rendering."""

from django.template.loader import render_to_string

from csplatform.notifications.digests import DigestEmail
from csplatform.notifications.paths import absolute, tenant_path

LIST_ROWS = 10  # per list: a digest points at the page, it does not replace it


def link(tenant, viewname: str, query: str = "", **kwargs) -> str:
    return absolute(tenant.slug, tenant_path(viewname, **kwargs) + query)


def render_digest(*, name: str, tenant, membership, subject: str, items: int, context: dict) -> DigestEmail:
    """Renders templates/insights/email/<name>.txt and .html; the footer says how to switch the digest off."""
    context = {
        "tenant": tenant,
        "member": membership.user,
        "subject": subject,
        "settings_url": link(tenant, "notifications:my_settings"),
        "home_url": link(tenant, "tenant_home"),
        **context,
    }
    return DigestEmail(
        subject=subject,
        items=items,
        text=render_to_string(f"insights/email/{name}.txt", context),
        html=render_to_string(f"insights/email/{name}.html", context),
    )


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"
