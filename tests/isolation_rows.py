"""B's rows of the marketplace, logistics and tracking, for the isolation tests' "nothing changed" checks."""

from __future__ import annotations

from django.db.models import Q

from ismit.audit.models import AuditEvent
from ismit.logistics.models import Assignment, Consignment, Load, LoadPlan
from ismit.marketplace import models as mp
from ismit.tracking import models as tr


def app_rows(msme_id: int, forwarder_id: int) -> dict:
    """Every marketplace, logistics and tracking row of an MSME and its forwarder, and the forwarder's
    audit count."""
    orgs = [msme_id, forwarder_id]
    querysets = {
        "providers": mp.Provider.objects.filter(organisation__in=orgs),
        "offerings": mp.ServiceOffering.objects.filter(organisation__in=orgs),
        "lanes": mp.Lane.objects.filter(offering__organisation__in=orgs),
        "rate_lines": mp.RateLine.objects.filter(offering__organisation__in=orgs),
        "rfqs": mp.Rfq.objects.filter(organisation__in=orgs),
        "invitations": mp.RfqInvitation.objects.filter(rfq__organisation__in=orgs),
        "quotes": mp.Quote.objects.filter(rfq__organisation__in=orgs),
        "contracts": mp.Contract.objects.filter(organisation__in=orgs),
        "contract_accesses": mp.ContractAccess.objects.filter(contract__organisation__in=orgs),
        "milestones": mp.Milestone.objects.filter(contract__organisation__in=orgs),
        "provider_invoices": mp.ProviderInvoice.objects.filter(contract__organisation__in=orgs),
        "ratings": mp.Rating.objects.filter(contract__organisation__in=orgs),
        "claims": mp.Claim.objects.filter(contract__organisation__in=orgs),
        "consignments": Consignment.objects.filter(Q(organisation__in=orgs) | Q(forwarder__in=orgs)),
        "plans": LoadPlan.objects.filter(forwarder__in=orgs),
        "loads": Load.objects.filter(plan__forwarder__in=orgs),
        "assignments": Assignment.objects.filter(load__plan__forwarder__in=orgs),
        "shipments": tr.Shipment.objects.filter(organisation__in=orgs),
        "shipment_accesses": tr.ShipmentAccess.objects.filter(shipment__organisation__in=orgs),
        "share_links": tr.ShareLink.objects.filter(shipment__organisation__in=orgs),
        "events": tr.Event.objects.filter(shipment__organisation__in=orgs),
        "webhooks": tr.WebhookEndpoint.objects.filter(organisation__in=orgs),
        "subscriptions": tr.Subscription.objects.filter(organisation__in=orgs),
    }
    rows = {name: list(qs.order_by("pk").values()) for name, qs in querysets.items()}
    rows["forwarder_audit"] = AuditEvent.objects.filter(organisation_id=forwarder_id).count()
    return rows
