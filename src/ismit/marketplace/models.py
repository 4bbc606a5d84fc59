"""The service marketplace: providers' catalogues and rate cards, requests for quotation, quotes,
contracts with the data they share, milestones, invoices, ratings and claims, and each provider's
standing (active, suspended, left) and measured quality.

Who sees what (through the one scoping mechanism, `ismit.lib.scoping`):
- a provider's catalogue (Provider, ServiceOffering, Lane, RateLine) is its own to change; any signed-in
  user may view the offerings of active providers (the catalogue is public on the platform);
- an RFQ is its MSME's; a provider sees the RFQs it was invited to (RfqInvitation), and only the cargo
  summary the RFQ carries, never the trade itself;
- a quote is seen by the RFQ's MSME and by the provider that made it;
- a contract (and its milestones, invoices, rating, claims, access log) is seen by both parties; the
  provider reaches the trade's data only through the contract's data scope (`scopes.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ismit.lib.scoping import VIEW, ScopedQuerySet


class ServiceType(models.TextChoices):
    CARRIAGE = "carriage", _("Carriage, door to door")
    CUSTOMS = "customs_brokerage", _("Customs brokerage")
    WAREHOUSING = "warehousing", _("Warehousing")
    INSURANCE = "insurance", _("Cargo insurance")
    FINANCE = "trade_finance", _("Trade finance")


#: which provider types (accounts.ProviderType values) may offer a service
PROVIDER_TYPES_OF_SERVICE: dict[str, tuple[str, ...]] = {
    ServiceType.CARRIAGE: ("forwarder", "carrier"),
    ServiceType.CUSTOMS: ("broker",),
    ServiceType.WAREHOUSING: ("warehouse",),
    ServiceType.INSURANCE: ("insurer",),
    ServiceType.FINANCE: ("bank",),
}

#: the checklist step (trades.checklist) a contract for the service books
STEP_OF_SERVICE: dict[str, str] = {
    ServiceType.CARRIAGE: "carriage_booked",
    ServiceType.CUSTOMS: "export_declaration",
    ServiceType.INSURANCE: "cargo_insurance",
    ServiceType.FINANCE: "lc_opened",
    ServiceType.WAREHOUSING: "goods_ready",
}


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left the marketplace")


# -- querysets ---------------------------------------------------------------------------------------------


class ProviderQuerySet(ScopedQuerySet):
    """A provider's standing: its own organisation manages it; every signed-in user may view an active one;
    operators view every one (to suspend, reinstate or record its exit)."""

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        if actor.is_operator:
            return Q(pk__isnull=False)
        return Q(status=ProviderStatus.ACTIVE)

    def listed(self) -> ProviderQuerySet:
        """Providers that may receive RFQs: active in the marketplace and verified on the platform."""
        return self.filter(status=ProviderStatus.ACTIVE, organisation__verification_status="verified")


class CatalogueQuerySet(ScopedQuerySet):
    """Offerings: changed by their provider; viewed by anyone signed in while the provider is active, and
    by operators."""

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        if actor.is_operator:
            return Q(pk__isnull=False)
        return Q(organisation__marketplace_provider__status=ProviderStatus.ACTIVE, active=True)


class OfferingChildQuerySet(ScopedQuerySet):
    scope_field = "offering__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(
            offering__organisation__marketplace_provider__status=ProviderStatus.ACTIVE, offering__active=True
        )


class RfqQuerySet(ScopedQuerySet):
    """An RFQ is its MSME's; an invited provider views it (its cargo summary, not the trade)."""

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        invited = RfqInvitation.objects.filter(provider_id__in=actor.organisation_scope(VIEW)).values(
            "rfq_id"
        )
        return Q(pk__in_array=invited)


class InvitationQuerySet(ScopedQuerySet):
    scope_field = "rfq__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(provider_id__in=actor.organisation_scope(VIEW))


class QuoteQuerySet(ScopedQuerySet):
    """A quote: the RFQ's MSME views it; its provider views and changes it."""

    scope_field = "provider"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(rfq__organisation_id__in=actor.organisation_scope(VIEW))


class ContractQuerySet(ScopedQuerySet):
    """A contract is the MSME's (scope_field) and the provider's (grant, view and change: the provider
    records milestones and invoices through services that check which party acts)."""

    def grant_q(self, actor, action: str) -> Q | None:
        return Q(provider_id__in=actor.organisation_scope(action))


class ContractChildQuerySet(ScopedQuerySet):
    scope_field = "contract__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        return Q(contract__provider_id__in=actor.organisation_scope(action))


# -- the catalogue -----------------------------------------------------------------------------------------


