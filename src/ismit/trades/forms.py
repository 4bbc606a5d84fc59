"""Forms of the trade pages: they parse what people type; trades.services decides what is valid.

One trade is entered on one page, in four sections: a header form (direction, terms, transport), one
party form per role (prefixes "seller", "buyer", "consignee") and a formset of goods lines (prefix
"items"). `TradeEntry` holds them together, turns them into a `TradeData` and puts the service's
ValidationError paths ("items[1].hs_code", "seller.country", "incoterm_place") back on the right
fields.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ismit.accounts.models import Organisation
from ismit.lib.errors import error_dict
from ismit.refdata.models import Incoterm, TransportMode
from ismit.trades.models import Direction, PaymentTerms, StepStatus, Trade, TradeStatus
from ismit.trades.services import GoodsItemData, PartyData, TradeData, trade_data_from

ITEM_PATH = re.compile(r"^items\[(\d+)\]\.(\w+)$")
PARTY_ROLES = ("seller", "buyer", "consignee")
IDENTIFIER_FIELDS = ("vat", "eori")
GOODS_PREFIX = "items"
MAX_GOODS_LINES = 500
SEARCH_MAX = 60  # a code input also takes the name typed to search for the code


# -- widgets ----------------------------------------------------------------------------------------


class CodeInput(forms.TextInput):
    """A text input for a code list: the browser offers codes from a <datalist> that htmx fills.

    On each pause in typing, htmx asks /refdata/suggest/<list>/?q=<what was typed> and puts the
    `<option>`s it answers into the input's own datalist. Typing a code by hand always works.
    """

    def __init__(self, code_list: str, attrs: dict | None = None):
        self.code_list = code_list
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def _datalist_id(self, name: str, attrs: dict | None) -> str:
        return "dl-" + str((attrs or {}).get("id") or self.attrs.get("id") or name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        datalist = self._datalist_id(name, attrs)
        context["widget"]["attrs"].update(
            {
                "list": datalist,
                "hx-get": reverse("refdata:suggest", args=[self.code_list]),
                "hx-trigger": "keyup changed delay:250ms",
                "hx-target": f"#{datalist}",
                "hx-swap": "innerHTML",
                "hx-vals": "js:{q: this.value}",
                "hx-sync": "this:replace",
            }
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return html + format_html('<datalist id="{}"></datalist>', self._datalist_id(name, attrs))


def _decimal_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def localised_name(obj, field: str = "name") -> str:
    """The French name of a code where the list has one and the page is in French."""
    if (get_language() or "").startswith("fr"):
        return getattr(obj, f"{field}_fr", "") or getattr(obj, field)
    return getattr(obj, field)


def _plain(number) -> str:
    """15000.000 -> "15000", 6.2000 -> "6.2": how a person would have typed it."""
    if number is None or number == "":
        return ""
    if not isinstance(number, Decimal):
        return str(number)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- the Incoterms rule, in words -------------------------------------------------------------------


def describe_incoterm(incoterm: Incoterm | None) -> dict | None:
    """A rule in words for the page: its name and who does what, in the page's language."""
    if incoterm is None:
        return None
    who = {Incoterm.SELLER: _("Seller"), Incoterm.BUYER: _("Buyer")}
    insurance = who[incoterm.insurance]
    if incoterm.insurance_required:
        insurance = _("%(party)s (cover required)") % {"party": insurance}
    return {
        "code": incoterm.code,
        "name": localised_name(incoterm),
        "place_meaning": incoterm.place_meaning,
        "duties": [
            (_("Export clearance"), who[incoterm.export_clearance]),
            (_("Main carriage"), who[incoterm.main_carriage]),
            (_("Cargo insurance"), insurance),
            (_("Import clearance"), who[incoterm.import_clearance]),
        ],
    }


def incoterm_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (i.code, f"{i.code} – {localised_name(i)}") for i in Incoterm.objects.order_by("sort_order")
    ]


def transport_mode_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (m.code, f"{m.code} – {localised_name(m)}") for m in TransportMode.objects.order_by("code")
    ]


# -- the four sections ------------------------------------------------------------------------------


