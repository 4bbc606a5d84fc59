"""The four paper documents of a trade, as PDF after the UN Layout Key, in English or French.

commercial_invoice  invoice number and date, seller, buyer, consignee, terms, lines with amounts, totals
packing_list        packages, kinds and masses per line and in total; no prices
coo_application     application for a certificate of origin: exporter, consignee, transport, goods with
                    origin and HS code, the exporter's declaration
export_declaration  summary of the export declaration: declarant, exporter, consignee, countries,
                    transport, goods with HS code, origin, masses and statistical value, totals

Each generator lists in `reads` the DocumentData paths it prints (see documents/data.py). The drawing is
in pdf_layout.py; the signature box is left empty at `SIGNATURE_BOX` on the last page for the PAdES
signature added afterwards.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ismit.accounts.models import IdentifierScheme
from ismit.documents.data import DocumentData, ItemView, PartyView, PlaceView
from ismit.documents.generators import register
from ismit.documents.generators.pdf_layout import SIGNATURE_BOX, Cell, Column, Formats, Sheet, render_sheet
from ismit.trades.models import PaymentTerms

__all__ = ["GENERATORS", "SIGNATURE_BOX"]


def _party_paths(role: str) -> tuple[str, ...]:
    return tuple(
        f"{role}.{f}"
        for f in ("name", "street", "postcode", "city", "country", "country_name", "identifiers")
    )


def _place_paths(place: str) -> tuple[str, ...]:
    return (f"{place}.name", f"{place}.code")


def _unique(*paths: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))


# Printed by every document: the header boxes for transport, the place and date of issue, the signatory.
_COMMON_READS: tuple[str, ...] = (
    "reference",
    *_party_paths("seller"),
    "transport_mode",
    "transport_mode_name",
    "planned_departure",
    *_place_paths("place_of_loading"),
    *_place_paths("place_of_discharge"),
    "place_of_discharge.country",
    "invoice_number",
    "invoice_date",
    "issuer.name",
    "issuer.city",
    "items[].line_no",
    "items[].description",
    "items[].hs_code",
)


class _Context:
    """What every document prints the same way: parties, places, countries, terms, in one language."""

    def __init__(self, data: DocumentData, language: str) -> None:
        self.data = data
        self.f = Formats(language)
        self.language = language
        parties = (data.issuer, data.seller, data.buyer, data.consignee)
        self.country_names = {p.country: p.country_name for p in parties if p and p.country_name}

    def country(self, code: str) -> str:
        name = self.country_names.get(code)
        return f"{name} ({code})" if name and name != code else code

    def party(self, party: PartyView) -> tuple[str, ...]:
        lines = [party.name]
        if party.street:
            lines.append(party.street)
        town = " ".join(x for x in (party.postcode, party.city) if x)
        lines.append(", ".join(x for x in (town, self.country(party.country) if party.country else "") if x))
        for scheme, value in sorted((party.identifiers or {}).items()):
            if value:
                lines.append(_labelled(_scheme_label(scheme), value))
        return tuple(line for line in lines if line)

    @staticmethod
    def place(place: PlaceView) -> str:
        return f"{place.name} ({place.code})" if place.name else place.code

    def origins(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in self.data.items:
            seen.setdefault(item.origin_country, None)
        return list(seen)

    def origin_names(self) -> str:
        return ", ".join(self.country(code) for code in self.origins())

    def terms_of_delivery(self) -> Cell:
        d = self.data
        return Cell(
            _("Terms of delivery"),
            (
                f"{d.incoterm} {self.place(d.incoterm_place)}",
                f"{d.incoterm_name} · {_('Incoterms® 2020')}",
            ),
        )

    def payment(self) -> str:
        d = self.data
        try:
            label = str(PaymentTerms(d.payment_terms).label)
        except ValueError:
            label = d.payment_terms
        if d.payment_days:
            due = ngettext(
                "payment due in %(count)s day", "payment due in %(count)s days", d.payment_days
            ) % {"count": d.payment_days}
            return f"{label}, {due}"
        return label

    def transport(self) -> list[list[Cell]]:
        d = self.data
        return [
            [
                Cell(_("Mode of transport"), (f"{d.transport_mode_name} ({d.transport_mode})",)),
                Cell(_("Planned departure"), (self.f.date(d.planned_departure),)),
            ],
            [
                Cell(_("Place of loading"), (self.place(d.place_of_loading),)),
                Cell(_("Place of discharge"), (self.place(d.place_of_discharge),)),
            ],
        ]

    def countries(self) -> list[Cell]:
        return [
            Cell(_("Country of origin"), (self.origin_names(),)),
            Cell(_("Country of destination"), (self.country(self.data.place_of_discharge.country),)),
        ]

    def packages(self, item: ItemView) -> str:
        return f"{self.f.number(item.packages_count)} {item.package_type}"

    def quantity(self, item: ItemView) -> str:
        return f"{self.f.measure(item.quantity)} {item.unit}"

    def place_date(self) -> Cell:
        d = self.data
        text = ", ".join(x for x in (d.issuer.city, self.f.date(d.invoice_date)) if x)
        return Cell(_("Place and date of issue"), (text,))

    def sheet(self, title: str, **parts) -> Sheet:
        d = self.data
        number = parts.pop("number")
        date = parts.pop("date")
        return Sheet(
            title=title,
            language=self.language,
            author=d.issuer.name,
            subject=f"{title} {number.lines[0] if number.lines else ''}".strip(),
            keywords=d.reference,
            number=number,
            date=date,
            signatory=_("For and on behalf of %(name)s") % {"name": d.issuer.name},
            footer=f"{title} · {d.reference}",
            page_label=_("Page %(number)s of %(total)s"),
            signature_label=_("Signature"),
            place_date=self.place_date(),
            transport=self.transport(),
            **parts,
        )


def _labelled(label: str, value: str) -> str:
    # Its own msgid, so that French can set the colon apart ("Numéro de TVA : FR…").
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def _scheme_label(scheme: str) -> str:
    try:
        return str(IdentifierScheme(scheme).label)
    except ValueError:
        return scheme.upper()


class _PdfGenerator:
    format = "pdf"
    media_type = "application/pdf"
    signature_box = SIGNATURE_BOX  # (x1, y1, x2, y2) in points, on the last page: for the signer
    kind: str
    is_declaration: bool
    reads: tuple[str, ...]

    def render(self, data: DocumentData, *, language: str) -> bytes:
        with translation.override(language):
            sheet = self.sheet(_Context(data, language))
        return render_sheet(sheet)

    def sheet(self, ctx: _Context) -> Sheet:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}/{self.format}>"


class CommercialInvoicePdf(_PdfGenerator):
    kind = "commercial_invoice"
    is_declaration = False
    reads = _unique(
        *_COMMON_READS,
        *_party_paths("buyer"),
        *_party_paths("consignee"),
        "currency",
        "payment_terms",
        "payment_days",
        "incoterm",
        "incoterm_name",
        *_place_paths("incoterm_place"),
        "items[].origin_country",
        "items[].packages_count",
        "items[].package_type",
        "items[].quantity",
        "items[].unit",
        "items[].unit_price",
        "items[].line_amount",
        "total_packages",
        "total_amount",
        "total_net_mass_kg",
        "total_gross_mass_kg",
    )

    def sheet(self, ctx: _Context) -> Sheet:
        d, f = ctx.data, ctx.f
        number = Cell(_("Invoice number"), (d.invoice_number,), bold_first=True)
        date = Cell(_("Invoice date"), (f.date(d.invoice_date),))
        consignee = d.consignee_or_buyer
        total = f"{f.amount(d.total_amount)} {d.currency}"
        return ctx.sheet(
            _("Commercial invoice"),
            number=number,
            date=date,
            consignor=Cell(_("Seller"), ctx.party(d.seller), bold_first=True),
            refs=[
                [number, date],
                [Cell(_("Reference"), (d.reference,)), Cell(_("Currency"), (d.currency,))],
                [Cell(_("Payment terms"), (ctx.payment(),))],
            ],
            left2=Cell(_("Consignee"), ctx.party(consignee), bold_first=True),
            right2=Cell(_("Buyer"), ctx.party(d.buyer), bold_first=True),
            terms=[ctx.countries(), [ctx.terms_of_delivery()]],
            columns=[
                Column(_("Item"), 8),
                Column(_("Description of goods"), 52),
                Column(_("HS code"), 14),
                Column(_("Origin"), 11),
                Column(_("Packages"), 19),
                Column(_("Quantity"), 23, "right"),
                Column(_("Unit price"), 20, "right"),
                Column(_("Amount (%(currency)s)") % {"currency": d.currency}, 36, "right"),
            ],
            rows=[
                [
                    str(i.line_no),
                    i.description,
                    i.hs_code,
                    i.origin_country,
                    ctx.packages(i),
                    ctx.quantity(i),
                    f.price(i.unit_price),
                    f.amount(i.line_amount),
                ]
                for i in d.items
            ],
            totals=["", _("Total"), "", "", f.number(d.total_packages), "", "", f.amount(d.total_amount)],
            remarks=Cell(
                _("Total amount"),
                (
                    total,
                    _labelled(_("Net mass (kg)"), f.measure(d.total_net_mass_kg)),
                    _labelled(_("Gross mass (kg)"), f.measure(d.total_gross_mass_kg)),
                ),
                bold_first=True,
                size=9.0,
            ),
        )


class PackingListPdf(_PdfGenerator):
    kind = "packing_list"
    is_declaration = False
    reads = _unique(
        *_COMMON_READS,
        *_party_paths("buyer"),
        *_party_paths("consignee"),
        "incoterm",
        "incoterm_name",
        *_place_paths("incoterm_place"),
        "items[].origin_country",
        "items[].packages_count",
        "items[].package_type",
        "items[].quantity",
        "items[].unit",
        "items[].net_mass_kg",
        "items[].gross_mass_kg",
        "total_packages",
        "total_net_mass_kg",
        "total_gross_mass_kg",
    )

    def sheet(self, ctx: _Context) -> Sheet:
        d, f = ctx.data, ctx.f
        number = Cell(_("Reference"), (d.reference,), bold_first=True)
        date = Cell(_("Date"), (f.date(d.invoice_date),))
        return ctx.sheet(
            _("Packing list"),
            number=number,
            date=date,
            consignor=Cell(_("Seller"), ctx.party(d.seller), bold_first=True),
            refs=[
                [number, date],
                [
                    Cell(_("Invoice number"), (d.invoice_number,)),
                    Cell(_("Invoice date"), (f.date(d.invoice_date),)),
                ],
                ctx.countries(),
            ],
            left2=Cell(_("Consignee"), ctx.party(d.consignee_or_buyer), bold_first=True),
            right2=Cell(_("Buyer"), ctx.party(d.buyer), bold_first=True),
            terms=[
                [ctx.terms_of_delivery()],
                [
                    Cell(_("Packages"), (f.number(d.total_packages),)),
                    Cell(_("Gross mass (kg)"), (f.measure(d.total_gross_mass_kg),)),
                ],
            ],
            columns=[
                Column(_("Item"), 8),
                Column(_("Number and kind of packages"), 24),
                Column(_("Description of goods"), 56),
                Column(_("HS code"), 14),
                Column(_("Origin"), 11),
                Column(_("Quantity"), 24, "right"),
                Column(_("Net mass (kg)"), 23, "right"),
                Column(_("Gross mass (kg)"), 23, "right"),
            ],
            rows=[
                [
                    str(i.line_no),
                    ctx.packages(i),
                    i.description,
                    i.hs_code,
                    i.origin_country,
                    ctx.quantity(i),
                    f.measure(i.net_mass_kg),
                    f.measure(i.gross_mass_kg),
                ]
                for i in d.items
            ],
            totals=[
                "",
                f.number(d.total_packages),
                _("Total"),
                "",
                "",
                "",
                f.measure(d.total_net_mass_kg),
                f.measure(d.total_gross_mass_kg),
            ],
            remarks=Cell(
                _("Totals"),
                (
                    _labelled(_("Packages"), f.number(d.total_packages)),
                    _labelled(_("Net mass (kg)"), f.measure(d.total_net_mass_kg)),
                    _labelled(_("Gross mass (kg)"), f.measure(d.total_gross_mass_kg)),
                ),
                size=9.0,
            ),
        )


class CertificateOfOriginApplicationPdf(_PdfGenerator):
    kind = "coo_application"
    is_declaration = False
    reads = _unique(
        *_COMMON_READS,
        *_party_paths("consignee"),
        *_party_paths("buyer"),  # the consignee box shows the buyer when the trade names no consignee
        "items[].origin_country",
        "items[].packages_count",
        "items[].package_type",
        "items[].quantity",
        "items[].unit",
        "items[].gross_mass_kg",
        "total_packages",
        "total_gross_mass_kg",
    )

    def sheet(self, ctx: _Context) -> Sheet:
        d, f = ctx.data, ctx.f
        number = Cell(_("Reference"), (d.reference,), bold_first=True)
        date = Cell(_("Date"), (f.date(d.invoice_date),))
        declaration = _(
            "The undersigned, exporter of the goods described above, declares that these goods originate "
            "in %(origin)s, asks for a certificate of origin to be issued for them, and confirms that the "
            "particulars given above are correct."
        ) % {"origin": ctx.origin_names()}
        return ctx.sheet(
            _("Application for a certificate of origin"),
            number=number,
            date=date,
            consignor=Cell(_("Exporter"), ctx.party(d.seller), bold_first=True),
            refs=[
                [number, date],
                [
                    Cell(_("Invoice number"), (d.invoice_number,)),
                    Cell(_("Invoice date"), (f.date(d.invoice_date),)),
                ],
                ctx.countries(),
            ],
            left2=Cell(_("Consignee"), ctx.party(d.consignee_or_buyer), bold_first=True),
            right2=Cell(_("For official use")),
            terms=[
                [Cell(_("Remarks"))],
                [
                    Cell(_("Packages"), (f.number(d.total_packages),)),
                    Cell(_("Gross mass (kg)"), (f.measure(d.total_gross_mass_kg),)),
                ],
            ],
            columns=[
                Column(_("Item"), 8),
                Column(_("Number and kind of packages"), 24),
                Column(_("Description of goods"), 62),
                Column(_("HS code"), 15),
                Column(_("Country of origin"), 22),
                Column(_("Quantity"), 26, "right"),
                Column(_("Gross mass (kg)"), 26, "right"),
            ],
            rows=[
                [
                    str(i.line_no),
                    ctx.packages(i),
                    i.description,
                    i.hs_code,
                    ctx.country(i.origin_country),
                    ctx.quantity(i),
                    f.measure(i.gross_mass_kg),
                ]
                for i in d.items
            ],
            totals=["", f.number(d.total_packages), _("Total"), "", "", "", f.measure(d.total_gross_mass_kg)],
            remarks=Cell(_("Declaration by the exporter"), (declaration,)),
        )


class ExportDeclarationSummaryPdf(_PdfGenerator):
    kind = "export_declaration"
    is_declaration = True
    reads = _unique(
        *_COMMON_READS,
        *_party_paths("issuer"),
        *_party_paths("consignee"),
        *_party_paths("buyer"),  # the consignee box shows the buyer when the trade names no consignee
        "place_of_loading.country",
        "currency",
        "incoterm",
        "incoterm_name",
        *_place_paths("incoterm_place"),
        "items[].origin_country",
        "items[].packages_count",
        "items[].package_type",
        "items[].quantity",
        "items[].unit",
        "items[].net_mass_kg",
        "items[].gross_mass_kg",
        "items[].line_amount",
        "total_packages",
        "total_net_mass_kg",
        "total_gross_mass_kg",
        "total_amount",
    )

    def sheet(self, ctx: _Context) -> Sheet:
        d, f = ctx.data, ctx.f
        number = Cell(_("Reference"), (d.reference,), bold_first=True)
        date = Cell(_("Date"), (f.date(d.invoice_date),))
        total = f"{f.amount(d.total_amount)} {d.currency}"
        declaration = _(
            "The declarant confirms that the particulars given in this summary are correct and complete."
        )
        return ctx.sheet(
            _("Export declaration (summary)"),
            number=number,
            date=date,
            consignor=Cell(_("Exporter"), ctx.party(d.seller), bold_first=True),
            refs=[
                [number, date],
                [
                    Cell(_("Invoice number"), (d.invoice_number,)),
                    Cell(_("Invoice date"), (f.date(d.invoice_date),)),
                ],
                [
                    Cell(_("Country of export"), (ctx.country(d.place_of_loading.country),)),
                    Cell(_("Country of destination"), (ctx.country(d.place_of_discharge.country),)),
                ],
            ],
            left2=Cell(_("Consignee"), ctx.party(d.consignee_or_buyer), bold_first=True),
            right2=Cell(_("Declarant"), ctx.party(d.issuer), bold_first=True),
            terms=[
                [
                    Cell(_("Country of origin"), (ctx.origin_names(),)),
                    Cell(_("Total amount"), (total,)),
                ],
                [ctx.terms_of_delivery()],
            ],
            columns=[
                Column(_("Item"), 7),
                Column(_("Description of goods"), 41),
                Column(_("HS code"), 14),
                Column(_("Origin"), 11),
                Column(_("Packages"), 18),
                Column(_("Gross mass (kg)"), 21, "right"),
                Column(_("Net mass (kg)"), 21, "right"),
                Column(_("Supplementary quantity"), 22, "right"),
                Column(_("Statistical value (%(currency)s)") % {"currency": d.currency}, 28, "right"),
            ],
            rows=[
                [
                    str(i.line_no),
                    i.description,
                    i.hs_code,
                    i.origin_country,
                    ctx.packages(i),
                    f.measure(i.gross_mass_kg),
                    f.measure(i.net_mass_kg),
                    ctx.quantity(i),
                    f.amount(i.line_amount),
                ]
                for i in d.items
            ],
            totals=[
                "",
                _("Total"),
                "",
                "",
                f.number(d.total_packages),
                f.measure(d.total_gross_mass_kg),
                f.measure(d.total_net_mass_kg),
                "",
                f.amount(d.total_amount),
            ],
            remarks=Cell(_("Declaration"), (declaration,)),
        )


GENERATORS = tuple(
    register(generator)
    for generator in (
        CommercialInvoicePdf(),
        PackingListPdf(),
        CertificateOfOriginApplicationPdf(),
        ExportDeclarationSummaryPdf(),
    )
)
