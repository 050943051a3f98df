"""Writes for the login security and API token pages."""

import logging
from datetime import timedelta

from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.db import transaction

from csplatform.tenancy.models import ApiToken, Tenant, User
from csplatform.tenancy.services import api_token_create

from .selectors import active_token_count

log = logging.getLogger(__name__)

MAX_ACTIVE_TOKENS_PER_MEMBER = 20


@transaction.atomic
def login_failures_clear(*, tenant: Tenant, user: User, by: User) -> int:
    """Forgets the member's failed logins (from every address), which lifts the lock on their email.

    A lock on a client address stays until its cool-off ends (or platform staff delete it in the admin): the
    address may also carry other tenants' users' failures, which this tenant's ops must not clear.
    """
    deleted, _ = AccessAttempt.objects.filter(username=user.email.strip().lower()).delete()
    log.info("login lock of %s cleared in tenant %s by %s (%d attempt rows)", user.email, tenant.slug, by.email,
             deleted)
    return deleted


@transaction.atomic
def api_token_issue(*, tenant: Tenant, user: User, name: str, lifetime_days: int) -> tuple[ApiToken, str]:
    """A member's own token from the page: a lifetime is required and a member holds at most 20 usable ones."""
    if active_token_count(tenant=tenant, user=user) >= MAX_ACTIVE_TOKENS_PER_MEMBER:
        raise ValidationError(f"You already have {MAX_ACTIVE_TOKENS_PER_MEMBER} active tokens in this workspace: "
                              "revoke one you no longer use first.")
    return api_token_create(tenant=tenant, user=user, name=name.strip(), lifetime=timedelta(days=lifetime_days))