class TradeHeaderForm(forms.Form):
    """Direction, terms and transport: everything of the trade that is not a party or a goods line."""

    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, widget=forms.RadioSelect)
    reference = forms.CharField(
        label=_("Your reference"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to number the trade automatically (EXP-2026-00001)."),
    )
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40, required=False)
    invoice_date = forms.DateField(label=_("Invoice date"), required=False, widget=_date_input())
    currency = forms.CharField(
        label=_("Currency"),
        max_length=SEARCH_MAX,
        widget=CodeInput("currencies", attrs={"size": 5}),
        help_text=_("ISO 4217 code, e.g. EUR, USD, XOF."),
    )
    incoterm = forms.ChoiceField(label=_("Incoterms® 2020 rule"))
    incoterm_place = forms.CharField(
        label=_("Named place"),
        max_length=SEARCH_MAX,
        widget=CodeInput("locations"),
        help_text=_("UN/LOCODE of the place the rule names, e.g. FRMRS for Marseille."),
    )
    payment_terms = forms.ChoiceField(label=_("Payment terms"), choices=[("", "—"), *PaymentTerms.choices])
    payment_days = forms.IntegerField(
        label=_("Payment due (days)"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_("Days after the invoice date; 0 for payment at sight."),
    )
    transport_mode = forms.ChoiceField(label=_("Mode of transport"))
    place_of_loading = forms.CharField(
        label=_("Place of loading"),
        max_length=SEARCH_MAX,
        widget=CodeInput("locations"),
        help_text=_("UN/LOCODE, e.g. CIABJ for Abidjan."),
    )
    place_of_discharge = forms.CharField(
        label=_("Place of discharge"),
        max_length=SEARCH_MAX,
        widget=CodeInput("locations"),
        help_text=_("UN/LOCODE, e.g. FRMRS for Marseille."),
    )
    planned_departure = forms.DateField(label=_("Planned departure"), required=False, widget=_date_input())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["incoterm"].choices = incoterm_choices()
        self.fields["transport_mode"].choices = transport_mode_choices()
        self.fields["direction"].widget.attrs.update(
            {
                "hx-get": reverse("trades:parties"),
                "hx-trigger": "change",
                "hx-target": "#parties",
                "hx-include": "#parties",
                "hx-swap": "outerHTML",
            }
        )
        self.fields["incoterm"].widget.attrs.update(
            {
                "hx-get": reverse("trades:incoterm_help"),
                "hx-trigger": "change",
                "hx-target": "#incoterm-help",
                "aria-describedby": "incoterm-help",
            }
        )

    def selected_incoterm(self) -> Incoterm | None:
        code = self.data.get(self.add_prefix("incoterm")) if self.is_bound else self.initial.get("incoterm")
        return Incoterm.objects.filter(pk=code).first() if code else None


class PartyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=SEARCH_MAX,
        widget=CodeInput("countries", attrs={"size": 4}),
        help_text=_("ISO 3166 code, e.g. CI, FR."),
    )
    vat = forms.CharField(label=_("VAT number"), max_length=40, required=False)
    eori = forms.CharField(label=_("EORI number"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)

    def __init__(self, *args, optional: bool = False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if optional:
            for field in self.fields.values():
                field.required = False

    def is_empty(self) -> bool:
        return not any((self.cleaned_data.get(name) or "").strip() for name in self.fields)

    def to_data(self) -> PartyData:
        value = self.cleaned_data
        return PartyData(
            name=value["name"],
            country=value["country"].strip().upper(),
            street=value["street"],
            city=value["city"],
            postcode=value["postcode"],
            email=value["email"],
            identifiers={k: value[k].strip() for k in IDENTIFIER_FIELDS if value[k].strip()},
        )

    @staticmethod
    def initial_from(party: PartyData | None) -> dict:
        if party is None:
            return {}
        return {
            "name": party.name,
            "street": party.street,
            "city": party.city,
            "postcode": party.postcode,
            "country": party.country,
            "email": party.email,
            **{k: (party.identifiers or {}).get(k, "") for k in IDENTIFIER_FIELDS},
        }

    @staticmethod
    def initial_from_organisation(organisation: Organisation) -> dict:
        identifiers = {i.scheme: i.value for i in organisation.identifiers.all()}
        return {
            "name": organisation.legal_name,
            "street": organisation.street,
            "city": organisation.city,
            "postcode": organisation.postcode,
            "country": organisation.country,
            "email": organisation.email,
            **{k: identifiers.get(k, "") for k in IDENTIFIER_FIELDS},
        }


class GoodsItemForm(forms.Form):
    description = forms.CharField(label=_("Description of the goods"), max_length=300)
    hs_code = forms.CharField(
        label=_("HS code"),
        max_length=SEARCH_MAX,
        widget=CodeInput("hs", attrs={"inputmode": "numeric"}),
        help_text=_("6-digit subheading, e.g. 080132."),
    )
    origin_country = forms.CharField(
        label=_("Country of origin"), max_length=SEARCH_MAX, widget=CodeInput("countries", attrs={"size": 4})
    )
    quantity = forms.CharField(label=_("Quantity"), max_length=24, widget=_decimal_input())
    unit = forms.CharField(
        label=_("Unit"),
        max_length=SEARCH_MAX,
        widget=CodeInput("units", attrs={"size": 5}),
        help_text=_("UNECE Rec 20, e.g. KGM, C62 (piece)."),
    )
    packages_count = forms.IntegerField(label=_("Packages"), min_value=0)
    package_type = forms.CharField(
        label=_("Package type"),
        max_length=SEARCH_MAX,
        widget=CodeInput("package-types", attrs={"size": 4}),
        help_text=_("UNECE Rec 21, e.g. BG (bag), CT (carton)."),
    )
    net_mass_kg = forms.CharField(label=_("Net mass (kg)"), max_length=24, widget=_decimal_input())
    gross_mass_kg = forms.CharField(label=_("Gross mass (kg)"), max_length=24, widget=_decimal_input())
    unit_price = forms.CharField(label=_("Unit price"), max_length=24, widget=_decimal_input())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def to_data(self) -> GoodsItemData:
        value = self.cleaned_data
        return GoodsItemData(
            description=value["description"],
            hs_code=value["hs_code"].strip(),
            origin_country=value["origin_country"].strip().upper(),
            quantity=value["quantity"],
            unit=value["unit"].strip().upper(),
            packages_count=value["packages_count"],
            package_type=value["package_type"].strip().upper(),
            net_mass_kg=value["net_mass_kg"],
            gross_mass_kg=value["gross_mass_kg"],
            unit_price=value["unit_price"],
        )

    @staticmethod
    def initial_from(item: GoodsItemData) -> dict:
        return {
            "description": item.description,
            "hs_code": item.hs_code,
            "origin_country": item.origin_country,
            "quantity": _plain(item.quantity),
            "unit": item.unit,
            "packages_count": item.packages_count,
            "package_type": item.package_type,
            "net_mass_kg": _plain(item.net_mass_kg),
            "gross_mass_kg": _plain(item.gross_mass_kg),
            "unit_price": _plain(item.unit_price),
        }


GoodsItemFormSet = forms.formset_factory(
    GoodsItemForm,
    extra=0,
    min_num=1,
    can_delete=True,
    max_num=MAX_GOODS_LINES,
    validate_max=True,
    absolute_max=MAX_GOODS_LINES,
)


def new_goods_line(index: int, initial: dict | None = None) -> forms.Form:
    """One more, empty goods line for a form that already has `index` lines ("Add a line")."""
    formset = GoodsItemFormSet(prefix=GOODS_PREFIX)
    form = formset.form(
        auto_id=formset.auto_id,
        prefix=formset.add_prefix(index),
        initial=initial,
        empty_permitted=True,
        use_required_attribute=False,
        renderer=formset.renderer,
    )
    formset.add_fields(form, index)
    return form


# -- the whole page ---------------------------------------------------------------------------------


class TradeEntry:
    """The forms of the trade page, taken together: one data set, entered once."""

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        header: dict | None = None,
        parties: dict[str, dict] | None = None,
        items: list[dict] | None = None,
    ):
        parties = parties or {}
        self.header = TradeHeaderForm(data, initial=header or {})
        self.parties = {
            role: PartyForm(data, prefix=role, initial=parties.get(role, {}), optional=role == "consignee")
            for role in PARTY_ROLES
        }
        self.goods = GoodsItemFormSet(data, prefix=GOODS_PREFIX, initial=items or None)
        self.goods_errors: list[str] = []
        self.other_errors: list[str] = []
        self._goods_forms: list[int] = []  # index in TradeData.items -> index in the formset

    # The template reads the sections by name.
    @property
    def seller(self) -> PartyForm:
        return self.parties["seller"]

    @property
    def buyer(self) -> PartyForm:
        return self.parties["buyer"]

    @property
    def consignee(self) -> PartyForm:
        return self.parties["consignee"]

    @property
    def rule(self) -> dict | None:
        """The chosen Incoterms rule in words, shown under its select."""
        return describe_incoterm(self.header.selected_incoterm())

    @property
    def direction(self) -> str:
        if self.header.is_bound:
            return self.header.data.get("direction") or Direction.EXPORT
        return self.header.initial.get("direction") or Direction.EXPORT

    @classmethod
    def for_new(
        cls, organisation: Organisation, data: QueryDict | None = None, direction: str | None = None
    ) -> TradeEntry:
        """A blank trade; our organisation is the seller of an export, the buyer of an import."""
        direction = direction if direction in Direction.values else Direction.EXPORT
        ours = "seller" if direction == Direction.EXPORT else "buyer"
        item = {"origin_country": organisation.country} if direction == Direction.EXPORT else {}
        return cls(
            data,
            header={"direction": direction, "payment_days": 0},
            parties={ours: PartyForm.initial_from_organisation(organisation)},
            items=[item],
        )

    @classmethod
    def for_trade(cls, trade: Trade, data: QueryDict | None = None) -> TradeEntry:
        """An existing trade, as it was entered."""
        entered = trade_data_from(trade)
        header = {
            name: getattr(entered, name)
            for name in (
                "direction",
                "reference",
                "invoice_number",
                "invoice_date",
                "currency",
                "incoterm",
                "incoterm_place",
                "transport_mode",
                "place_of_loading",
                "place_of_discharge",
                "planned_departure",
                "payment_terms",
                "payment_days",
            )
        }
        parties = {role: PartyForm.initial_from(getattr(entered, role)) for role in PARTY_ROLES}
        items = [GoodsItemForm.initial_from(item) for item in entered.items]
        return cls(data, header=header, parties=parties, items=items)

    def is_valid(self) -> bool:
        valid = [
            self.header.is_valid(),
            *(f.is_valid() for f in self.parties.values()),
            self.goods.is_valid(),
        ]
        return all(valid)

    def _kept_goods_forms(self) -> list[tuple[int, GoodsItemForm]]:
        kept = []
        for index, form in enumerate(self.goods.forms):
            if self.goods.can_delete and self.goods._should_delete_form(form):
                continue
            if form.empty_permitted and not form.has_changed():
                continue
            kept.append((index, form))
        return kept

    def to_data(self) -> TradeData:
        """The TradeData the services take; call after is_valid()."""
        header = self.header.cleaned_data
        kept = self._kept_goods_forms()
        self._goods_forms = [index for index, _form in kept]
        consignee = self.consignee
        return TradeData(
            direction=header["direction"],
            reference=header["reference"].strip(),
            seller=self.seller.to_data(),
            buyer=self.buyer.to_data(),
            consignee=None if consignee.is_empty() else consignee.to_data(),
            invoice_number=header["invoice_number"],
            invoice_date=header["invoice_date"],
            currency=header["currency"].strip().upper(),
            incoterm=header["incoterm"],
            incoterm_place=header["incoterm_place"].strip().upper(),
            transport_mode=header["transport_mode"],
            place_of_loading=header["place_of_loading"].strip().upper(),
            place_of_discharge=header["place_of_discharge"].strip().upper(),
            planned_departure=header["planned_departure"],
            payment_terms=header["payment_terms"],
            payment_days=header["payment_days"] or 0,
            items=[form.to_data() for _index, form in kept],
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show each message of a service's ValidationError next to the field its path names."""
        for path, messages in error_dict(exc).items():
            for message in messages:
                self._add_error(path, message)

    def _add_error(self, path: str, message: str) -> None:
        match = ITEM_PATH.match(path)
        if match:
            position, field = int(match.group(1)), match.group(2)
            if position < len(self._goods_forms):
                form = self.goods.forms[self._goods_forms[position]]
                form.add_error(field if field in form.fields else None, message)
                return
        if path == "items" or path.startswith("items["):
            self.goods_errors.append(message)
            return
        role, _dot, field = path.partition(".")
        if role in self.parties:
            form = self.parties[role]
            field = field.removeprefix("identifiers.")
            form.add_error(field if field in form.fields else None, message)
            return
        if path in self.header.fields:
            self.header.add_error(path, message)
            return
        self.other_errors.append(message)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.other_errors
            or self.goods_errors
            or self.header.errors
            or self.goods.non_form_errors()
            or any(f.errors for f in self.parties.values())
            or any(f.errors for f in self.goods.forms)
        )


def swapped_parties(query: QueryDict) -> dict[str, dict]:
    """The party fields typed so far, seller and buyer swapped: what changes when the direction does.

    Our organisation is the seller of an export and the buyer of an import, so switching the
    direction moves what was typed for one role to the other.
    """
    values = {
        role: {name: query.get(f"{role}-{name}", "") for name in PartyForm.base_fields}
        for role in PARTY_ROLES
    }
    return {"seller": values["buyer"], "buyer": values["seller"], "consignee": values["consignee"]}


# -- list filters and checklist steps ---------------------------------------------------------------


class TradeFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Reference, buyer, invoice number…")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *TradeStatus.choices]
    )
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("Exports and imports")), *Direction.choices]
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @property
    def active(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())


MARKABLE_STATUSES = [(s.value, s.label) for s in StepStatus if s != StepStatus.NOT_NEEDED]


class StepForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MARKABLE_STATUSES)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
