"""Consolidation: consignments that MSMEs release to a forwarder, and the forwarder's load plans.

An MSME owns its Consignment; the forwarder it was released to sees it (a grant on the queryset). A
LoadPlan, its Loads and the Assignments of consignments to loads are the forwarder's; an MSME sees only
its own consignment's Assignment (the load's type, fill and ship date, and its share), never the plan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ismit.lib.scoping import VIEW, ScopedQuerySet


class ConsignmentStatus(models.TextChoices):
    RELEASED = "released", _("Released for consolidation")
    PLANNED = "planned", _("Planned in a load")
    WITHDRAWN = "withdrawn", pgettext_lazy("consignment status", "Withdrawn")


class Mode(models.TextChoices):
    SEA = "sea", _("Sea")
    AIR = "air", _("Air")


class ConsignmentQuerySet(ScopedQuerySet):
    scope_field = "organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        # The forwarder a consignment was released to sees it (withdrawn ones no more); it changes none.
        if action != VIEW:
            return None
        return Q(forwarder_id__in_array=actor.organisation_scope(VIEW)) & ~Q(
            status=ConsignmentStatus.WITHDRAWN
        )


class Consignment(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, db_index=False, related_name="consignments"
    )
    trade = models.ForeignKey("trades.Trade", on_delete=models.PROTECT, related_name="consignments")
    forwarder = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="consignments_received",
        verbose_name=_("forwarder"),
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    mode = models.CharField(_("mode"), max_length=3, choices=Mode.choices)
    origin = models.CharField(_("origin"), max_length=5)
    destination = models.CharField(_("destination"), max_length=5)
    ready_from = models.DateField(_("ready from"))
    ready_to = models.DateField(_("ready until"))
    dangerous_goods = models.CharField(_("dangerous goods class"), max_length=4, blank=True)
    category = models.CharField(_("cargo category"), max_length=16, default="general")
    temperature_min_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    temperature_max_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    #: [{count, length_cm, width_cm, height_cm, mass_kg, stackable}] as the optimiser reads them
    packages = models.JSONField(_("packages"))
    mass_kg = models.DecimalField(_("mass (kg)"), max_digits=12, decimal_places=1)
    volume_m3 = models.DecimalField(_("volume (m³)"), max_digits=10, decimal_places=3)
    status = models.CharField(
        _("status"), max_length=12, choices=ConsignmentStatus.choices, default=ConsignmentStatus.RELEASED
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ConsignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-released_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "status"], name="consignment_org_status"),
            models.Index(
                fields=["forwarder", "status", "origin", "destination"], name="consignment_fwd_lane"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def as_input(self) -> dict:
        """The consignment in the optimiser's input format."""
        temperature = None
        if self.temperature_min_c is not None and self.temperature_max_c is not None:
            temperature = {"min_c": float(self.temperature_min_c), "max_c": float(self.temperature_max_c)}
        return {
            "id": self.reference,
            "owner": str(self.organisation_id),
            "origin": self.origin,
            "destination": self.destination,
            "mode": self.mode,
            "ready_from": self.ready_from.isoformat(),
            "ready_to": self.ready_to.isoformat(),
            "dangerous_goods": self.dangerous_goods or None,
            "category": self.category,
            "temperature": temperature,
            "packages": self.packages,
        }


class LoadPlanQuerySet(ScopedQuerySet):
    scope_field = "forwarder"


class LoadPlan(models.Model):
    forwarder = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, db_index=False, related_name="load_plans"
    )
    mode = models.CharField(_("mode"), max_length=3, choices=Mode.choices)
    origin = models.CharField(_("origin"), max_length=5)
    destination = models.CharField(_("destination"), max_length=5)
    week = models.DateField(_("week (Monday)"))
    currency = models.ForeignKey(
        "refdata.Currency", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    #: the optimiser's summary, and the consignments it could not place with their reasons
    summary = models.JSONField(default=dict)
    unplaced = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LoadPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["forwarder", "week"], name="loadplan_forwarder_week")]

    def __str__(self) -> str:
        return f"{self.origin}-{self.destination} {self.week:%G-W%V}"


class LoadQuerySet(ScopedQuerySet):
    scope_field = "plan__forwarder"


class Load(models.Model):
    plan = models.ForeignKey(LoadPlan, on_delete=models.CASCADE, related_name="loads")
    number = models.CharField(max_length=8)
    load_type = models.CharField(_("load type"), max_length=16)
    load_type_name = models.CharField(max_length=60)
    ship_date = models.DateField(_("ship date"))
    mass_kg = models.DecimalField(max_digits=12, decimal_places=1)
    volume_m3 = models.DecimalField(max_digits=10, decimal_places=3)
    mass_pct = models.DecimalField(max_digits=5, decimal_places=1)
    volume_pct = models.DecimalField(max_digits=5, decimal_places=1)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    manifest = models.JSONField(default=list)

    objects = LoadQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]

    def __str__(self) -> str:
        return f"{self.number} {self.load_type}"


class AssignmentQuerySet(ScopedQuerySet):
    """An MSME sees its consignment's assignment; the forwarder that made the plan sees them all."""

    scope_field = "consignment__organisation"

    def grant_q(self, actor, action: str) -> Q | None:
        if action != VIEW:
            return None
        return Q(load__plan__forwarder_id__in_array=actor.organisation_scope(VIEW))


class Assignment(models.Model):
    load = models.ForeignKey(Load, on_delete=models.CASCADE, related_name="assignments")
    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="assignment")
    chargeable = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=16)
    share = models.DecimalField(_("share of the price"), max_digits=14, decimal_places=2)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["load", "consignment"]

    def __str__(self) -> str:
        return f"{self.consignment} in {self.load}"
