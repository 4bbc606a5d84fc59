"""Entering a trade on one guided page, correcting it, and seeing each error next to its field."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from ismit.accounts.models import OrganisationIdentifier
from ismit.trades.models import ChecklistStep, GoodsItem, Party, Trade

pytestmark = pytest.mark.django_db

CREATE = reverse("trades:create")


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


class _FieldErrors(HTMLParser):
    """Collects the messages of each `<div data-field=…>` block: what a person sees next to a field."""

    def __init__(self):
        super().__init__()
        self.stack: list[str | None] = []
        self.in_error = 0
        self.errors: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("div", "fieldset"):
            self.stack.append(attrs.get("data-field"))
        if tag == "ul" and "field-errors" in (attrs.get("class") or ""):
            self.in_error += 1

    def handle_endtag(self, tag):
        if tag in ("div", "fieldset") and self.stack:
            self.stack.pop()
        if tag == "ul" and self.in_error:
            self.in_error -= 1

    def handle_data(self, data):
        names = [n for n in self.stack if n]
        if self.in_error and names and data.strip():
            self.errors.setdefault(names[-1], []).append(data.strip())


def field_errors(response) -> dict[str, list[str]]:
    parser = _FieldErrors()
    parser.feed(response.content.decode())
    return parser.errors


def form_data(**overrides) -> dict[str, str]:
    """What a person types into the page for the cashew export (two goods lines)."""
    data = {
        "direction": "export",
        "reference": "",
        "seller-name": "Anacarde Abidjan SARL",
        "seller-country": "CI",
        "seller-city": "Abidjan",
        "seller-street": "Zone 4",
        "seller-postcode": "",
        "seller-vat": "",
        "seller-eori": "",
        "seller-email": "",
        "buyer-name": "Provence Fruits Secs SAS",
        "buyer-country": "fr",
        "buyer-city": "Marseille",
        "buyer-street": "12 quai de la Joliette",
        "buyer-postcode": "13002",
        "buyer-vat": "FR40303265045",
        "buyer-eori": "",
        "buyer-email": "",
        "consignee-name": "",
        "consignee-country": "",
        "consignee-city": "",
        "consignee-street": "",
        "consignee-postcode": "",
        "consignee-vat": "",
        "consignee-eori": "",
        "consignee-email": "",
        "invoice_number": "INV-2026-041",
        "invoice_date": "2026-11-02",
        "currency": "EUR",
        "incoterm": "CIF",
        "incoterm_place": "FRMRS",
        "payment_terms": "lc",
        "payment_days": "60",
        "transport_mode": "1",
        "place_of_loading": "CIABJ",
        "place_of_discharge": "FRMRS",
        "planned_departure": "2026-12-01",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "500",
    }
    lines = [
        ("Cashew kernels W320, shelled", "080132", "15000", "750", "15000", "15450", "6.20"),
        ("Cashew nuts in shell", "0801.31", "5000", "62", "5000", "5120", "1,45"),
    ]
    for n, (description, hs, quantity, packages, net, gross, price) in enumerate(lines):
        data.update(
            {
                f"items-{n}-description": description,
                f"items-{n}-hs_code": hs,
                f"items-{n}-origin_country": "CI",
                f"items-{n}-quantity": quantity,
                f"items-{n}-unit": "KGM",
                f"items-{n}-packages_count": packages,
                f"items-{n}-package_type": "BG",
                f"items-{n}-net_mass_kg": net,
                f"items-{n}-gross_mass_kg": gross,
                f"items-{n}-unit_price": price,
            }
        )
    data.update(overrides)
    return data


# -- the blank form ---------------------------------------------------------------------------------


def test_the_form_prefills_the_seller_from_the_organisation_for_an_export(client, cast):
    OrganisationIdentifier.objects.create(organisation=cast.msme, scheme="vat", value="CI0123456")
    client.force_login(cast.exporter)
    response = client.get(CREATE)
    entry = response.context["entry"]
    assert entry.seller["name"].value() == "Anacarde Abidjan SARL"
    assert entry.seller["country"].value() == "CI"
    assert entry.seller["vat"].value() == "CI0123456"
    assert not entry.buyer["name"].value()
    page = response.content.decode()
    for section in ("Parties", "Goods", "Terms", "Transport"):
        assert f"</span> {section}</h2>" in page


def test_the_form_prefills_the_buyer_for_an_import(client, cast):
    client.force_login(cast.exporter)
    entry = client.get(CREATE, {"direction": "import"}).context["entry"]
    assert entry.buyer["name"].value() == "Anacarde Abidjan SARL"
    assert not entry.seller["name"].value()


def test_changing_the_direction_swaps_seller_and_buyer(client, cast):
    client.force_login(cast.exporter)
    response = client.get(
        reverse("trades:parties"),
        {
            "direction": "import",
            "seller-name": "Anacarde Abidjan SARL",
            "seller-country": "CI",
            "buyer-name": "Hanoi Cashew JSC",
            "buyer-country": "VN",
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="parties"')
    assert 'name="seller-name" value="Hanoi Cashew JSC"' in page
    assert 'name="buyer-name" value="Anacarde Abidjan SARL"' in page


def test_every_code_field_autocompletes_from_its_code_list(client, cast):
    client.force_login(cast.exporter)
    page = client.get(CREATE).content.decode()
    for input_id, code_list in [
        ("id_items-0-hs_code", "hs"),
        ("id_place_of_loading", "locations"),
        ("id_buyer-country", "countries"),
        ("id_currency", "currencies"),
        ("id_items-0-unit", "units"),
        ("id_items-0-package_type", "package-types"),
    ]:
        assert f'list="dl-{input_id}"' in page
        assert f'<datalist id="dl-{input_id}"></datalist>' in page
        assert f'hx-get="{reverse("refdata:suggest", args=[code_list])}"' in page
    assert 'hx-vals="js:{q: this.value}"' in page


def test_add_a_line_answers_one_more_line_and_the_new_line_count(client, cast):
    client.force_login(cast.exporter)
    response = client.get(
        reverse("trades:goods_line"), {"index": "2", "origin": "CI"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert 'name="items-2-hs_code"' in page
    assert 'name="items-2-origin_country" value="CI"' in page
    assert 'name="items-2-DELETE"' in page
    assert 'id="id_items-TOTAL_FORMS" hx-swap-oob="true"' in page
    assert 'name="items-TOTAL_FORMS" value="3"' in page


def test_the_incoterms_rule_is_explained_under_its_select(client, cast):
    client.force_login(cast.exporter)
    page = client.get(reverse("trades:incoterm_help"), {"incoterm": "FOB"}).content.decode()
    assert "Free On Board" in page
    assert "Main carriage: <strong>Buyer</strong>" in page
    assert "Export clearance: <strong>Seller</strong>" in page
    page = client.get(reverse("trades:incoterm_help"), {"incoterm": "CIP"}).content.decode()
    assert "Cargo insurance: <strong>Seller (cover required)</strong>" in page


# -- creating ---------------------------------------------------------------------------------------


def test_a_trade_entered_on_the_form_is_saved_and_shown_with_its_checklist(client, cast):
    client.force_login(cast.exporter)
    response = client.post(CREATE, form_data())
    trade = Trade.objects.get(organisation=cast.msme)
    assert response.status_code == 302
    assert response["Location"] == reverse("trades:detail", args=[trade.pk])
    assert trade.buyer.country_id == "FR"
    assert trade.buyer.identifiers == {"vat": "FR40303265045"}
    assert trade.consignee is None
    assert [(i.hs_code_id, str(i.unit_price)) for i in trade.items.all()] == [
        ("080132", "6.2000"),
        ("080131", "1.4500"),
    ]
    assert ChecklistStep.objects.filter(trade=trade).count() == 23

    page = client.get(response["Location"]).content.decode()
    assert f"Trade {trade.reference} saved." in page
    assert "Sales contract or purchase order agreed" in page
    assert "Letter of credit opened by the buyer&#x27;s bank" in page
    assert "100,250.00 EUR" in page


def test_a_removed_line_is_not_saved(client, cast):
    client.force_login(cast.exporter)
    client.post(CREATE, form_data(**{"items-0-DELETE": "on"}))
    trade = Trade.objects.get(organisation=cast.msme)
    assert list(trade.items.values_list("description", flat=True)) == ["Cashew nuts in shell"]


def test_a_consignee_is_saved_when_given(client, cast):
    client.force_login(cast.exporter)
    client.post(CREATE, form_data(**{"consignee-name": "Entrepôt Fos", "consignee-country": "FR"}))
    assert Trade.objects.get(organisation=cast.msme).consignee.name == "Entrepôt Fos"


def test_each_service_error_is_shown_next_to_its_field_and_nothing_is_saved(client, cast):
    client.force_login(cast.exporter)
    response = client.post(
        CREATE,
        form_data(
            **{
                "items-1-gross_mass_kg": "4000",
                "place_of_loading": "CIZZZ",
                "buyer-country": "ZZ",
                "items-0-hs_code": "0801",
            }
        ),
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert errors == {
        "items-1-gross_mass_kg": ["Gross mass cannot be less than net mass."],
        "place_of_loading": ["CIZZZ is not a UN/LOCODE location."],
        "buyer-country": ["ZZ is not an ISO 3166 country code."],
        "items-0-hs_code": ["Enter the 6-digit HS subheading."],
    }
    assert "Some fields need your attention" in response.content.decode()
    assert not Trade.objects.exists()
    assert not Party.objects.exists()
    assert not GoodsItem.objects.exists()


def test_line_errors_stay_on_their_line_when_an_earlier_line_is_removed(client, cast):
    client.force_login(cast.exporter)
    response = client.post(CREATE, form_data(**{"items-0-DELETE": "on", "items-1-gross_mass_kg": "1"}))
    # the service sees one line, items[0]; the page shows the message on the second line of the form
    assert field_errors(response) == {"items-1-gross_mass_kg": ["Gross mass cannot be less than net mass."]}


def test_fob_by_air_is_refused_next_to_the_incoterms_rule(client, cast):
    client.force_login(cast.exporter)
    response = client.post(CREATE, form_data(incoterm="FOB", incoterm_place="CIABJ", transport_mode="4"))
    assert list(field_errors(response)) == ["incoterm"]
    assert "use FCA" in field_errors(response)["incoterm"][0]


def test_missing_required_fields_are_shown_by_the_form_itself(client, cast):
    client.force_login(cast.exporter)
    response = client.post(CREATE, form_data(**{"buyer-name": "", "items-0-packages_count": "many"}))
    errors = field_errors(response)
    assert errors["buyer-name"] == ["This field is required."]
    assert errors["items-0-packages_count"] == ["Enter a whole number."]
    assert not Trade.objects.exists()


def test_removing_every_line_asks_for_one(client, cast):
    client.force_login(cast.exporter)
    response = client.post(CREATE, form_data(**{"items-0-DELETE": "on", "items-1-DELETE": "on"}))
    assert "Add at least one goods item." in response.content.decode()
    assert not Trade.objects.exists()


def test_read_only_members_may_not_open_the_form(client, cast):
    client.force_login(cast.viewer)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403
    assert not Trade.objects.exists()


# -- editing ----------------------------------------------------------------------------------------


def test_the_edit_form_shows_the_trade_as_entered(client, cast, cashew_trade):
    client.force_login(cast.colleague)
    response = client.get(reverse("trades:edit", args=[cashew_trade.pk]))
    entry = response.context["entry"]
    assert entry.header["incoterm"].value() == "CIF"
    assert entry.buyer["vat"].value() == "FR40303265045"
    assert entry.goods.forms[0]["quantity"].value() == "15000"
    assert entry.goods.forms[1]["unit_price"].value() == "1.45"
    assert len(entry.goods.forms) == 2


def test_editing_saves_the_corrected_data_set(client, cast, cashew_trade):
    client.force_login(cast.colleague)
    data = form_data(
        reference=cashew_trade.reference,
        payment_terms="advance",
        **{"items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "2", "items-1-DELETE": "on"},
    )
    response = client.post(reverse("trades:edit", args=[cashew_trade.pk]), data)
    assert response.status_code == 302
    trade = Trade.objects.get(pk=cashew_trade.pk)
    assert trade.payment_terms == "advance"
    assert trade.items.count() == 1
    assert ChecklistStep.objects.get(trade=trade, code="advance_payment").status == "todo"


def test_an_invalid_edit_changes_nothing(client, cast, cashew_trade):
    client.force_login(cast.exporter)
    response = client.post(
        reverse("trades:edit", args=[cashew_trade.pk]),
        form_data(**{"items-0-gross_mass_kg": "1", "payment_days": "30"}),
    )
    assert field_errors(response) == {"items-0-gross_mass_kg": ["Gross mass cannot be less than net mass."]}
    assert Trade.objects.get(pk=cashew_trade.pk).payment_days == 60


def test_a_completed_trade_cannot_be_edited(client, cast, cashew_trade):
    Trade.objects.filter(pk=cashew_trade.pk).update(status="completed")
    client.force_login(cast.exporter)
    response = client.post(reverse("trades:edit", args=[cashew_trade.pk]), form_data(payment_days="30"))
    assert "A completed or cancelled trade cannot be changed." in response.content.decode()
    assert Trade.objects.get(pk=cashew_trade.pk).payment_days == 60


@pytest.mark.parametrize("who", ["viewer", "other", "stranger"])
def test_only_members_who_may_change_can_edit(client, cast, cashew_trade, who):
    client.force_login(getattr(cast, who))
    url = reverse("trades:edit", args=[cashew_trade.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, form_data(payment_days="30")).status_code == 404
    assert Trade.objects.get(pk=cashew_trade.pk).payment_days == 60
