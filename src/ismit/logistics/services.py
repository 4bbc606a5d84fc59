"""Writes of the logistics app: an MSME releases a consignment of its trade to a forwarder (or withdraws
it before planning); the forwarder plans a lane and week with the optimiser, and each MSME whose
consignment is planned is told its load and share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ismit.accounts.actors import Actor
from ismit.accounts.models import Organisation, OrganisationKind, ProviderType
from ismit.accounts.services import notify
from ismit.audit.services import record_event
from ismit.lib.scoping import CHANGE
from ismit.logistics.models import Assignment, Consignment, ConsignmentStatus, Load, LoadPlan
from ismit.logistics.optimiser import InputError, optimise, parse_consignment, parse_problem
from ismit.refdata.models import Currency
from ismit.trades.models import Trade

#: UN/ECE Recommendation 19 codes of the modes consolidated
MODE_OF_REC19 = {"1": "sea", "4": "air"}
PLAN_TIME_LIMIT_S = 5.0


def is_forwarder(organisation: Organisation) -> bool:
    return (
        organisation.kind == OrganisationKind.PROVIDER
        and ProviderType.FORWARDER in (organisation.provider_types or [])
        and organisation.is_verified
    )


def packages_from_goods(trade: Trade, *, length_cm: float, width_cm: float, height_cm: float) -> list[dict]:
    """One package line per goods item: its number of packages and gross mass, with the given size."""
    lines = []
    for item in trade.items.all().order_by("line_no"):
        count = max(1, int(item.packages_count or 1))
        lines.append(
            {
                "count": count,
                "length_cm": length_cm,
                "width_cm": width_cm,
                "height_cm": height_cm,
                "mass_kg": round(float(item.gross_mass_kg) / count, 6),
                "stackable": True,
            }
        )
    return lines


def release_consignment(
    *,
    actor: Actor,
    trade: Trade,
    forwarder: Organisation,
    ready_from: dt.date,
    ready_to: dt.date,
    packages: list[dict],
    category: str = "general",
    dangerous_goods: str | None = None,
    temperature: tuple[Decimal, Decimal] | None = None,
) -> Consignment:
    """Release goods of a trade for consolidation by a verified forwarder. The lane comes from the
    trade's places of loading and discharge, the mode from its transport mode (sea or air)."""
    if not actor.can(CHANGE, trade.organisation_id):
        raise PermissionDenied(_("You may not change this trade."))
    if not trade.organisation.is_verified:
        raise PermissionDenied(_("Your organisation must be verified before it sends anything to others."))
    if not is_forwarder(forwarder):
        raise ValidationError({"forwarder": [_("Choose a verified freight forwarder.")]})
    mode = MODE_OF_REC19.get(trade.transport_mode_id)
    if mode is None:
        raise ValidationError({"mode": [_("Only sea and air shipments are consolidated.")]})
    reference = f"CN-{trade.organisation_id}-{trade.reference}-{timezone.now():%y%m%d%H%M%S%f}"[:40]
    raw: dict[str, Any] = {
        "id": reference,
        "origin": trade.place_of_loading_id,
        "destination": trade.place_of_discharge_id,
        "mode": mode,
        "ready_from": ready_from.isoformat() if ready_from else None,
        "ready_to": ready_to.isoformat() if ready_to else None,
        "dangerous_goods": dangerous_goods or None,
        "category": category,
        "temperature": (
            {"min_c": float(temperature[0]), "max_c": float(temperature[1])}
            if temperature is not None
            else None
        ),
        "packages": packages,
    }
    try:
        parsed = parse_consignment(0, raw)
    except InputError as exc:
        message = str(exc).split(": ", 1)[-1]
        field = message.split(" ", 1)[0]
        raise ValidationError({field: [message]})
    with transaction.atomic():
        consignment = Consignment.objects.create(
            organisation_id=trade.organisation_id,
            trade=trade,
            forwarder=forwarder,
            reference=reference,
            mode=mode,
            origin=parsed.origin,
            destination=parsed.destination,
            ready_from=parsed.ready_from,
            ready_to=parsed.ready_to,
            dangerous_goods=parsed.dangerous_goods or "",
            category=parsed.category,
            temperature_min_c=None if temperature is None else temperature[0],
            temperature_max_c=None if temperature is None else temperature[1],
            packages=[p.__dict__ for p in parsed.packages],
            mass_kg=Decimal(str(round(parsed.mass_kg, 1))),
            volume_m3=Decimal(str(round(parsed.volume_m3, 3))),
            released_by=actor.user,
        )
        record_event(
            actor=actor,
            organisation_id=trade.organisation_id,
            action="logistics.consignment.released",
            obj=consignment,
            changes={
                "trade": trade.pk,
                "forwarder": forwarder.pk,
                "lane": f"{parsed.origin}-{parsed.destination}",
            },
        )
        notify(
            organisation_id=forwarder.pk,
            kind="logistics.consignment.released",
            title=gettext_lazy("A consignment was released to you for consolidation"),
            body=f"{consignment.origin} → {consignment.destination}",
            url=reverse("logistics:index"),
        )
    return consignment


