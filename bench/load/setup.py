"""Who the load run logs in as, on the generated book's largest tenant, and the token its usage feed sends.

The book's users have unusable passwords (bench/generator/people.py). For the load run, the CSMs it picks and
their managers get one password, random per run, written with the rest to a file only the locust process
reads (var/load/setup.json, mode 600). Only users of a bench tenant (slug bench-..., email @...bench.example)
are touched, so this cannot change a real user's password. The CSMs are picked as the `pages` benchmark does
(by email, the first ones of the tenant), keeping those who have active accounts. Like that benchmark, it
stores today's GRR/NRR trend, as tonight's forecast job would, so the forecast page reads what it reads in
production all day rather than its before-the-first-night fallback.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from bench.generator import book_in_database, book_tenants, record_read
from bench.generator.params import EMAIL_DOMAIN, SLUG_PREFIX
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import ApiToken, Membership, Role, Tenant, User
from csplatform.tenancy.services import api_token_create, api_token_revoke, service_account_create
from renewals.retention_trend import retention_trend_store

SERVICE_NAME = "load-ingest"
ACCOUNTS_PER_CSM = 40
USAGE_ACCOUNTS = 5_000
SEARCH_TERMS = 12


def load_tenant(slug: str | None = None) -> Tenant:
    """The book's largest tenant (or the bench tenant named), refusing anything that is not a bench tenant."""
    record = record_read()
    if not record or not book_in_database(record):
        raise RuntimeError("No generated book in this database: run `manage.py generate_book` (make load does).")
    tenant = Tenant.objects.filter(slug=slug).first() if slug else book_tenants(record)[0]
    if tenant is None or not tenant.slug.startswith(SLUG_PREFIX):
        raise RuntimeError(f"The load run only logs in users of a bench tenant ({SLUG_PREFIX}...), not {slug!r}.")
    return tenant


def load_setup(*, path: Path, csms: int, tenant_slug: str | None = None, token_days: int = 1) -> dict:
    """Sets the load users' password, creates a fresh token for the usage feed and writes what locust needs."""
    tenant = load_tenant(tenant_slug)
    memberships = list(Membership.objects.filter(tenant=tenant, role=Role.CSM, user__email__endswith=EMAIL_DOMAIN)
                       .select_related("user", "manager").order_by("user__email"))
    with tenant_context(tenant):
        accounts_by_csm: dict[int, list[int]] = {}
        for csm_id, account_id in (Account.objects.filter(status=Account.Status.ACTIVE,
                                                          csm_id__in=[m.user_id for m in memberships])
                                   .order_by("csm_id", "id").values_list("csm_id", "id")):
            accounts_by_csm.setdefault(csm_id, []).append(account_id)
        usage_accounts = list(Account.objects.filter(status=Account.Status.ACTIVE).exclude(external_id="")
                              .order_by("id").values_list("external_id", flat=True)[:USAGE_ACCOUNTS])
        names = list(Account.objects.order_by("id").values_list("name", flat=True)[:500])
        # As after tonight's run, and as the `pages` benchmark does: the forecast job stores today's GRR/NRR
        # trend, which the forecast page reads (idempotent: the day's rows are replaced).
        retention_trend_store(tenant=tenant, day=timezone.localdate())
    chosen = [m for m in memberships if accounts_by_csm.get(m.user_id)][:csms]
    if not chosen:
        raise RuntimeError(f"{tenant.slug} has no CSM with active accounts.")
    managers = {m.manager_id: m.manager for m in chosen if m.manager is not None}
    if not managers:
        raise RuntimeError(f"The CSMs picked in {tenant.slug} have no manager to open the team pages.")
    password = secrets.token_urlsafe(18)
    people_ids = [m.user_id for m in chosen] + list(managers)
    with transaction.atomic():
        # One hash for all: the run's password is the same for every load user, and hashing it once keeps the
        # setup quick (each hash costs what one login costs).
        User.objects.filter(pk__in=people_ids, email__endswith=f".{EMAIL_DOMAIN}").update(
            password=make_password(password))
        service = service_account_create(tenant=tenant, name=SERVICE_NAME, role=Role.OPS)
        for old in ApiToken.objects.filter(tenant=tenant, user=service, revoked_at__isnull=True):
            api_token_revoke(token=old)
        _token, raw = api_token_create(tenant=tenant, user=service, name="load run",
                                       lifetime=timedelta(days=token_days))
    words = sorted({word for name in names for word in name.split() if word.isalpha()})
    data = {
        "tenant": tenant.slug,
        "password": password,
        "token": raw,
        "csms": [{"email": m.user.email, "accounts": accounts_by_csm[m.user_id][:ACCOUNTS_PER_CSM]} for m in chosen],
        "managers": [{"email": user.email} for user in managers.values()],
        "usage_accounts": usage_accounts,
        "search_terms": words[:SEARCH_TERMS] or ["a"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)
    return data


def load_teardown(*, tenant_slug: str) -> None:
    """Revokes the usage feed's tokens when the run ends (the passwords stay: the next run replaces them)."""
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None:
        return
    for token in ApiToken.objects.filter(tenant=tenant, user__email__startswith=f"{SERVICE_NAME}@",
                                         revoked_at__isnull=True):
        api_token_revoke(token=token)
