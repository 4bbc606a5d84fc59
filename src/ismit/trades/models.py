"""The trade transaction: the single data set that every document and message is a view of."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismit.accounts.models import ProviderType
from ismit.lib.scoping import VIEW, ScopedQuerySet


class Direction(models.TextChoices):
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")


class PaymentTerms(models.TextChoices):
    ADVANCE = "advance", _("Cash in advance")
    LETTER_OF_CREDIT = "lc", _("Documentary letter of credit")
    COLLECTION = "collection", _("Documentary collection")
    OPEN_ACCOUNT = "open_account", _("Open account")


class TradeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Party(models.Model):
    """A seller, buyer or consignee: often an organisation that is not on the platform."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The organisation whose address book holds this party.",
    )
    linked_organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The party's own organisation, where it is on the platform.",
    )
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.ForeignKey("refdata.Country", on_delete=models.PROTECT, db_index=False, related_name="+")
    identifiers = models.JSONField(
        _("identifiers"), default=dict, blank=True
    )  # {"vat": "...", "eori": "..."}
    email = models.EmailField(_("e-mail"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self) -> str:
        return f"{self.name} ({self.country_id})"


class TradeQuerySet(ScopedQuerySet):
    def grant_q(self, actor, action: str) -> Q | None:
        # An organisation appointed on a trade (TradeGrant) sees it; it never changes the owner's data.
        if action != VIEW:
            return None
        return Q(pk__in_array=TradeGrant.objects.granted_trade_ids(actor.organisation_scope(VIEW)))

    def of_organisation(self, organisation_id: int) -> TradeQuerySet:
        """The organisation's own trades and those it is appointed on (lists of one organisation)."""
        return self.filter(
            Q(organisation_id=organisation_id)
            | Q(pk__in_array=TradeGrant.objects.granted_trade_ids([organisation_id]))
        )


class TradeChildQuerySet(ScopedQuerySet):
    """Rows that belong to a trade are owned by the trade's organisation, and seen under its grants."""

    scope_field = "trade__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(trade_id__in_array=TradeGrant.objects.granted_trade_ids(actor.organisation_scope(VIEW)))


class Trade(models.Model):
    # Foreign keys to code lists carry no index of their own: an index there costs every write and
    # serves no read (code-list rows are not deleted while trades use them). The organisation's is the
    # leading column of the trade's unique constraint and list index.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, db_index=False, related_name="trades"
    )
    reference = models.CharField(_("reference"), max_length=40)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=TradeStatus.choices, default=TradeStatus.DRAFT
    )
    seller = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+", verbose_name=_("seller"))
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+", verbose_name=_("buyer"))
    consignee = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("consignee")
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    invoice_date = models.DateField(_("invoice date"), null=True, blank=True)
    currency = models.ForeignKey(
        "refdata.Currency",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("currency"),
    )
    incoterm = models.ForeignKey(
        "refdata.Incoterm",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("Incoterms rule"),
    )
    incoterm_place = models.ForeignKey(
        "refdata.Location",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("Incoterms named place"),
    )
    transport_mode = models.ForeignKey(
        "refdata.TransportMode",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("transport mode"),
    )
    place_of_loading = models.ForeignKey(
        "refdata.Location",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("place of loading"),
    )
    place_of_discharge = models.ForeignKey(
        "refdata.Location",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("place of discharge"),
    )
    planned_departure = models.DateField(_("planned departure"), null=True, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=16, choices=PaymentTerms.choices)
    payment_days = models.PositiveSmallIntegerField(_("payment due (days)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TradeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="trade_reference_unique_per_org"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at"]),
            # A UN/LOCODE release removes entries: the loader asks, for each, whether a trade uses it.
            models.Index(fields=["incoterm_place"], name="trade_incoterm_place"),
            models.Index(fields=["place_of_loading"], name="trade_place_of_loading"),
            models.Index(fields=["place_of_discharge"], name="trade_place_of_discharge"),
        ]
        verbose_name = _("trade transaction")
        verbose_name_plural = _("trade transactions")

    def __str__(self) -> str:
        return self.reference

    @property
    def origin_country_id(self) -> str:
        return self.place_of_loading.country

    @property
    def destination_country_id(self) -> str:
        return self.place_of_discharge.country


