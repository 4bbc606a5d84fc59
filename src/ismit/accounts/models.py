"""Users, organisations, memberships, roles, verification and API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.lib.scoping import VIEW, ScopedQuerySet


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Signs in with an e-mail address."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=8, default="en", choices=[("en", "English"), ("fr", "Français")]
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class OrganisationKind(models.TextChoices):
    MSME = "msme", _("MSME")
    PROVIDER = "provider", _("Service provider")
    AGENCY = "agency", _("Government agency")
    OPERATOR = "operator", _("Platform operator")


class ProviderType(models.TextChoices):
    FORWARDER = "forwarder", _("Freight forwarder")
    CARRIER = "carrier", _("Carrier")
    BROKER = "broker", _("Customs broker")
    WAREHOUSE = "warehouse", _("Warehouse")
    BANK = "bank", _("Bank")
    INSURER = "insurer", _("Insurer")
    LEGAL = "legal", _("Legal firm")
    PROMOTION = "promotion", _("Export-promotion agency")


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    READ_ONLY = "read_only", _("Read-only")


class OrganisationQuerySet(ScopedQuerySet):
    scope_field = "id"

    def grant_q(self, actor, action):
        # Platform operators see every organisation, to verify, suspend or help it; they change
        # organisations only through the verification services, never as members.
        if action == VIEW and actor.is_operator:
            return Q(pk__isnull=False)
        return None


class Organisation(models.Model):
    legal_name = models.CharField(_("legal name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    provider_types = models.JSONField(_("provider types"), default=list, blank=True)
    country = models.CharField(_("country"), max_length=2)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    subdivision = models.CharField(_("region"), max_length=10, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    verification_reason = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.legal_name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == VerificationStatus.VERIFIED

    @property
    def can_submit_to_third_parties(self) -> bool:
        """Unverified organisations may draft, but send nothing to third parties."""
        return self.is_verified


class IdentifierScheme(models.TextChoices):
    VAT = "vat", _("VAT number")
    TAX = "tax", _("Tax identification number")
    EORI = "eori", _("EORI number")
    BUSINESS = "business", _("National business number")


class OrganisationIdentifier(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(_("scheme"), max_length=16, choices=IdentifierScheme.choices)
    value = models.CharField(_("value"), max_length=40)
    validator = models.CharField(max_length=80, blank=True, help_text="python-stdnum module that checked it")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "scheme"], name="one_identifier_per_scheme")
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()}: {self.value}"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class EvidenceQuerySet(ScopedQuerySet):
    def grant_q(self, actor, action):
        # Platform operators read every organisation's evidence, to verify it.
        if action == VIEW and actor.is_operator:
            return Q(pk__isnull=False)
        return None


def evidence_path(instance: VerificationEvidence, filename: str) -> str:
    return f"evidence/{instance.organisation_id}/{filename}"


class VerificationEvidence(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="evidence")
    description = models.CharField(_("description"), max_length=200)
    file = models.FileField(_("file"), upload_to=evidence_path)
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = EvidenceQuerySet.as_manager()

    def __str__(self) -> str:
        return self.description


class ApiToken(models.Model):
    """A personal access token. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "ismit_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=16)  # first characters, to recognise it in a list
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Notification(models.Model):
    """Something that happened for an organisation, shown in the platform (and e-mailed): one row per
    member, in the member's language; `user` empty means every member."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)  # e.g. "customs.accepted"
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title