def withdraw_consignment(*, actor: Actor, consignment: Consignment) -> Consignment:
    """Take a consignment back before it is planned."""
    if not actor.can(CHANGE, consignment.organisation_id):
        raise PermissionDenied(_("You may not change this consignment."))
    with transaction.atomic():
        updated = Consignment.objects.filter(pk=consignment.pk, status=ConsignmentStatus.RELEASED).update(
            status=ConsignmentStatus.WITHDRAWN, withdrawn_at=timezone.now()
        )
        if not updated:
            raise ValidationError({"status": [_("Only a consignment not planned yet can be withdrawn.")]})
        consignment.refresh_from_db()
        record_event(
            actor=actor,
            organisation_id=consignment.organisation_id,
            action="logistics.consignment.withdrawn",
            obj=consignment,
        )
    return consignment


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def plan_consolidation(
    *,
    actor: Actor,
    forwarder: Organisation,
    mode: str,
    origin: str,
    destination: str,
    week: dt.date,
    currency: str = "USD",
    load_types: list | None = None,
) -> LoadPlan:
    """Run the optimiser on the consignments released to the forwarder on a lane whose ready window
    meets the week, and save the plan. Consignments it cannot place stay released (with the reason in
    the plan); planned ones are assigned to their load and their MSMEs told."""
    if not actor.can(CHANGE, forwarder.pk):
        raise PermissionDenied(_("You may not plan for this forwarder."))
    if not is_forwarder(forwarder):
        raise PermissionDenied(_("Only a verified freight forwarder plans consolidations."))
    monday = week_of(week)
    sunday = monday + dt.timedelta(days=6)
    if not Currency.objects.filter(pk=currency).exists():
        raise ValidationError({"currency": [_("Unknown currency.")]})
    with transaction.atomic():
        consignments = list(
            Consignment.objects.select_for_update()
            .filter(
                forwarder=forwarder,
                status=ConsignmentStatus.RELEASED,
                mode=mode,
                origin=origin,
                destination=destination,
                ready_from__lte=sunday,
                ready_to__gte=monday,
            )
            .order_by("id")
        )
        if not consignments:
            raise ValidationError({"lane": [_("No consignment is released on this lane for this week.")]})
        data: dict[str, Any] = {"consignments": [c.as_input() for c in consignments], "currency": currency}
        if load_types:
            data["load_types"] = load_types
        try:
            result = optimise(parse_problem(data), time_limit_s=PLAN_TIME_LIMIT_S)
        except InputError as exc:
            raise ValidationError({"load_types": [str(exc)]})
        plan = LoadPlan.objects.create(
            forwarder=forwarder,
            mode=mode,
            origin=origin,
            destination=destination,
            week=monday,
            currency_id=currency,
            summary=result["summary"],
            unplaced=result["unplaced"],
            created_by=actor.user,
        )
        by_reference = {c.reference: c for c in consignments}
        names = {t["code"]: t["name"] for t in result["load_types"]}
        owners = {
            o.pk: o.legal_name
            for o in Organisation.objects.filter(pk__in={c.organisation_id for c in consignments})
        }
        assignments = []
        for row in result["loads"]:
            manifest = [
                {**line, "owner": owners.get(int(line["owner"]), line["owner"])} for line in row["manifest"]
            ]
            load = Load.objects.create(
                plan=plan,
                number=row["id"],
                load_type=row["type"],
                load_type_name=names.get(row["type"], row["type"]),
                ship_date=dt.date.fromisoformat(row["ship_date"]),
                mass_kg=Decimal(str(row["mass_kg"])),
                volume_m3=Decimal(str(row["volume_m3"])),
                mass_pct=Decimal(str(row["mass_pct"])),
                volume_pct=Decimal(str(row["volume_pct"])),
                price=Decimal(row["price"]),
                manifest=manifest,
            )
            for share in row["shares"]:
                assignments.append(
                    Assignment(
                        load=load,
                        consignment=by_reference[share["consignment"]],
                        chargeable=Decimal(str(share["chargeable"])),
                        unit=share["unit"],
                        share=Decimal(share["amount"]),
                    )
                )
        Assignment.objects.bulk_create(assignments)
        planned = [a.consignment.pk for a in assignments]
        Consignment.objects.filter(pk__in=planned).update(status=ConsignmentStatus.PLANNED)
        record_event(
            actor=actor,
            organisation_id=forwarder.pk,
            action="logistics.plan.created",
            obj=plan,
            changes={
                "lane": f"{origin}-{destination}",
                "week": monday,
                "loads": len(result["loads"]),
                "planned": planned,
            },
        )
        for assignment in assignments:
            consignment = assignment.consignment
            record_event(
                actor=actor,
                organisation_id=consignment.organisation_id,
                action="logistics.consignment.planned",
                obj=consignment,
                changes={
                    "load_type": assignment.load.load_type,
                    "ship_date": assignment.load.ship_date,
                    "share": assignment.share,
                },
            )
            notify(
                organisation_id=consignment.organisation_id,
                kind="logistics.consignment.planned",
                title=gettext_lazy("Your consignment is planned in a shared load"),
                body=(
                    f"{assignment.load.load_type_name}, {assignment.load.ship_date:%Y-%m-%d}: "
                    f"{assignment.share} {currency}"
                ),
                url=reverse("logistics:trade", args=[consignment.trade_id]),
            )
    return plan