class Provider(models.Model):
    """An organisation's standing in the marketplace, and its measured quality (recomputed by
    `quality.refresh_provider` after every event that changes a KPI)."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="marketplace_provider"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # Quality: the score (0–100) and the KPIs it is computed from (docs/marketplace.md gives the formula).
    quality_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    kpis = models.JSONField(default=dict, blank=True)
    kpis_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("marketplace provider")
        verbose_name_plural = _("marketplace providers")

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.status}"


class ServiceOffering(models.Model):
    """One service a provider sells, where, for which cargo, and at what rates (its RateLines)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="offerings"
    )
    name = models.CharField(_("name"), max_length=120)
    service_type = models.CharField(_("service"), max_length=20, choices=ServiceType.choices)
    # Rec 19 transport mode codes ("1" sea, "3" road, "4" air …); empty: any mode (e.g. insurance).
    modes = models.JSONField(_("transport modes"), default=list, blank=True)
    max_mass_kg = models.DecimalField(
        _("maximum mass (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    max_volume_m3 = models.DecimalField(
        _("maximum volume (m³)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    dangerous_goods = models.BooleanField(_("accepts dangerous goods"), default=False)
    temperature_control = models.BooleanField(_("temperature controlled"), default=False)
    currency = models.ForeignKey(
        "refdata.Currency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    transit_days = models.PositiveSmallIntegerField(_("transit time (days)"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "name", "id"]
        indexes = [models.Index(fields=["service_type", "active", "valid_until"], name="offering_match")]
        verbose_name = _("service offering")
        verbose_name_plural = _("service offerings")

    def __str__(self) -> str:
        return self.name


class Lane(models.Model):
    """Where an offering applies: from a country (or one UN/LOCODE in it) to a country (or one place).
    An empty location covers the whole country."""

    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="lanes")
    origin_country = models.CharField(_("origin country"), max_length=2)
    origin_location = models.CharField(_("origin UN/LOCODE"), max_length=5, blank=True)
    destination_country = models.CharField(_("destination country"), max_length=2)
    destination_location = models.CharField(_("destination UN/LOCODE"), max_length=5, blank=True)

    objects = OfferingChildQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["origin_country", "destination_country"], name="lane_countries")]
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")

    def __str__(self) -> str:
        origin = self.origin_location or self.origin_country
        return f"{origin}→{self.destination_location or self.destination_country}"


class RateBasis(models.TextChoices):
    SHIPMENT = "shipment", _("per shipment")
    KG = "kg", _("per kg (gross)")
    M3 = "m3", _("per m³")
    CONTAINER_20 = "container_20", _("per 20' container")
    CONTAINER_40 = "container_40", _("per 40' container")
    CONTAINER_40HC = "container_40hc", _("per 40' high cube container")
    VALUE_PERCENT = "value_percent", _("percent of the goods' value")
    MINIMUM = "minimum", _("minimum charge")


class RateLine(models.Model):
    """One line of an offering's rate card. Base lines (is_surcharge False) are summed and lifted to the
    minimum charge if any; surcharges (BAF, THC, documentation …) are then added, each itemised."""

    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="rate_lines")
    code = models.CharField(_("code"), max_length=12)  # e.g. FRT, BAF, THC, DOC, INS
    description = models.CharField(_("description"), max_length=120)
    basis = models.CharField(_("basis"), max_length=16, choices=RateBasis.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=4)
    is_surcharge = models.BooleanField(_("surcharge"), default=False)

    objects = OfferingChildQuerySet.as_manager()

    class Meta:
        ordering = ["offering", "is_surcharge", "id"]
        verbose_name = _("rate line")
        verbose_name_plural = _("rate lines")

    def __str__(self) -> str:
        return f"{self.code} {self.amount} {self.basis}"


# -- requests for quotation and quotes -------------------------------------------------------------------


class RfqStatus(models.TextChoices):
    OPEN = "open", _("Open for quotes")
    CLOSED = "closed", _("Closed (deadline passed)")
    AWARDED = "awarded", _("Awarded")
    CANCELLED = "cancelled", _("Cancelled")


class Rfq(models.Model):
    """A request for quotation made from a trade. `cargo` is the summary every invited provider sees
    (marketplace.cargo.CargoSpec as JSON): lane, mode, masses, volume, packages, dangerous goods,
    temperature, value, ready date — never the parties or the trade's other data."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="rfqs")
    trade = models.ForeignKey("trades.Trade", on_delete=models.CASCADE, related_name="rfqs")
    reference = models.CharField(_("reference"), max_length=40)
    services = models.JSONField(_("services"), default=list)  # ServiceType values
    cargo = models.JSONField(default=dict)
    currency = models.ForeignKey(  # the MSME's currency, in which quotes are compared
        "refdata.Currency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    notes = models.TextField(_("notes for providers"), blank=True)
    deadline = models.DateTimeField(_("quotes due by"))
    status = models.CharField(_("status"), max_length=10, choices=RfqStatus.choices, default=RfqStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RfqQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="rfq_reference_unique")
        ]
        verbose_name = _("request for quotation")
        verbose_name_plural = _("requests for quotation")

    def __str__(self) -> str:
        return self.reference


class RfqInvitation(models.Model):
    """A provider the RFQ was sent to (matched by its offering's coverage), and when it answered."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="invitations")
    provider = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="rfq_invitations"
    )
    offering = models.ForeignKey(ServiceOffering, on_delete=models.SET_NULL, null=True, related_name="+")
    service_type = models.CharField(max_length=20, choices=ServiceType.choices)
    invited_at = models.DateTimeField(default=timezone.now)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)  # first firm quote or decline
    declined = models.BooleanField(default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rfq", "provider", "service_type"], name="one_invitation_per_service"
            )
        ]
        indexes = [models.Index(fields=["provider", "-invited_at"], name="invitation_inbox")]

    def __str__(self) -> str:
        return f"{self.rfq_id}:{self.provider_id}:{self.service_type}"


