"""API of the grants of a trade: the organisations its owner appoints on it (a customs broker).

    GET    /api/v1/trades/{trade_id}/grants              the grants the actor may see (owner: all)
    POST   /api/v1/trades/{trade_id}/grants              appoint {"organisation": id, "scope": "customs"}
    DELETE /api/v1/trades/{trade_id}/grants/{grant_id}   revoke: access ends at once

Mounted at /api/v1 with absolute paths. A trade the actor may not see answers 404; appointing and
revoking are for members who may change the owner organisation (others who see the trade: 403).
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from ismit.accounts.api import actor_of
from ismit.lib.idempotency import idempotent
from ismit.trades import queries, services
from ismit.trades.models import GrantScope, TradeGrant

router = Router(tags=["trades"])


class GrantIn(Schema):
    organisation: int = Field(description="The id of a verified provider (a customs broker for customs)")
    scope: str = Field(GrantScope.CUSTOMS, max_length=16, description="customs")


class GrantOut(Schema):
    id: int
    trade: int = Field(alias="trade_id")
    organisation: int = Field(alias="organisation_id")
    organisation_name: str
    scope: str
    active: bool
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_organisation_name(obj: TradeGrant) -> str:
        return obj.organisation.legal_name

    @staticmethod
    def resolve_active(obj: TradeGrant) -> bool:
        return obj.is_active


@router.get("/trades/{int:trade_id}/grants", response=list[GrantOut])
def list_grants(request, trade_id: int):
    actor = actor_of(request)
    return queries.grants_of(actor, queries.get_trade_header_for(actor, trade_id))


@router.post("/trades/{int:trade_id}/grants", response={201: GrantOut})
@idempotent
def create_grant(request, trade_id: int, payload: GrantIn):
    actor = actor_of(request)
    trade = queries.get_trade_header_for(actor, trade_id)
    # Only the directory of verified providers is searched: any other id gets the same 422.
    organisation = queries.appointable(payload.scope).filter(pk=payload.organisation).first()
    return services.appoint(actor=actor, trade=trade, organisation=organisation, scope=payload.scope)


@router.delete("/trades/{int:trade_id}/grants/{int:grant_id}", response={204: None})
def delete_grant(request, trade_id: int, grant_id: int):
    actor = actor_of(request)
    trade = queries.get_trade_header_for(actor, trade_id)  # a revoked broker no longer sees the trade: 404
    grant = queries.get_grant_for(actor, trade, grant_id)
    services.revoke_grant(actor=actor, grant=grant)
