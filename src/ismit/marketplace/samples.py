"""Sample catalogues: the demo providers' offerings (used by `ismit seed_marketplace_demo` and tests).

Each sample is an OfferingData for `catalogue_services.create_offering`, valid from `today` for a year.
"""

from __future__ import annotations

import datetime as dt

from ismit.marketplace.catalogue_services import LaneData, OfferingData, RateLineData


def _offering(today: dt.date, **fields) -> OfferingData:
    return OfferingData(valid_from=today, valid_until=today + dt.timedelta(days=365), **fields)


def forwarder_offerings(today: dt.date) -> list[OfferingData]:
    """A freight forwarder: sea groupage and full containers West Africa → Europe, air freight on the
    demo lanes (Abidjan → Paris, Nairobi → Amsterdam)."""
    return [
        _offering(
            today,
            name="Sea groupage West Africa – Europe",
            service_type="carriage",
            currency="EUR",
            modes=["1"],
            max_mass_kg="20000",
            max_volume_m3="60",
            transit_days=21,
            terms="Door to door, export and import clearance not included. Rates all-in as itemised.",
            lanes=[
                LaneData("CI", "FR", "CIABJ", "FRMRS"),
                LaneData("CI", "FR", "CIABJ", "FRLEH"),
                LaneData("SN", "FR", "SNDKR", ""),
                LaneData("CI", "BE", "CIABJ", "BEANR"),
            ],
            rate_lines=[
                RateLineData("FRT", "Ocean freight (groupage)", "m3", "62.00"),
                RateLineData("PKP", "Pick-up at the shipper's", "kg", "0.03"),
                RateLineData("MIN", "Minimum charge", "minimum", "180.00"),
                RateLineData("BAF", "Bunker adjustment factor", "m3", "8.50", True),
                RateLineData("THC", "Terminal handling, both ends", "shipment", "95.00", True),
                RateLineData("DOC", "Documentation", "shipment", "35.00", True),
            ],
        ),
        _offering(
            today,
            name="Full container Abidjan – Marseille",
            service_type="carriage",
            currency="EUR",
            modes=["1"],
            transit_days=16,
            terms="Port to door. Free time 7 days at destination.",
            lanes=[LaneData("CI", "FR", "CIABJ", "FRMRS")],
            rate_lines=[
                RateLineData("F20", "Ocean freight 20'", "container_20", "1350.00"),
                RateLineData("F40", "Ocean freight 40'", "container_40", "2150.00"),
                RateLineData("F4H", "Ocean freight 40' high cube", "container_40hc", "2250.00"),
                RateLineData("THC", "Terminal handling per 20'", "container_20", "180.00", True),
                RateLineData("THD", "Terminal handling per 40'", "container_40", "260.00", True),
                RateLineData("DOC", "Documentation", "shipment", "45.00", True),
            ],
        ),
        _offering(
            today,
            name="Air freight Africa – Europe",
            service_type="carriage",
            currency="EUR",
            modes=["4"],
            max_mass_kg="5000",
            temperature_control=True,
            transit_days=2,
            terms="Airport to door; cool chain for perishables (2–8 °C).",
            lanes=[LaneData("CI", "FR", "CIABJ", "FRCDG"), LaneData("KE", "NL", "KENBO", "NLAMS")],
            rate_lines=[
                RateLineData("AFR", "Air freight", "kg", "2.35"),
                RateLineData("MIN", "Minimum charge", "minimum", "120.00"),
                RateLineData("FSC", "Fuel surcharge", "kg", "0.45", True),
                RateLineData("SEC", "Security screening", "kg", "0.12", True),
                RateLineData("AWB", "Air waybill", "shipment", "30.00", True),
            ],
        ),
    ]


def broker_offerings(today: dt.date) -> list[OfferingData]:
    return [
        _offering(
            today,
            name="Export clearance Côte d'Ivoire",
            service_type="customs_brokerage",
            currency="XOF",
            transit_days=1,
            terms="Export declaration through the single window, certificate of origin on request.",
            lanes=[LaneData("CI", "FR"), LaneData("CI", "BE"), LaneData("CI", "NL")],
            rate_lines=[
                RateLineData("DEC", "Export declaration", "shipment", "65000"),
                RateLineData("LIN", "Per tonne handled", "kg", "5"),
                RateLineData("COO", "Certificate of origin", "shipment", "15000", True),
            ],
        )
    ]


def insurer_offerings(today: dt.date) -> list[OfferingData]:
    return [
        _offering(
            today,
            name="Cargo insurance, Institute Cargo Clauses (A)",
            service_type="insurance",
            currency="EUR",
            terms="All risks, warehouse to warehouse, 110 % of the CIF value.",
            lanes=[LaneData("CI", "FR"), LaneData("SN", "FR"), LaneData("KE", "NL"), LaneData("CI", "BE")],
            rate_lines=[
                RateLineData("INS", "Premium (ICC A)", "value_percent", "0.35"),
                RateLineData("MIN", "Minimum premium", "minimum", "25.00"),
                RateLineData("POL", "Policy fee", "shipment", "10.00", True),
            ],
        )
    ]


def bank_offerings(today: dt.date) -> list[OfferingData]:
    return [
        _offering(
            today,
            name="Documentary credit, confirmation and pre-export finance",
            service_type="trade_finance",
            currency="EUR",
            terms="Confirmation of letters of credit; pre-export finance up to 80 % of the order.",
            lanes=[LaneData("CI", "FR"), LaneData("SN", "FR"), LaneData("KE", "NL")],
            rate_lines=[
                RateLineData("CNF", "Confirmation commission", "value_percent", "0.25"),
                RateLineData("MIN", "Minimum commission", "minimum", "150.00"),
                RateLineData("SWF", "SWIFT and courier", "shipment", "60.00", True),
            ],
        )
    ]


#: demo organisation (seed_demo's legal name) → its sample offerings
DEMO_CATALOGUES = {
    "Sahel Freight Forwarding": forwarder_offerings,
    "Transit Lagunaire Customs Brokers": broker_offerings,
    "Assurances Maritimes Démo": insurer_offerings,
    "Banque Atlantique Démo": bank_offerings,
}
