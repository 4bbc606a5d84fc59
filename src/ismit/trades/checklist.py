"""The process steps of a trade, derived from its data.

The Incoterms rule decides who clears export and import and who books carriage and insurance; the
direction and payment terms decide which declarations and financial steps apply. Each definition says
which party is responsible ("seller" or "buyer"); the trade's own organisation is the seller of an
export and the buyer of an import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ismit.trades.models import Direction, PaymentTerms, StepCategory

SELLER, BUYER = "seller", "buyer"


@dataclass(frozen=True)
class StepDefinition:
    code: str
    category: str
    label: object  # lazy translation
    responsible: Callable[[object], str]  # trade -> "seller" | "buyer"
    applies: Callable[[object], bool] = lambda trade: True


def _party(letter: str) -> str:
    return SELLER if letter == "S" else BUYER


def _seller(trade) -> str:
    return SELLER


def _buyer(trade) -> str:
    return BUYER


def _terms(*terms: str) -> Callable[[object], bool]:
    return lambda trade: trade.payment_terms in terms


STEPS: tuple[StepDefinition, ...] = (
    StepDefinition(
        "contract", StepCategory.COMMERCIAL, _("Sales contract or purchase order agreed"), _seller
    ),
    StepDefinition(
        "proforma_invoice", StepCategory.COMMERCIAL, _("Pro-forma invoice sent to the buyer"), _seller
    ),
    StepDefinition(
        "lc_opened",
        StepCategory.FINANCIAL,
        _("Letter of credit opened by the buyer's bank"),
        _buyer,
        _terms(PaymentTerms.LETTER_OF_CREDIT),
    ),
    StepDefinition(
        "advance_payment",
        StepCategory.FINANCIAL,
        _("Advance payment received"),
        _buyer,
        _terms(PaymentTerms.ADVANCE),
    ),
    StepDefinition("goods_ready", StepCategory.COMMERCIAL, _("Goods produced, packed and marked"), _seller),
    StepDefinition("commercial_invoice", StepCategory.COMMERCIAL, _("Commercial invoice issued"), _seller),
    StepDefinition("packing_list", StepCategory.COMMERCIAL, _("Packing list prepared"), _seller),
    StepDefinition(
        "licences", StepCategory.REGULATORY, _("Licences, permits and certificates obtained"), _seller
    ),
    StepDefinition(
        "certificate_of_origin", StepCategory.REGULATORY, _("Certificate of origin issued"), _seller
    ),
    StepDefinition(
        "carriage_booked",
        StepCategory.LOGISTICS,
        _("Main carriage booked"),
        lambda t: _party(t.incoterm.main_carriage),
    ),
    StepDefinition(
        "cargo_insurance",
        StepCategory.FINANCIAL,
        _("Cargo insurance arranged"),
        lambda t: _party(t.incoterm.insurance),
    ),
    StepDefinition(
        "export_declaration",
        StepCategory.REGULATORY,
        _("Export declaration lodged"),
        lambda t: _party(t.incoterm.export_clearance),
    ),
    StepDefinition(
        "export_release",
        StepCategory.REGULATORY,
        _("Goods released for export"),
        lambda t: _party(t.incoterm.export_clearance),
    ),
    StepDefinition(
        "handover_to_carrier",
        StepCategory.LOGISTICS,
        _("Goods handed over to the carrier"),
        lambda t: BUYER if t.incoterm.code == "EXW" else SELLER,
    ),
    StepDefinition(
        "departed",
        StepCategory.LOGISTICS,
        _("Departed from the place of loading"),
        lambda t: _party(t.incoterm.main_carriage),
    ),
    StepDefinition(
        "documents_presented",
        StepCategory.FINANCIAL,
        _("Documents presented to the bank"),
        _seller,
        _terms(PaymentTerms.LETTER_OF_CREDIT, PaymentTerms.COLLECTION),
    ),
    StepDefinition(
        "arrived",
        StepCategory.LOGISTICS,
        _("Arrived at the place of discharge"),
        lambda t: _party(t.incoterm.main_carriage),
    ),
    StepDefinition(
        "import_declaration",
        StepCategory.REGULATORY,
        _("Import declaration lodged, duties paid"),
        lambda t: _party(t.incoterm.import_clearance),
    ),
    StepDefinition(
        "import_release",
        StepCategory.REGULATORY,
        _("Goods released for import"),
        lambda t: _party(t.incoterm.import_clearance),
    ),
    StepDefinition(
        "delivered",
        StepCategory.LOGISTICS,
        _("Delivered to the buyer"),
        lambda t: SELLER if t.incoterm.code in ("DAP", "DPU", "DDP") else BUYER,
    ),
    StepDefinition(
        "payment_received",
        StepCategory.FINANCIAL,
        _("Payment received"),
        _buyer,
        lambda t: t.payment_terms != PaymentTerms.ADVANCE,
    ),
    StepDefinition(
        "fx_settlement",
        StepCategory.FINANCIAL,
        _("Foreign-exchange settlement reported"),
        lambda t: SELLER if t.direction == Direction.EXPORT else BUYER,
    ),
    StepDefinition(
        "vat_refund",
        StepCategory.FINANCIAL,
        _("Export VAT refund claimed"),
        _seller,
        lambda t: t.direction == Direction.EXPORT,
    ),
)

BY_CODE = {step.code: step for step in STEPS}
COMMERCIAL_CODES = frozenset(s.code for s in STEPS if s.category == StepCategory.COMMERCIAL)


def label_for(code: str):
    step = BY_CODE.get(code)
    return step.label if step else code


def our_side(trade) -> str:
    return SELLER if trade.direction == Direction.EXPORT else BUYER
