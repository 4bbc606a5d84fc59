"""The two filings side by side: what differs between the FX settlement report and the VAT refund claim."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ismit.finance.models import FxReport, FxReportVersion, VatClaim, VatClaimVersion


@dataclass(frozen=True)
class Kind:
    code: str  # "fx" | "vat": the cross-check's kind, the SingleWindow procedure
    model: type
    version_model: type
    topic: str  # of the outbox messages
    path: str  # on the single window
    json_kind: str  # "kind" of the single window's JSON notifications
    step_code: str  # the trade's checklist step it completes
    prefix: str  # of the references
    audit: str  # audit actions: finance.<audit>_submitted…
    label: object


FX_KIND = Kind(
    code="fx",
    model=FxReport,
    version_model=FxReportVersion,
    topic="finance.fx_report",
    path="/fx/settlements",
    json_kind="fx_settlement",
    step_code="fx_settlement",
    prefix="FX",
    audit="fx_report",
    label=_("FX settlement report"),
)
VAT_KIND = Kind(
    code="vat",
    model=VatClaim,
    version_model=VatClaimVersion,
    topic="finance.vat_claim",
    path="/vat/refund-claims",
    json_kind="vat_refund_claim",
    step_code="vat_refund",
    prefix="VAT",
    audit="vat_claim",
    label=_("VAT refund claim"),
)
KINDS = {k.code: k for k in (FX_KIND, VAT_KIND)}
BY_TOPIC = {k.topic: k for k in KINDS.values()}
BY_JSON_KIND = {k.json_kind: k for k in KINDS.values()}


def kind_of(value: str) -> Kind:
    """The kind named by its code ("fx"), its topic, or the single window's JSON kind."""
    found = KINDS.get(value) or BY_TOPIC.get(value) or BY_JSON_KIND.get(value)
    if found is None:
        raise KeyError(value)
    return found
