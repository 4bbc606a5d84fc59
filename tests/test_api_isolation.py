"""No API endpoint lets a member of organisation A reach organisation B's objects.

The endpoints are not listed by hand: every URL pattern of the API that takes an id is found in
`api.urls`, with its methods from the OpenAPI document, and tried with B's ids by A's owner. Each must
answer 404 and leave B's data as it was. The same requests with A's own ids must reach the object
(2xx, or 403 where only operators may act), which shows that the 404s come from the scoping and not from
a wrong id or body. A new endpoint with an id fails here until its id and, for writes, a valid body are
added to SAMPLE_IDS and BODIES below.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from types import SimpleNamespace

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import URLPattern

from conftest import _org, cashew_trade_data
from ismit.accounts.actors import actor_for
from ismit.accounts.models import ApiToken, Membership, Organisation, OrganisationIdentifier
from ismit.accounts.services import create_api_token
from ismit.audit.models import AuditEvent
from ismit.config.api import api
from ismit.customs.models import CustomsQuery, Declaration
from ismit.customs.tests.support import seed_query
from ismit.documents.models import IssuedDocument
from ismit.documents.services import issue_documents
from ismit.finance.models import FxReport, Payment, VatClaim
from ismit.trades.models import ChecklistStep, ColumnMapping, GoodsItem, Trade, TradeGrant
from ismit.trades.services import appoint, create_trade, trade_data_from

PREFIX = "/api/v1/"
# Code lists are the same for everyone: their ids are codes, not organisation data.
SHARED_PREFIXES = ("refdata/",)


def _id_routes() -> list[tuple[str, str]]:
    """(method, OpenAPI path) of every operation whose URL takes an id."""
    schema_paths = api.get_openapi_schema(path_prefix=PREFIX)["paths"]
    found = []
    for pattern in api.urls[0]:
        if not isinstance(pattern, URLPattern) or not getattr(pattern.pattern, "converters", None):
            continue
        route = str(pattern.pattern)
        if route.startswith(SHARED_PREFIXES):
            continue
        path = PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        # an operation hidden from the OpenAPI document would escape this test: refuse it
        assert path in schema_paths, f"{route} is not in the OpenAPI document"
        for method in schema_paths[path]:
            if (method.upper(), path) not in found:
                found.append((method.upper(), path))
    return found


ID_ROUTES = _id_routes()


def _item() -> dict:
    return {
        "description": "Sesame seeds",
        "hs_code": "120740",
        "origin_country": "CI",
        "quantity": "800",
        "unit": "KGM",
        "packages_count": 16,
        "package_type": "BG",
        "net_mass_kg": "800",
        "gross_mass_kg": "816",
        "unit_price": "1.95",
    }


def _trade() -> dict:
    return json.loads(json.dumps(asdict(cashew_trade_data(reference="TAKEN-OVER")), cls=DjangoJSONEncoder))


# The id of each side's object, for every parameter an API URL can take.
ID_SAMPLES = {
    "trade_id": lambda side: side.trade.id,
    "line_no": lambda side: 1,
    "code": lambda side: "contract",  # a commercial step: members may mark it
    "organisation_id": lambda side: side.organisation.id,
    "token_id": lambda side: side.token.id,
    "scheme": lambda side: "vat",
    "mapping_id": lambda side: side.mapping.id,
    "document_id": lambda side: side.document.id,
    "payment_id": lambda side: side.payment.id,
    "grant_id": lambda side: side.grant.id,
    "declaration_id": lambda side: side.declaration.id,
    "query_id": lambda side: side.query.id,
}

# A valid body for every write that takes one, so that the request reaches the object lookup.
BODIES = {
    ("PUT", "/api/v1/trades/{trade_id}"): _trade,
    ("POST", "/api/v1/trades/{trade_id}/duplicate"): lambda: {"reference": "COPIED"},
    ("POST", "/api/v1/trades/{trade_id}/documents"): lambda: {"kinds": ["trade_dataset"]},
    ("POST", "/api/v1/trades/{trade_id}/payments"): lambda: {
        "amount": "100.00",
        "currency": "EUR",
        "received_on": "2026-01-05",
        "bank_reference": "TAKEN-OVER-1",
    },
    ("POST", "/api/v1/trades/{trade_id}/fx-report"): lambda: {},
    ("POST", "/api/v1/trades/{trade_id}/declarations"): lambda: {},
    ("POST", "/api/v1/declarations/{declaration_id}/queries/{query_id}/answer"): lambda: {
        "answer": "taken over"
    },
    ("POST", "/api/v1/trades/{trade_id}/grants"): lambda: {
        "organisation": Organisation.objects.get(legal_name="Transit Lagunaire").pk,
        "scope": "customs",
    },
    ("POST", "/api/v1/trades/{trade_id}/vat-claim"): lambda: {
        "vat_amount": "100.00",
        "input_invoices": "SUP-1",
    },
    ("POST", "/api/v1/trades/{trade_id}/items"): _item,
    ("PUT", "/api/v1/trades/{trade_id}/items/{line_no}"): _item,
    ("PATCH", "/api/v1/trades/{trade_id}/checklist/{code}"): lambda: {"status": "done", "note": "taken over"},
    ("PATCH", "/api/v1/organisations/{organisation_id}"): lambda: {"legal_name": "Taken Over Ltd"},
    ("PUT", "/api/v1/organisations/{organisation_id}/identifiers/{scheme}"): lambda: {"value": ""},
    ("POST", "/api/v1/organisations/{organisation_id}/verify"): lambda: {"reason": "looks fine"},
    ("POST", "/api/v1/organisations/{organisation_id}/reject"): lambda: {"reason": "looks fake"},
}


# Filing on A's trade reaches it and is refused by the cross-check (no cleared declaration): 422, not 404.
REACHED_422 = {
    ("POST", "/api/v1/trades/{trade_id}/fx-report"),
    ("POST", "/api/v1/trades/{trade_id}/vat-claim"),
}


class World:
    """Organisation A (the exporter's) and organisation B (the other MSME), each with a trade and a token."""

    def __init__(self, cast, cashew_trade, other_trade):
        self.cast = cast
        _token, key = create_api_token(user=cast.exporter, name="a")
        self.headers = {"Authorization": f"Bearer {key}"}
        self.a_spare_token, _ = create_api_token(user=cast.exporter, name="a spare")
        self.b_token, _ = create_api_token(user=cast.other, name="b")
        OrganisationIdentifier.objects.create(organisation=cast.msme, scheme="vat", value="CI-A-1")
        OrganisationIdentifier.objects.create(organisation=cast.other_msme, scheme="vat", value="KE-B-1")
        self.b_mapping = ColumnMapping.objects.create(
            organisation=cast.other_msme, name="B layout", mapping={"description": "Goods"}
        )
        a_mapping = ColumnMapping.objects.create(
            organisation=cast.msme, name="A layout", mapping={"description": "Goods"}
        )
        # A's document belongs to a second trade of A's: a trade with issued documents cannot be deleted.
        a_documented = create_trade(
            actor=actor_for(cast.exporter), organisation=cast.msme, data=cashew_trade_data()
        )
        a_document, b_document = (
            issue_documents(actor=actor_for(user), trade=trade, kinds=["trade_dataset"])[0]
            for user, trade in ((cast.exporter, a_documented), (cast.other, other_trade))
        )
        self.b_document = b_document
        self.sides = {
            "a": SimpleNamespace(
                trade=cashew_trade,
                organisation=cast.msme,
                token=self.a_spare_token,
                mapping=a_mapping,
                document=a_document,
            ),
            "b": SimpleNamespace(
                trade=other_trade,
                organisation=cast.other_msme,
                token=self.b_token,
                mapping=self.b_mapping,
                document=b_document,
            ),
        }
        self.b_trade = other_trade
        # A's trade is granted to a second broker (A's own request then appoints Transit Lagunaire);
        # B's to Transit Lagunaire.
        second_broker = _org(
            cast.stranger, "Douane Express", "provider", "CI", "Abidjan", provider_types=["broker"]
        )
        self.sides["a"].grant = appoint(
            actor=actor_for(cast.exporter), trade=cashew_trade, organisation=second_broker, scope="customs"
        )
        self.sides["b"].grant = appoint(
            actor=actor_for(cast.other), trade=other_trade, organisation=cast.broker_org, scope="customs"
        )
        # Declarations with a question from customs: A's on its second trade (a declared trade leaves draft).
        for side, user, trade in (("a", cast.exporter, a_documented), ("b", cast.other, other_trade)):
            declaration, query, _message = seed_query(actor_for(user), trade)
            self.sides[side].declaration, self.sides[side].query = declaration, query
        # Rows written directly: recording through the service would move A's trade out of draft.
        for side in self.sides.values():
            side.payment = Payment.objects.create(
                trade=side.trade,
                amount="100.00",
                currency_id="EUR",
                received_on="2026-01-05",
                bank_reference="P-1",
            )

    def request(self, client, method: str, path: str, whose: str):
        url = re.sub(r"{(\w+)}", lambda m: str(ID_SAMPLES[m.group(1)](self.sides[whose])), path)
        body = BODIES.get((method, path))
        data = json.dumps(body()) if body else ""
        return client.generic(method, url, data, content_type="application/json", headers=self.headers)

    def b_snapshot(self) -> dict:
        org = self.cast.other_msme
        trade = Trade.objects.get(pk=self.b_trade.pk)
        return {
            "trade": asdict(trade_data_from(trade)),
            "trade_row": Trade.objects.filter(pk=trade.pk).values().get(),
            "items": list(GoodsItem.objects.filter(trade=trade).order_by("line_no").values()),
            "steps": list(ChecklistStep.objects.filter(trade=trade).order_by("position").values()),
            "trades": list(Trade.objects.filter(organisation=org).values_list("id", flat=True)),
            "organisation": Organisation.objects.filter(pk=org.pk).values().get(),
            "identifiers": list(OrganisationIdentifier.objects.filter(organisation=org).values()),
            "members": list(Membership.objects.filter(organisation=org).values()),
            "token": ApiToken.objects.filter(pk=self.b_token.pk).values().get(),
            "audit": AuditEvent.objects.filter(organisation_id=org.id).count(),
            "mappings": list(ColumnMapping.objects.filter(organisation=org).values()),
            "documents": list(IssuedDocument.objects.filter(organisation=org).values()),
            "payments": list(Payment.objects.filter(trade__organisation=org).values()),
            "grants": list(TradeGrant.objects.filter(trade__organisation=org).values()),
            "declarations": list(Declaration.objects.filter(organisation=org).values()),
            "queries": list(CustomsQuery.objects.filter(declaration__organisation=org).values()),
            "fx_reports": list(FxReport.objects.filter(trade__organisation=org).values()),
            "vat_claims": list(VatClaim.objects.filter(trade__organisation=org).values()),
        }


@pytest.fixture
def world(cast, cashew_trade, other_trade) -> World:
    return World(cast, cashew_trade, other_trade)


def test_every_endpoint_with_an_id_is_covered():
    assert ("GET", "/api/v1/trades/{trade_id}") in ID_ROUTES  # the enumeration finds the endpoints
    assert ("GET", "/api/v1/organisations/{organisation_id}/audit") in ID_ROUTES
    schema_paths = api.get_openapi_schema(path_prefix=PREFIX)["paths"]
    for method, path in ID_ROUTES:
        for name in re.findall(r"{(\w+)}", path):
            assert name in ID_SAMPLES, f"{method} {path}: add {{{name}}} to ID_SAMPLES in the isolation test"
        if "requestBody" in schema_paths[path][method.lower()]:
            assert (method, path) in BODIES, (
                f"{method} {path}: add a valid body to BODIES in the isolation test"
            )


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_a_member_of_another_organisation_gets_404_and_changes_nothing(client, world, method, path):
    before = world.b_snapshot()
    response = world.request(client, method, path, "b")
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert world.b_snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_the_same_request_reaches_the_members_own_object(client, world, method, path):
    response = world.request(client, method, path, "a")
    # 403 only where the object is seen but the action is reserved (verification is for operators)
    allowed = (200, 201, 202, 204, 403) + ((422,) if (method, path) in REACHED_422 else ())
    assert response.status_code in allowed, response.content


@pytest.mark.django_db
def test_lists_show_nothing_of_another_organisation(client, world):
    trades = client.get("/api/v1/trades", headers=world.headers).json()["results"]
    assert world.b_trade.id not in [t["id"] for t in trades]
    organisations = client.get("/api/v1/organisations", headers=world.headers).json()["results"]
    assert world.cast.other_msme.id not in [o["id"] for o in organisations]
    tokens = client.get("/api/v1/auth/tokens", headers=world.headers).json()
    assert world.b_token.id not in [t["id"] for t in tokens]
    me = client.get("/api/v1/me", headers=world.headers).json()
    assert world.cast.other_msme.id not in [m["organisation"]["id"] for m in me["memberships"]]
