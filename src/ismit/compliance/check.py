"""The check of a trade: what its data lacks, what the borders ask for, and what it will cost landed.

`run_check(trade, language=, on=)` returns findings (error / warning / info) and a landed-cost estimate.
Errors block the generation of declarations (documents app). Besides the trade it reads the group
memberships of the countries involved and the rules that could match (one query each), and the exchange
rates it needs; it matches the rules in Python.

How a rule matches (see compliance.models):
- its validity dates contain the check date: `on`, else the planned departure, else the invoice date,
  else today;
- direction: every trade crosses two borders, so export rules (leaving the origin) and import rules
  (entering the destination) both apply; an export rule's origin is the country of loading, an import
  rule's origin is each goods line's country of origin. Import rules do not apply when the country of
  loading and the destination are one customs territory (both members of a customs union, e.g. the EU);
- origin and destination: empty (any), the country, or a group the country belonged to on the date;
- HS: the line's subheading starts with the rule's prefix (empty: all goods).
Export duties and taxes (rules of direction "export") are reported, not added to the landed cost, which
is the cost at import. Where several import duty (or VAT) rules match a line, a rule for the line's
origin (country, then group) wins over a rule for any origin (a preference over the general rate), then
the longest HS prefix, then the most specific destination, then the latest start date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ismit.compliance import landed
from ismit.compliance.currencies import currency_of
from ismit.compliance.landed import LandedCost, Terms
from ismit.compliance.models import Rule, RuleDirection, RuleKind
from ismit.compliance.queries import Memberships, candidate_rules, memberships_on
from ismit.lib.prepared import Prepared
from ismit.refdata.queries import CENT, Conversion, NoExchangeRate, convert, currencies_with_rates
from ismit.trades.models import ChecklistStep, GoodsItem, StepStatus, Trade

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)
LANGUAGES = ("en", "fr")
SEA_ONLY_INCOTERMS = frozenset({"FAS", "FOB", "CFR", "CIF"})
WATER_MODES = frozenset({"1", "8"})
ORIGIN_SIDE_INCOTERMS = frozenset({"EXW", "FCA", "FAS", "FOB"})  # the named place is in the export country
EU = "EU"  # importers into the EU need an EORI number
ORIGIN_DOCUMENT_CODES = frozenset({"861", "862", "863", "864", "865"})  # certificates and declarations
DONE_STEP = frozenset({StepStatus.DONE, StepStatus.NOT_NEEDED})


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning" | "info"
    code: str
    message: str
    field: str  # path of the field to fix ("items[0].hs_code", "buyer.identifiers.eori"); "" for the trade
    rule_id: int | None = None
    source_title: str = ""
    source_url: str = ""
    kind: str = "data"  # "data", "cost", or the rule's kind
    detail: str = ""  # the rule's explanation, in the language of the check
    document_code: str = ""  # UNTDID 1001, for documents and licences
    lines: tuple[int, ...] = ()  # goods lines the rule applies to
    responsible: str = ""  # "seller" | "buyer": who handles the formality under the Incoterms rule
    rule_key: str = ""
    sample: bool = False  # the rule is sample data (starter set)


@dataclass(frozen=True)
class CheckResult:
    trade_id: int
    reference: str
    checked_on: dt.date
    language: str
    findings: list[Finding]
    landed_cost: LandedCost | None
    rules_considered: int = 0

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    @property
    def documents(self) -> list[Finding]:
        """The documents, licences and permits the rules ask for."""
        return [f for f in self.findings if f.kind in (RuleKind.DOCUMENT, RuleKind.LICENCE)]

    def by_severity(self) -> dict[str, list[Finding]]:
        return {severity: [f for f in self.findings if f.severity == severity] for severity in SEVERITIES}


def _language(language: str | None) -> str:
    code = (language or "en").lower()[:2]
    return code if code in LANGUAGES else "en"


def check_date(trade: Trade, on: dt.date | None = None) -> dt.date:
    return on or trade.planned_departure or trade.invoice_date or timezone.localdate()


def _items(trade: Trade) -> list[GoodsItem]:
    cached = getattr(trade, "_prefetched_objects_cache", {}).get("items")
    if cached is not None:
        return sorted(cached, key=lambda item: item.line_no)
    return list(GoodsItem.objects.filter(trade_id=trade.pk).select_related("hs_code").order_by("line_no"))


def _steps(trade: Trade) -> dict[str, str]:
    known = getattr(trade, "step_statuses", None)  # read with the trade (documents.data.trade_of_row)
    if known is not None:
        return dict(known)
    cached = getattr(trade, "_prefetched_objects_cache", {}).get("steps")
    if cached is not None:
        return {step.code: step.status for step in cached}
    return dict(_STEP_ROWS.rows(trade_id=trade.pk))


# Prepared (lib.prepared): a check that finds documents to obtain reads them.
_STEP_ROWS = Prepared(
    lambda trade_id: ChecklistStep.objects.filter(trade_id=trade_id).order_by().values_list("code", "status"),
    "trade_id",
)


def run_check(trade: Trade, *, language: str = "en", on: dt.date | None = None) -> CheckResult:
    """Findings and landed cost of the trade, in the language given ("en" or "fr")."""
    language = _language(language)
    with translation.override(language):
        return _Check(trade, language, check_date(trade, on)).run()


# -- the check --------------------------------------------------------------------------------------


@dataclass
class _Match:
    rule: Rule
    items: list[tuple[int, GoodsItem]] = field(default_factory=list)  # (index, item)


def _specificity(code: str, country_codes: frozenset[str]) -> int:
    if not code:
        return 0
    return 2 if len(code) == 2 and code in country_codes else 1


class _Check:
    def __init__(self, trade: Trade, language: str, on: dt.date):
        self.trade = trade
        self.language = language
        self.on = on
        self.items = _items(trade)
        self.findings: list[Finding] = []
        self.export_country = trade.place_of_loading.country
        self.destination = trade.place_of_discharge.country
        self.countries = frozenset(
            {self.export_country, self.destination, *(item.origin_country_id for item in self.items)}
        )
        self.members: Memberships = memberships_on(self.countries, on)
        self.rates_known = currencies_with_rates()
        self._conversions: dict[tuple[str, str], Conversion] = {}

    def convert(self, value: Decimal, source: str, target: str) -> Conversion:
        """refdata.queries.convert on the check date, each currency pair read once."""
        pair = (source, target)
        if pair not in self._conversions:
            self._conversions[pair] = convert(Decimal(1), source, target, self.on)
        known = self._conversions[pair]
        return replace(known, amount=(value * known.rate).quantize(CENT, ROUND_HALF_UP))

    def add(self, severity: str, code: str, message: str, field: str = "", **extra) -> None:
        self.findings.append(
            Finding(severity=severity, code=code, message=str(message), field=field, **extra)
        )

    def run(self) -> CheckResult:
        self.check_items()
        self.check_header()
        self.check_parties()
        duty_rates, vat_rates, relief = self.check_rules()
        cost = self.landed_cost(duty_rates, vat_rates, relief)
        order = {severity: n for n, severity in enumerate(SEVERITIES)}
        findings = sorted(self.findings, key=lambda f: order[f.severity])  # stable: keeps the reading order
        return CheckResult(
            trade_id=self.trade.pk,
            reference=self.trade.reference,
            checked_on=self.on,
            language=self.language,
            findings=findings,
            landed_cost=cost,
            rules_considered=self.rules_considered,
        )

    # -- the data ---------------------------------------------------------------------------------

    def check_items(self) -> None:
        if not self.items:
            self.add(ERROR, "data.no_items", _("Add at least one goods item."), "items")
        for index, item in enumerate(self.items):
            path = f"items[{index}]"
            hs = item.hs_code_id or ""
            if not hs:
                self.add(
                    ERROR,
                    "data.hs_missing",
                    _("Line %(line)s: enter the HS code.") % {"line": item.line_no},
                    f"{path}.hs_code",
                )
            elif len(hs) != 6 or (item.hs_code and item.hs_code.level != 6):
                self.add(
                    ERROR,
                    "data.hs_not_subheading",
                    _("Line %(line)s: %(code)s is not a 6-digit HS subheading.")
                    % {"line": item.line_no, "code": hs},
                    f"{path}.hs_code",
                )
            if item.quantity <= 0:
                self.add(
                    ERROR,
                    "data.quantity_zero",
                    _("Line %(line)s: the quantity must be greater than zero.") % {"line": item.line_no},
                    f"{path}.quantity",
                )
            if item.unit_price <= 0:
                self.add(
                    ERROR,
                    "data.value_zero",
                    _("Line %(line)s: the value must be greater than zero.") % {"line": item.line_no},
                    f"{path}.unit_price",
                )
            if item.gross_mass_kg < item.net_mass_kg:
                self.add(
                    ERROR,
                    "data.gross_below_net",
                    _("Line %(line)s: the gross mass is less than the net mass.") % {"line": item.line_no},
                    f"{path}.gross_mass_kg",
                )
            if item.net_mass_kg <= 0:
                self.add(
                    WARNING,
                    "data.net_mass_zero",
                    _("Line %(line)s: enter the net mass; declarations need it.") % {"line": item.line_no},
                    f"{path}.net_mass_kg",
                )

    def check_header(self) -> None:
        trade = self.trade
        incoterm, mode = trade.incoterm, trade.transport_mode
        if incoterm.code in SEA_ONLY_INCOTERMS and mode.code not in WATER_MODES:
            self.add(
                ERROR,
                "data.incoterm_mode",
                _("%(rule)s is for sea and inland waterway transport only.") % {"rule": incoterm.code},
                "incoterm",
            )
        function = mode.locode_function
        for name in ("place_of_loading", "place_of_discharge"):
            place = getattr(trade, name)
            if function and not place.has_function(function):
                self.add(
                    ERROR,
                    "data.place_not_for_mode",
                    _("%(name)s (%(code)s) is not listed in UN/LOCODE for this mode of transport.")
                    % {"name": place.name, "code": place.code},
                    name,
                )
        place = trade.incoterm_place
        if incoterm.code in SEA_ONLY_INCOTERMS and not place.is_port:
            self.add(
                ERROR,
                "data.incoterm_place_not_port",
                _("The named place of %(rule)s must be a port; %(name)s (%(code)s) is not one in UN/LOCODE.")
                % {"rule": incoterm.code, "name": place.name, "code": place.code},
                "incoterm_place",
            )
        expected = self.export_country if incoterm.code in ORIGIN_SIDE_INCOTERMS else self.destination
        if place.country != expected:
            self.add(
                WARNING,
                "data.incoterm_place_country",
                _("Under %(rule)s the named place is usually in %(country)s; %(name)s is in %(other)s.")
                % {"rule": incoterm.code, "country": expected, "name": place.name, "other": place.country},
                "incoterm_place",
            )
        if not trade.invoice_number:
            self.add(
                WARNING,
                "data.invoice_number_missing",
                _("Enter the invoice number: the invoice and the declarations need it."),
                "invoice_number",
            )
        if not trade.invoice_date:
            self.add(
                WARNING,
                "data.invoice_date_missing",
                _("Enter the invoice date: the invoice and the declarations need it."),
                "invoice_date",
            )
        if not trade.planned_departure:
            self.add(
                INFO,
                "data.departure_missing",
                _("No planned departure: the rules were checked for %(date)s.")
                % {"date": formats.date_format(self.on, "SHORT_DATE_FORMAT")},
                "planned_departure",
            )
        if trade.currency_id not in self.rates_known:
            self.add(
                WARNING,
                "data.currency_no_rate",
                _("No exchange rate is known for %(currency)s: amounts cannot be converted.")
                % {"currency": trade.currency_id},
                "currency",
            )

    def check_parties(self) -> None:
        trade = self.trade
        for role, party in (("seller", trade.seller), ("buyer", trade.buyer), ("consignee", trade.consignee)):
            if party is None:
                continue
            for name in ("street", "city"):
                if not getattr(party, name):
                    self.add(
                        WARNING,
                        "data.address_incomplete",
                        _("Enter the %(role)s's full address: documents need the street and city.")
                        % {"role": _role(role)},
                        f"{role}.{name}",
                    )
                    break
        if trade.consignee is None:
            self.add(
                INFO,
                "data.consignee_is_buyer",
                _("No consignee: the buyer will be named as consignee."),
                "consignee.name",
            )
        if self.members.is_member(self.destination, EU) and not self.same_territory:
            role = "seller" if trade.incoterm.import_clearance == "S" else "buyer"
            party = getattr(trade, role)
            if not (party.identifiers or {}).get("eori"):
                self.add(
                    WARNING,
                    "data.eori_missing",
                    _("The importer (%(role)s) needs an EORI number to clear goods into the EU.")
                    % {"role": _role(role)},
                    f"{role}.identifiers.eori",
                )

    @property
    def same_territory(self) -> bool:
        return self.members.same_customs_territory(self.export_country, self.destination)

    # -- the rules --------------------------------------------------------------------------------

    def check_rules(self) -> tuple[dict[int, Rule], dict[int, Rule], bool]:
        origin_keys = set(self.members.places(self.export_country))
        for item in self.items:
            origin_keys |= self.members.places(item.origin_country_id)
        rules = candidate_rules(origin_keys, self.members.places(self.destination), self.on)
        self.rules_considered = len(rules)
        by_prefix: dict[str, list[Rule]] = {}
        for rule in rules:
            if rule.direction == RuleDirection.IMPORT and self.same_territory:
                continue
            by_prefix.setdefault(rule.hs_prefix, []).append(rule)
        export_places = self.members.places(self.export_country)
        matches: dict[int, _Match] = {}
        for index, item in enumerate(self.items):
            hs = item.hs_code_id or ""
            item_places = self.members.places(item.origin_country_id)
            prefixes = dict.fromkeys(["", *(hs[:n] for n in (2, 4, 6) if len(hs) >= n)])
            for prefix in prefixes:
                for rule in by_prefix.get(prefix, ()):
                    places = export_places if rule.direction == RuleDirection.EXPORT else item_places
                    if rule.origin and rule.origin not in places:
                        continue
                    matches.setdefault(rule.pk, _Match(rule)).items.append((index, item))
        if not matches and self.items:
            self.add(
                INFO,
                "rules.none",
                _("No requirement rules are known for goods from %(origin)s to %(destination)s.")
                % {"origin": self.export_country, "destination": self.destination},
                "",
            )

        duty_rates = self._best(matches, RuleKind.DUTY)
        vat_rates = self._best(matches, RuleKind.VAT)
        thresholds = [m for m in matches.values() if m.rule.kind == RuleKind.DE_MINIMIS]
        relief = self._de_minimis(max(thresholds, key=lambda m: self._rank(m.rule))) if thresholds else False
        steps = None  # read when a rule asks for a document (the checklist says whether it is obtained)
        for match in matches.values():
            rule = match.rule
            kind = rule.kind
            if kind in (RuleKind.DUTY, RuleKind.VAT):
                if rule.direction == RuleDirection.EXPORT:  # an export tax: said, not in the landed cost
                    self._rule_finding(INFO, match)
                    continue
                chosen = duty_rates if kind == RuleKind.DUTY else vat_rates
                lines = [item for _i, item in match.items if chosen.get(item.pk) is rule]
                if lines:
                    self._rule_finding(INFO, match, lines_of=lines)
                continue
            if kind == RuleKind.DE_MINIMIS:
                continue  # the applicable threshold is reported above
            if kind == RuleKind.PROHIBITION:
                severity = ERROR
            elif kind == RuleKind.RESTRICTION:
                severity = WARNING
            else:  # documents, licences and permits: a warning until the checklist says they are obtained
                step = "certificate_of_origin" if rule.document_code in ORIGIN_DOCUMENT_CODES else "licences"
                if steps is None:
                    steps = _steps(self.trade)
                severity = INFO if steps.get(step) in DONE_STEP else WARNING
            self._rule_finding(severity, match)
        for index, item in enumerate(self.items):
            if not self.same_territory and item.pk not in duty_rates:
                self.add(
                    WARNING,
                    "cost.duty_unknown",
                    _("Line %(line)s: no duty rate is known for %(code)s into %(destination)s.")
                    % {"line": item.line_no, "code": item.hs_code_id, "destination": self.destination},
                    f"items[{index}].hs_code",
                    kind="cost",
                    lines=(item.line_no,),
                )
        return duty_rates, vat_rates, relief

    def _best(self, matches: dict[int, _Match], kind: str) -> dict[int, Rule]:
        """item pk -> the rule of that kind that wins for the item (see the module)."""
        best: dict[int, Rule] = {}
        for match in matches.values():
            if match.rule.kind != kind or match.rule.direction == RuleDirection.EXPORT:
                continue
            for _index, item in match.items:
                current = best.get(item.pk)
                if current is None or self._rank(match.rule) > self._rank(current):
                    best[item.pk] = match.rule
        return best

    def _rank(self, rule: Rule) -> tuple:
        return (
            _specificity(rule.origin, self.countries),
            len(rule.hs_prefix),
            _specificity(rule.destination, self.countries),
            rule.valid_from or dt.date.min,
            rule.pk,
        )

    def _responsible(self, rule: Rule) -> str:
        incoterm = self.trade.incoterm
        if rule.direction == RuleDirection.EXPORT:
            return "seller" if incoterm.export_clearance == "S" else "buyer"
        if rule.direction == RuleDirection.IMPORT:
            return "seller" if incoterm.import_clearance == "S" else "buyer"
        return ""

    def _rule_finding(self, severity: str, match: _Match, lines_of: list[GoodsItem] | None = None) -> None:
        rule = match.rule
        items = lines_of if lines_of is not None else [item for _i, item in match.items]
        first = next(index for index, item in match.items if item is items[0])
        title = rule.localized_title(self.language)
        if rule.kind in (RuleKind.DUTY, RuleKind.VAT):
            message = _("%(title)s: %(rate)s%%") % {"title": title, "rate": landed.percent(rule.rate)}
        else:
            message = title
        if rule.hs_prefix:
            path = f"items[{first}].hs_code"
        elif rule.origin:
            path = (
                "place_of_loading"
                if rule.direction == RuleDirection.EXPORT
                else f"items[{first}].origin_country"
            )
        else:
            path = ""
        self.add(
            severity,
            f"rule.{rule.kind}",
            message,
            path,
            rule_id=rule.pk,
            source_title=rule.source_title,
            source_url=rule.source_url,
            kind=rule.kind,
            detail=rule.localized_explanation(self.language),
            document_code=rule.document_code,
            lines=tuple(item.line_no for item in items),
            responsible=self._responsible(rule),
            rule_key=rule.key,
            sample=rule.is_sample,
        )

    def _de_minimis(self, match: _Match) -> bool:
        """Whether the consignment is under the threshold (duty relief); adds the findings."""
        rule = match.rule
        currency = self.trade.currency_id
        value = sum((item.line_amount for _i, item in match.items), Decimal(0))
        if rule.threshold_currency != currency:
            try:
                conversion = self.convert(value, currency, rule.threshold_currency)
            except NoExchangeRate:
                self._rule_finding(INFO, match)
                return False
            self.add(
                INFO,
                "currency.converted",
                _(
                    "The %(currency)s value is compared with the threshold of %(threshold)s"
                    " %(threshold_currency)s: %(amount)s %(threshold_currency)s"
                    " at %(rate)s (rate of %(date)s)."
                )
                % {
                    "currency": currency,
                    "threshold": landed.amount(rule.threshold_amount),
                    "threshold_currency": rule.threshold_currency,
                    "amount": landed.amount(conversion.amount),
                    "rate": formats.number_format(conversion.rate),
                    "date": formats.date_format(conversion.rate_date, "SHORT_DATE_FORMAT"),
                },
                "currency",
                kind="cost",
                source_title=conversion.source,
            )
            value = conversion.amount
        under = value <= rule.threshold_amount
        self._rule_finding(INFO, match)
        return under

    # -- the landed cost --------------------------------------------------------------------------

    def landed_cost(
        self, duty_rates: dict[int, Rule], vat_rates: dict[int, Rule], relief: bool
    ) -> LandedCost | None:
        if not self.items:
            return None
        trade = self.trade
        incoterm = trade.incoterm
        lines = [
            landed.CostLine(
                line_no=item.line_no,
                description=item.description,
                hs_code=item.hs_code_id,
                amount=item.line_amount,
                duty_rate=None if self.same_territory else _rate(duty_rates.get(item.pk)),
                vat_rate=_rate(vat_rates.get(item.pk)),
            )
            for item in self.items
        ]
        if self.same_territory:
            lines = [replace(line, duty_rate=Decimal(0), vat_rate=Decimal(0)) for line in lines]
        cost = landed.estimate(
            lines,
            currency=trade.currency_id,
            terms=Terms(incoterm.code, incoterm.main_carriage, incoterm.insurance, incoterm.import_clearance),
            mode=trade.transport_mode.code,
            mode_name=_mode_name(trade.transport_mode, self.language),
            duty_relief=relief,
        )
        assumptions = list(cost.assumptions)
        if self.same_territory:
            assumptions.insert(
                0,
                landed.Assumption(
                    "same_territory",
                    _("%(origin)s and %(destination)s are one customs territory: no duty or import VAT.")
                    % {"origin": self.export_country, "destination": self.destination},
                ),
            )
            cost = replace(cost, assumptions=tuple(assumptions))
        target = currency_of(self.destination)
        if not target:
            return cost
        conversion = None
        total = None
        try:
            conversion = self.convert(cost.total, trade.currency_id, target)
            total = conversion.amount
            if target != trade.currency_id:
                assumptions.append(
                    landed.Assumption(
                        "conversion",
                        _("Converted at %(rate)s %(to)s per %(from)s, rate of %(date)s (%(source)s).")
                        % {
                            "rate": formats.number_format(conversion.rate),
                            "to": target,
                            "from": trade.currency_id,
                            "date": formats.date_format(conversion.rate_date, "SHORT_DATE_FORMAT"),
                            "source": conversion.source,
                        },
                    )
                )
        except NoExchangeRate as exc:
            assumptions.append(
                landed.Assumption(
                    "conversion",
                    _("No exchange rate is known for %(currency)s: no figure in %(target)s.")
                    % {"currency": exc.currency, "target": target},
                )
            )
        return replace(
            cost,
            assumptions=tuple(assumptions),
            destination_currency=target,
            destination_total=total,
            conversion=conversion,
        )


def _rate(rule: Rule | None) -> Decimal | None:
    return None if rule is None else rule.rate


def _role(role: str) -> str:
    return {"seller": _("seller"), "buyer": _("buyer"), "consignee": _("consignee")}[role]


def _mode_name(mode, language: str) -> str:
    return (mode.name_fr if language == "fr" and mode.name_fr else mode.name).lower()