class GoodsItem(models.Model):
    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, db_index=False, related_name="items")
    line_no = models.PositiveIntegerField(_("line"))
    description = models.CharField(_("description"), max_length=300)
    hs_code = models.ForeignKey(
        "refdata.HSCode",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("HS code"),
    )
    origin_country = models.ForeignKey(
        "refdata.Country",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("country of origin"),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3)
    unit = models.ForeignKey(
        "refdata.UnitOfMeasure",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("unit"),
    )
    packages_count = models.PositiveIntegerField(_("number of packages"))
    package_type = models.ForeignKey(
        "refdata.PackageType",
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("package type"),
    )
    net_mass_kg = models.DecimalField(_("net mass (kg)"), max_digits=14, decimal_places=3)
    gross_mass_kg = models.DecimalField(_("gross mass (kg)"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=4)

    objects = TradeChildQuerySet.as_manager()

    class Meta:
        ordering = ["trade", "line_no"]
        constraints = [models.UniqueConstraint(fields=["trade", "line_no"], name="goods_line_unique")]
        # Which trades carry a commodity: statistics, and the check before an HS revision removes a code.
        indexes = [models.Index(fields=["hs_code"], name="goods_hs_code")]

    def __str__(self) -> str:
        return f"{self.line_no}. {self.description}"

    @property
    def line_amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class StepCategory(models.TextChoices):
    COMMERCIAL = "commercial", _("Commercial")
    LOGISTICS = "logistics", _("Logistics")
    REGULATORY = "regulatory", _("Regulatory")
    FINANCIAL = "financial", _("Financial")


class StepStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    BLOCKED = "blocked", _("Blocked")
    NOT_NEEDED = "not_needed", _("Not needed")


class ChecklistStep(models.Model):
    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, db_index=False, related_name="steps")
    code = models.CharField(max_length=40)
    category = models.CharField(max_length=12, choices=StepCategory.choices)
    position = models.PositiveSmallIntegerField()
    responsible = models.CharField(max_length=8)  # "seller" or "buyer": from the Incoterms rule
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.TODO)
    acting_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TradeChildQuerySet.as_manager()

    class Meta:
        ordering = ["trade", "position"]
        constraints = [models.UniqueConstraint(fields=["trade", "code"], name="step_code_unique")]

    def __str__(self) -> str:
        return f"{self.trade_id}:{self.code}={self.status}"


class ColumnMapping(models.Model):
    """A trader's own spreadsheet layout, saved once and reused for bulk imports."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("columns"), default=dict)  # {our field: their column header}
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="mapping_name_unique")]

    def __str__(self) -> str:
        return self.name


# -- grants: other organisations appointed on one trade -----------------------------------------------


class GrantScope(models.TextChoices):
    """What an appointed organisation does on the trade. Each scope names the provider type it needs
    (SCOPE_PROVIDER_TYPES); the marketplace adds its contract scopes here (e.g. "carriage")."""

    CUSTOMS = "customs", _("Customs brokerage")


#: The provider types (any one of them) an organisation must have, verified, to be appointed for a scope.
SCOPE_PROVIDER_TYPES: dict[str, tuple[str, ...]] = {
    GrantScope.CUSTOMS: (ProviderType.BROKER,),
    # e.g. the marketplace's "carriage": (ProviderType.FORWARDER, ProviderType.CARRIER)
}


class TradeGrantQuerySet(ScopedQuerySet):
    """A grant is seen by the trade's owner organisation and by the organisation it appoints."""

    scope_field = "trade__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(organisation_id__in=actor.organisation_scope(VIEW))

    def active(self) -> TradeGrantQuerySet:
        return self.filter(revoked_at__isnull=True)

    def granted_trade_ids(self, organisation_ids) -> TradeGrantQuerySet:
        """Subquery of the ids of the trades with an active grant for one of these organisations (ids or
        a subquery of ids). Used inside the scoping query: no query of its own."""
        return self.filter(organisation_id__in=organisation_ids, revoked_at__isnull=True).values("trade_id")


class TradeGrant(models.Model):
    """An organisation appointed by a trade's owner to act on that one trade within a scope: a customs
    broker reviews and submits its declarations in its own name. It sees the trade (and its goods and
    steps) while the grant is active; it never changes the owner's data. Revoked grants stay on record."""

    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, related_name="grants")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="trade_grants"
    )
    scope = models.CharField(_("scope"), max_length=16, choices=GrantScope.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TradeGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One active grant per trade, organisation and scope. Its leading column serves the scoping
            # subquery (the active grants of the actor's organisations).
            models.UniqueConstraint(
                fields=["organisation", "trade", "scope"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_grant",
            )
        ]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")

    def __str__(self) -> str:
        return f"{self.trade_id}:{self.organisation_id}:{self.scope}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
