"""The currency a destination country pays its duties and taxes in, for the landed-cost figure.

Only the countries whose currency the reference rates cover (refdata/data/exchange_rates.json) are
listed; for any other destination the landed cost stays in the trade currency.
"""

from __future__ import annotations

# Euro area on 1 January 2026 (Bulgaria joined that day), plus territories using the euro by agreement.
EURO_AREA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "DE",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "SI",
        "SK",
        "AD",
        "MC",
        "SM",
        "VA",
        "ME",
        "XK",
    ]
)
# West African (BCEAO) and Central African (BEAC) CFA francs.
XOF_AREA = frozenset(["BJ", "BF", "CI", "GW", "ML", "NE", "SN", "TG"])
XAF_AREA = frozenset(["CM", "CF", "TD", "CG", "GQ", "GA"])

NATIONAL = {
    "AU": "AUD",
    "BD": "BDT",
    "BR": "BRL",
    "CA": "CAD",
    "CH": "CHF",
    "CN": "CNY",
    "CV": "CVE",
    "CZ": "CZK",
    "DK": "DKK",
    "GB": "GBP",
    "HK": "HKD",
    "HU": "HUF",
    "ID": "IDR",
    "IL": "ILS",
    "IN": "INR",
    "IS": "ISK",
    "JP": "JPY",
    "KE": "KES",
    "KM": "KMF",
    "KR": "KRW",
    "LI": "CHF",
    "MX": "MXN",
    "MY": "MYR",
    "NO": "NOK",
    "NZ": "NZD",
    "PH": "PHP",
    "PL": "PLN",
    "RO": "RON",
    "SE": "SEK",
    "SG": "SGD",
    "TH": "THB",
    "TR": "TRY",
    "US": "USD",
    "ZA": "ZAR",
}


def currency_of(country: str) -> str:
    """The ISO 4217 code of the country's currency, or "" when it is not listed here."""
    if country in EURO_AREA:
        return "EUR"
    if country in XOF_AREA:
        return "XOF"
    if country in XAF_AREA:
        return "XAF"
    return NATIONAL.get(country, "")
