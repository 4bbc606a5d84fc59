"""Writes of the marketplace's requests for quotation, quotes (rfqs.py), contracts (contracts.py),
milestones, invoices, ratings and claims (performance.py). Each is atomic, audited, and tells the other side
(in-app and e-mail); each event that changes a provider's KPIs recomputes its quality once the transaction
commits (`quality.refresh_provider`).

The path: `create_rfq` (from a trade: matched providers are invited, each with an indicative quote from
its rate card) → `submit_quote` (firm, all-in, before the deadline; replaces the provider's previous
firm quote) or `decline_invitation` → `accept_quote` (a contract: price, SLA, data scope; the other
quotes of the service declined; the checklist step booked) → `record_milestone` / `raise_invoice`
(provider) → `rate_contract` / `open_claim` (MSME).
"""

from ismit.marketplace.services.common import (
    CENT,
    CLOSE_BATCH,
    CONTAINER_TYPES,
    DEFAULT_CLAIMS_RESPONSE_DAYS,
    DEFAULT_PICKUP_WITHIN_DAYS,
    MAX_AMOUNT,
    MAX_LINES,
    MILESTONE_LABELS,
    MILESTONE_STEPS,
    STATUS_ON_ACCEPTANCE,
)
from ismit.marketplace.services.contracts import (
    accept_quote,
    read_shared_data,
)
from ismit.marketplace.services.performance import (
    open_claim,
    raise_invoice,
    rate_contract,
    record_milestone,
)
from ismit.marketplace.services.rfqs import (
    CargoAdditions,
    close_expired_rfqs,
    confirm_quote,
    create_rfq,
    decline_invitation,
    note_invitations_viewed,
    submit_quote,
)

__all__ = [
    "CENT",
    "CLOSE_BATCH",
    "CONTAINER_TYPES",
    "DEFAULT_CLAIMS_RESPONSE_DAYS",
    "DEFAULT_PICKUP_WITHIN_DAYS",
    "MAX_AMOUNT",
    "MAX_LINES",
    "MILESTONE_LABELS",
    "MILESTONE_STEPS",
    "STATUS_ON_ACCEPTANCE",
    "CargoAdditions",
    "accept_quote",
    "close_expired_rfqs",
    "confirm_quote",
    "create_rfq",
    "decline_invitation",
    "note_invitations_viewed",
    "open_claim",
    "raise_invoice",
    "rate_contract",
    "read_shared_data",
    "record_milestone",
    "submit_quote",
]
