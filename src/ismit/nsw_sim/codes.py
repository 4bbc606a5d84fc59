"""Statuses, their codes in WCO RES and CUSRES notifications, and the simulator's validation codes."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

# -- statuses ------------------------------------------------------------------------------------------

RECEIVED = "received"
ACCEPTED = "accepted"
REJECTED = "rejected"
QUERY = "query"
DOCUMENTS_REQUIRED = "documents_required"
CONTROL = "control"
CLEARED = "cleared"
GOODS_EXITED = "goods_exited"

# Why the window asks for a check, and the exit: the code of the statement that explains a documents_required,
# control or goods_exited notification (the text beside it is English; a platform translates by code).
REASON_DOCUMENTS = "NSW30001"  # declared value above the documentary-check threshold
REASON_SENSITIVE_GOODS = "NSW30002"  # a goods item of a sensitive HS chapter: physical inspection
REASON_RANDOM_CONTROL = "NSW30003"  # physical inspection, selected at random
REASON_EXIT = "NSW30004"  # exit of the goods confirmed

DECLARATION_STATUSES = (
    RECEIVED,
    ACCEPTED,
    REJECTED,
    QUERY,
    DOCUMENTS_REQUIRED,
    CONTROL,
    CLEARED,
    GOODS_EXITED,
)
FINAL = {
    "declaration": {REJECTED, GOODS_EXITED},
    "fx_settlement": {ACCEPTED, REJECTED},
    "vat_refund_claim": {ACCEPTED, REJECTED},
}

# Status -> WCO RES Response/FunctionCode, as the UK's DMS notifications use them
# (examples/Example_DMS_notifications): DMSACC 01, DMSRCV 02, DMSREJ 03, DMSCTL 05, DMSDOC 06, DMSCLE 09,
# DMSEOG 16. The published material names DMSQRY (TT_EX055a) but has no sample of it: 17 is this
# simulator's choice for a query.
WCO_FUNCTION_CODES = {
    ACCEPTED: "01",
    RECEIVED: "02",
    REJECTED: "03",
    CONTROL: "05",
    DOCUMENTS_REQUIRED: "06",
    CLEARED: "09",
    GOODS_EXITED: "16",
    QUERY: "17",
}
UK_NAMES = {
    ACCEPTED: "DMSACC",
    RECEIVED: "DMSRCV",
    REJECTED: "DMSREJ",
    CONTROL: "DMSCTL",
    DOCUMENTS_REQUIRED: "DMSDOC",
    CLEARED: "DMSCLE",
    GOODS_EXITED: "DMSEOG",
    QUERY: "DMSQRY",
}
# Status -> the status names of ismit.documents.edifact_cusres (GIS 7365 codes there).
CUSRES_STATUSES = {
    RECEIVED: "received",
    ACCEPTED: "accepted",
    REJECTED: "rejected",
    QUERY: "query",
    DOCUMENTS_REQUIRED: "documents_required",
    CONTROL: "examination",
    CLEARED: "released",
    GOODS_EXITED: "exited",
}

# -- WCO section codes (WCOID) and tag ids used in error pointers --------------------------------------------
# From the published WCO_DEC_2_DMS.xsd annotations.
SECTION = {
    "declaration": "42A",
    "declarant": "57B",
    "exporter": "57A",
    "border_transport": "15A",
    "goods_shipment": "67A",
    "destination": "99B",
    "export_country": "95B",
    "goods_item": "68A",
    "commodity": "23A",
    "classification": "21A",
    "goods_measure": "65A",
    "invoice_line": "79A",
    "origin": "92A",
    "address": "04A",
    "invoice": "78A",
}
TAG = {
    "function_code": "017",
    "lrn": "D026",
    "type_code": "D013",
    "goods_item_quantity": "228",
    "invoice_amount": "109",
    "declarant_id": "R123",
    "declarant_name": "R124",
    "exporter_id": "R032",
    "exporter_name": "R031",
    "country_code": "242",
    "mode_code": "T022",
    "destination_country": "465",
    "export_country": "062",
    "statistical_value": "114",
    "description": "137",
    "commodity_code": "145",
    "gross_mass": "126",
    "net_mass": "128",
    "item_amount": "112",
    "origin_country": "063",
    "sequence": "006",
}

# -- validation codes (ours: an..8, as the RES Error/ValidationCode and the CUSRES ERC take them) ------------
VALIDATION = {
    "NSW10001": "The declaration has no function code, or one this window does not take (9 or 13).",
    "NSW10002": "The declaration type must be EX, CO or IM followed by an additional type letter.",
    "NSW10003": "The local reference number (LRN) is missing or longer than 35 characters.",
    "NSW10004": "The declarant is not identified (an ID, or a name and an address country).",
    "NSW10005": "The exporter is not identified (an ID, or a name and an address country).",
    "NSW10006": "A party identifier must be 2 to 17 letters or digits.",
    "NSW10007": "The declaration holds no goods item.",
    "NSW10008": "The number of goods items declared differs from the goods items in the declaration.",
    "NSW10009": "The mode of transport at the border must be one digit from 1 to 9.",
    "NSW10010": "A country code is not an ISO 3166 alpha-2 code.",
    "NSW10011": "A currency code is not an ISO 4217 code.",
    "NSW10012": "The invoice amount is not a number.",
    "NSW10013": "The invoice amount differs from the sum of the goods items' amounts.",
    "NSW10014": "The interchange envelope or its counts are wrong.",
    "NSW10015": "The interchange does not conform to the UN/EDIFACT D96A directory.",
    "NSW10016": "The declaration must name the country of destination.",
    "NSW10017": "This LRN was used by another declaration within 48 hours: give this one its own.",
    "NSW20001": "The commodity code must be 6 to 8 digits.",
    "NSW20002": "The goods description is missing.",
    "NSW20003": "The gross mass is missing or not a number.",
    "NSW20004": "The net mass is missing or not a number.",
    "NSW20005": "The gross mass is less than the net mass.",
    "NSW20006": "The statistical value is missing or not a number.",
    "NSW20007": "The item amount is not a number.",
    "NSW20008": "Goods items must be numbered 1, 2, 3... in order.",
    "NSW90001": "Customs asks a question about the goods description.",
}

MODES = frozenset("123456789")


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    import pycountry

    # XI: Northern Ireland, which the UK declarations use beside GB.
    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XI"}


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


# Indicative euro values of one unit of a currency, for the documentary-check threshold only (the value of
# a declaration in another currency is compared in euros). XOF and XAF are pegged; others approximate.
EUR_RATES = {
    "EUR": Decimal("1"),
    "XOF": Decimal("1") / Decimal("655.957"),
    "XAF": Decimal("1") / Decimal("655.957"),
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "CHF": Decimal("1.05"),
    "JPY": Decimal("0.0061"),
    "CNY": Decimal("0.13"),
    "INR": Decimal("0.011"),
    "KES": Decimal("0.0071"),
    "NGN": Decimal("0.00060"),
    "GHS": Decimal("0.060"),
    "ZAR": Decimal("0.050"),
    "MAD": Decimal("0.092"),
    "BDT": Decimal("0.0077"),
    "VND": Decimal("0.000036"),
}


def in_euros(amount: Decimal, currency: str) -> Decimal:
    return amount * EUR_RATES.get(currency, Decimal(1))
