import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from .context import CrossTenantWrite, current_tenant, current_tenant_or_none


class Tenant(models.Model):
    """A company using the product. Global table: it is what the other tables are scoped by."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3, default="USD", validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 4217 code, e.g. EUR")]
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, choices=[(m, m) for m in range(1, 13)], help_text="Month the fiscal year starts (1-12)."
    )
    is_active = models.BooleanField(default=True)
    csms_edit_all_accounts = models.BooleanField(
        default=False,
        help_text="CSMs may log activities and edit contacts on every account, not only their own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("Users log in with their email address, so it is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can open the Django admin (platform operators).")
    is_service_account = models.BooleanField(
        default=False, help_text="A system integration that only uses API tokens; it cannot log in."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.full_name or self.email

    @property
    def display_name(self):
        return self.full_name or self.email


class Role(models.TextChoices):
    CSM = "csm", "CSM"
    MANAGER = "manager", "CS manager"
    OPS = "ops", "CS ops"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    """A user's seat in a tenant with one role. Global table: it is read before a tenant is chosen."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The user's manager in this tenant (who reviews their book and statements).",
    )
    # Email digests (csplatform.notifications.digests): on unless the member switches them off in My settings. The
    # database default too, for rows written in SQL (the benchmark book, imports).
    daily_digest = models.BooleanField(default=True, db_default=True, help_text="Email me what is due each morning.")
    weekly_digest = models.BooleanField(default=True, db_default=True,
                                        help_text="Email me my team's week each Monday morning.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["tenant", "role"])]
        ordering = ["tenant__name"]

    def __str__(self):
        return f"{self.user} @ {self.tenant} ({self.role})"


class TenantScopedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        tenant = current_tenant()
        for obj in objs:
            obj._claim_for(tenant)
        return super().bulk_create(objs, *args, **kwargs)


class CurrentTenantId(models.Expression):
    """The current tenant's id, read when the query is compiled (i.e. run), not when it is built.

    So a queryset may be built anywhere (a form field, a filter class, a module constant); running it
    with no current tenant raises `NoTenantSelected`.
    """

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection):
        return "%s", [current_tenant().pk]


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):
    """Returns only the current tenant's rows and raises `NoTenantSelected` when there is none."""

    use_in_migrations = False

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=CurrentTenantId())


class TenantOwnedModel(models.Model):
    """Base of every tenant-owned model (lock 1). Lock 2 is `EnableTenantRowLevelSecurity` in its migration.

    Subclasses put `tenant` first in their composite indexes and unique constraints, so the tables stay
    co-locatable by tenant_id (see docs/architecture.md).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)

    objects = TenantScopedManager()
    # For the few deliberate cross-tenant places (job fan-out, platform admin). Loud on purpose.
    dangerously_unscoped = models.Manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "dangerously_unscoped"

    def _claim_for(self, tenant):
        if self.tenant_id is None:
            self.tenant = tenant
        elif self.tenant_id != tenant.pk:
            raise CrossTenantWrite(
                f"{type(self).__name__} of tenant {self.tenant_id} saved while tenant {tenant.pk} is current"
            )

    def save(self, *args, **kwargs):
        tenant = current_tenant_or_none()
        if tenant is not None:
            self._claim_for(tenant)
        elif self.tenant_id is None:
            current_tenant()  # raises NoTenantSelected with the explanation
        super().save(*args, **kwargs)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token bound to one tenant and one user (a person or a service account).

    Global table: the token is what tells us the tenant, so it is read before one is current.
    Only the SHA-256 of the token is stored; the raw value is shown once at creation.
    """

    PREFIX = "csp"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "user"])]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.PREFIX}_{self.key_id}_…)"

    @staticmethod
    def new_secret():
        key_id = secrets.token_hex(6)
        raw = f"{ApiToken.PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        return key_id, raw

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