class QuoteKind(models.TextChoices):
    INDICATIVE = "indicative", _("Indicative (from the rate card)")
    FIRM = "firm", _("Firm (all-in, binding while valid)")


class QuoteStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("quote status", "Withdrawn")
    EXPIRED = "expired", _("Expired")


class Quote(models.Model):
    """A price for one service of an RFQ. Firm quotes are all-in: `lines` itemise every charge
    ([{code, description, basis, quantity, rate, amount}]) and `total` is their sum."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="quotes")
    provider = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="quotes")
    offering = models.ForeignKey(
        ServiceOffering, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service_type = models.CharField(_("service"), max_length=20, choices=ServiceType.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=QuoteKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.SUBMITTED
    )
    currency = models.ForeignKey(
        "refdata.Currency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lines = models.JSONField(default=list)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    transit_days = models.PositiveSmallIntegerField(_("transit time (days)"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), blank=True)
    # The service levels the provider commits to: {"pickup_within_days": n, "claims_response_days": n}
    sla = models.JSONField(_("service levels"), default=dict, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["rfq", "service_type", "total", "id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self) -> str:
        return f"{self.service_type} {self.total} {self.currency_id}"


# -- contracts ---------------------------------------------------------------------------------------------


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    COMPLETED = "completed", pgettext_lazy("contract status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("contract status", "Cancelled")


class Contract(models.Model):
    """Made when an MSME accepts a quote. Names the parties, the service, the price, the SLA and the
    data scope: the provider's view of the trade holds only the fields of `data_scope` (scopes.py)."""

    organisation = models.ForeignKey(  # the MSME
        "accounts.Organisation", on_delete=models.PROTECT, related_name="service_contracts"
    )
    provider = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="provider_contracts"
    )
    trade = models.ForeignKey("trades.Trade", on_delete=models.PROTECT, related_name="service_contracts")
    rfq = models.ForeignKey(Rfq, on_delete=models.PROTECT, related_name="contracts")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="contract")
    reference = models.CharField(_("reference"), max_length=40)
    service_type = models.CharField(_("service"), max_length=20, choices=ServiceType.choices)
    currency = models.ForeignKey(
        "refdata.Currency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    price = models.DecimalField(_("price"), max_digits=16, decimal_places=2)
    # {"pickup_within_days": n, "transit_days": n, "claims_response_days": n}
    sla = models.JSONField(default=dict, blank=True)
    data_scope = models.JSONField(default=list)  # field groups of scopes.py
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    status_reason = models.TextField(blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="contract_reference_unique")
        ]
        indexes = [models.Index(fields=["provider", "status"], name="contract_provider")]
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")

    def __str__(self) -> str:
        return self.reference


class ContractAccess(models.Model):
    """Every time the provider's side read the trade data a contract shares (page or API). The MSME sees
    this log on the contract."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8)  # "page" or "api"
    fields = models.JSONField(default=list)  # the scope's field groups that were returned
    at = models.DateTimeField(default=timezone.now)

    objects = ContractChildQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.channel}:{self.at:%Y-%m-%d %H:%M}"


class Milestone(models.Model):
    """A service milestone the provider records (picked up, departed, delivered, cleared, insured …);
    some move the trade's checklist."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    code = models.CharField(_("milestone"), max_length=24)
    at = models.DateTimeField(_("when"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ContractChildQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "at", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.code}"


class ProviderInvoice(models.Model):
    """The provider's invoice against a contract. `lines` as a quote's; the difference with the accepted
    quote is shown line by line and counts in the provider's quality."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=40)
    issued_on = models.DateField(_("issued on"))
    currency = models.ForeignKey(
        "refdata.Currency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lines = models.JSONField(default=list)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    variance = models.DecimalField(
        max_digits=16, decimal_places=2, default=0
    )  # total − accepted quote's total
    created_at = models.DateTimeField(default=timezone.now)

    objects = ContractChildQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "issued_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="provider_invoice_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.number}"


class Rating(models.Model):
    """The MSME's rating of a completed contract: one per contract."""

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="rating")
    stars = models.PositiveSmallIntegerField(_("rating (1 to 5)"))
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ContractChildQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_range")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.stars}"


class ClaimStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SETTLED = "settled", _("Settled")
    REJECTED = "rejected", _("Rejected")


class Claim(models.Model):
    """A claim the MSME makes against a contract (loss, damage, delay, overcharge)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="claims")
    reason = models.TextField(_("reason"))
    amount = models.DecimalField(_("amount claimed"), max_digits=16, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    objects = ContractChildQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "opened_at", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.status}"
