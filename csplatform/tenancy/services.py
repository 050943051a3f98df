from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Membership, Role, Tenant, User, hash_token


def tenant_create(*, slug: str, name: str, currency: str = "USD", fiscal_year_start_month: int = 1) -> Tenant:
    tenant = Tenant(slug=slug, name=name, currency=currency, fiscal_year_start_month=fiscal_year_start_month)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def membership_set(*, tenant: Tenant, user: User, role: str, manager: User | None = None) -> Membership:
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; one of {', '.join(Role.values)}")
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role, "manager": manager}
    )
    return membership


@transaction.atomic
def service_account_create(*, tenant: Tenant, name: str, role: str = Role.OPS) -> User:
    email = f"{name}@service.{tenant.slug}.invalid"
    user, _ = User.objects.get_or_create(
        email=email, defaults={"full_name": f"Service: {name}", "is_service_account": True}
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    membership_set(tenant=tenant, user=user, role=role)
    return user


@transaction.atomic
def api_token_create(*, tenant: Tenant, user: User, name: str, lifetime=None) -> tuple[ApiToken, str]:
    """Returns the token and its raw value; the raw value is never stored and cannot be shown again."""
    if not Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValueError(f"{user.email} is not a member of {tenant.slug}")
    key_id, raw = ApiToken.new_secret()
    lifetime = settings.API_TOKEN_DEFAULT_LIFETIME if lifetime is None else lifetime
    token = ApiToken.objects.create(
        tenant=tenant, user=user, name=name, key_id=key_id, key_hash=hash_token(raw),
        expires_at=timezone.now() + lifetime if lifetime else None,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Compare-and-set: True only for the call that actually revoked it."""
    return ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()) == 1
