"""Writes of the compliance app: the rule base in and out of YAML, and the audit of a check.

A rule file holds country groups (with their members and membership dates) and rules:

    format: ismit-compliance-rules/1
    groups:
    - code: EU
      name: European Union
      name_fr: Union européenne
      customs_union: true
      members:
      - {country: FR, from: 1958-01-01}
      - {country: GB, from: 1973-01-01, to: 2020-01-31}
    rules:
    - key: ke-eu-cut-flowers-phytosanitary
      kind: document
      direction: import
      origin: KE
      destination: EU
      hs_prefix: '0603'
      document_code: '851'
      title: Phytosanitary certificate
      source_title: Regulation (EU) 2016/2031, Article 71
      source_url: https://eur-lex.europa.eu/eli/reg/2016/2031/oj
      is_sample: true

Importing upserts groups by code (their member list is replaced) and rules by key; rules and groups
absent from the file are kept. Every field is checked first; one error anywhere and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ismit.audit.services import record_event
from ismit.compliance.models import GROUP_CODE, CountryGroup, GroupMembership, Rule
from ismit.compliance.validation import KnownCodes, rule_errors
from ismit.lib.errors import FieldErrors
from ismit.refdata.models import Country

FORMAT = "ismit-compliance-rules/1"
STARTER_RULES = Path(__file__).resolve().parent / "data" / "starter_rules.yaml"

# The fields of a rule in a YAML file, in the order they are written.
RULE_FIELDS = (
    "key",
    "kind",
    "direction",
    "origin",
    "destination",
    "hs_prefix",
    "valid_from",
    "valid_to",
    "document_code",
    "rate",
    "threshold_amount",
    "threshold_currency",
    "title",
    "title_fr",
    "explanation",
    "explanation_fr",
    "source_title",
    "source_url",
    "is_sample",
)
TEXT_FIELDS = (
    "key",
    "kind",
    "direction",
    "origin",
    "destination",
    "document_code",
    "threshold_currency",
    "title",
    "title_fr",
    "explanation",
    "explanation_fr",
    "source_title",
    "source_url",
)
UPPER_FIELDS = ("origin", "destination", "threshold_currency")
DATE_FIELDS = ("valid_from", "valid_to")
DECIMAL_FIELDS = ("rate", "threshold_amount")
GROUP_FIELDS = ("code", "name", "name_fr", "customs_union", "members")
MEMBER_FIELDS = ("country", "from", "to")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # rule keys
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)
    groups_updated: list[str] = field(default_factory=list)

    @property
    def rules(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        return (
            f"rules: {len(self.created)} created, {len(self.updated)} updated,"
            f" {len(self.unchanged)} unchanged; groups: {len(self.groups_created)} created,"
            f" {len(self.groups_updated)} updated"
        )


# -- reading values ---------------------------------------------------------------------------------


class _Bad(ValueError):
    pass


def _text(value: Any, *, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | float):
        raise _Bad(_("Write this value as text."))
    if isinstance(value, int):
        if name == "hs_prefix":
            raise _Bad(_("Write the HS prefix as text in quotes, e.g. '0801'."))
        return str(value)
    if not isinstance(value, str):
        raise _Bad(_("Write this value as text."))
    return value.strip()


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _Bad(_("Enter a date as YYYY-MM-DD."))


def _decimal(value: Any, places: int) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Bad(_("Enter a number."))
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise _Bad(_("Enter a number."))
    if not number.is_finite():
        raise _Bad(_("Enter a number."))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise _Bad(_("Use at most %(places)s decimal places.") % {"places": places})
    return number


def _bool(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Bad(_("Enter true or false."))
    return value


def _hs(value: str) -> str:
    return value.replace(".", "").replace(" ", "")


def _max_length(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


# -- parsing a file ---------------------------------------------------------------------------------


def _load_yaml(yaml_text: str) -> dict:
    try:
        document = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(
            {
                "yaml": [
                    _("This is not valid YAML%(where)s: %(problem)s") % {"where": where, "problem": problem}
                ]
            }
        )
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ValidationError({"yaml": [_("The file must be a mapping with “groups” and “rules”.")]})
    return document


def _unknown(entry: dict, allowed: tuple[str, ...], path: str, label: str, errors: FieldErrors) -> None:
    for name in entry:
        if name not in allowed:
            errors.add(
                f"{path}.{name}", _("%(label)s: unknown field “%(field)s”.") % {"label": label, "field": name}
            )


def _parse_groups(raw: Any, errors: FieldErrors) -> list[tuple[dict, list[dict]]]:
    """[(group fields, [member fields])] from the "groups" list."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add("groups", _("“groups” must be a list."))
        return []
    parsed = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"groups[{index}]"
        if not isinstance(entry, dict):
            errors.add(path, _("Each group must be a mapping."))
            continue
        code = str(entry.get("code") or "").strip().upper()
        label = _("group “%(code)s”") % {"code": code or index}
        _unknown(entry, GROUP_FIELDS, path, label, errors)
        if not GROUP_CODE.match(code):
            errors.add(
                f"{path}.code", _("%(label)s: use 2 to 12 capital letters or digits.") % {"label": label}
            )
        elif code in seen:
            errors.add(f"{path}.code", _("%(label)s: this code appears twice.") % {"label": label})
        seen.add(code)
        group = {"code": code}
        for name in ("name", "name_fr"):
            try:
                group[name] = _text(entry.get(name), name=name)
            except _Bad as exc:
                errors.add(f"{path}.{name}", f"{label}: {exc}")
                continue
            limit = _max_length(CountryGroup, name)
            if limit and len(group[name]) > limit:
                errors.add(
                    f"{path}.{name}",
                    _("%(label)s: use at most %(max)s characters.") % {"label": label, "max": limit},
                )
        if not group.get("name"):
            errors.add(f"{path}.name", _("%(label)s: give the group a name.") % {"label": label})
        try:
            group["customs_union"] = _bool(entry.get("customs_union"))
        except _Bad as exc:
            errors.add(f"{path}.customs_union", f"{label}: {exc}")
        members = []
        raw_members = entry.get("members") or []
        if not isinstance(raw_members, list):
            errors.add(f"{path}.members", _("%(label)s: “members” must be a list.") % {"label": label})
            raw_members = []
        for position, member in enumerate(raw_members):
            member_path = f"{path}.members[{position}]"
            if not isinstance(member, dict):
                errors.add(member_path, _("%(label)s: each member must be a mapping.") % {"label": label})
                continue
            _unknown(member, MEMBER_FIELDS, member_path, label, errors)
            try:
                values = {
                    "country": _text(member.get("country"), name="country").upper(),
                    "valid_from": _date(member.get("from")),
                    "valid_to": _date(member.get("to")),
                }
            except _Bad as exc:
                errors.add(member_path, f"{label}: {exc}")
                continue
            if values["valid_from"] is None:
                errors.add(
                    f"{member_path}.from",
                    _("%(label)s: give the date the country joined.") % {"label": label},
                )
            elif values["valid_to"] and values["valid_to"] < values["valid_from"]:
                errors.add(
                    f"{member_path}.to",
                    _("%(label)s: the last day cannot come before the first.") % {"label": label},
                )
            members.append({**values, "_path": member_path})
        parsed.append((group, members))
    known = set(
        Country.objects.filter(code__in={m["country"] for _g, ms in parsed for m in ms}).values_list(
            "code", flat=True
        )
    )
    for group, members in parsed:
        for member in members:
            if member["country"] not in known:
                errors.add(
                    f"{member['_path']}.country",
                    _("group “%(group)s”: %(code)s is not an ISO 3166 country code.")
                    % {"group": group["code"], "code": member["country"]},
                )
    return parsed


def _parse_rules(raw: Any, errors: FieldErrors) -> list[tuple[str, dict]]:
    """[(path, field values)] from the "rules" list, values typed as the model stores them."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add("rules", _("“rules” must be a list."))
        return []
    parsed = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"rules[{index}]"
        if not isinstance(entry, dict):
            errors.add(path, _("Each rule must be a mapping."))
            continue
        key = str(entry.get("key") or "").strip()
        label = _("rule “%(key)s”") % {"key": key or index}
        _unknown(entry, RULE_FIELDS, path, label, errors)
        if key and key in seen:
            errors.add(f"{path}.key", _("%(label)s: this key appears twice.") % {"label": label})
        seen.add(key)
        values: dict[str, Any] = {}
        for name in RULE_FIELDS:
            try:
                if name in DATE_FIELDS:
                    values[name] = _date(entry.get(name))
                elif name in DECIMAL_FIELDS:
                    values[name] = _decimal(entry.get(name), Rule._meta.get_field(name).decimal_places)
                elif name == "is_sample":
                    values[name] = _bool(entry.get(name))
                elif name == "hs_prefix":
                    values[name] = _hs(_text(entry.get(name), name=name))
                else:
                    values[name] = _text(entry.get(name), name=name)
                    if name in UPPER_FIELDS:
                        values[name] = values[name].upper()
            except _Bad as exc:
                errors.add(f"{path}.{name}", f"{label}: {exc}")
                continue
            limit = _max_length(Rule, name) if name in TEXT_FIELDS or name == "hs_prefix" else None
            if limit and name not in ("explanation", "explanation_fr") and len(values[name]) > limit:
                errors.add(
                    f"{path}.{name}",
                    _("%(label)s: use at most %(max)s characters.") % {"label": label, "max": limit},
                )
        parsed.append((path, values))
    return parsed


def parse_rule_file(yaml_text: str) -> tuple[list[tuple[dict, list[dict]]], list[tuple[str, dict]]]:
    """Groups and rules of a rule file, every field checked; ValidationError lists every problem."""
    document = _load_yaml(yaml_text)
    errors = FieldErrors()
    for name in document:
        if name not in ("format", "title", "notice", "groups", "rules"):
            errors.add(name, _("Unknown section “%(name)s”.") % {"name": name})
    if document.get("format", FORMAT) != FORMAT:
        errors.add("format", _("Expected format %(format)s.") % {"format": FORMAT})
    groups = _parse_groups(document.get("groups"), errors)
    rules = _parse_rules(document.get("rules"), errors)
    known = KnownCodes.for_rules(
        [Rule(**values) for _path, values in rules], extra_groups={g["code"] for g, _m in groups}
    )
    for path, values in rules:
        label = _("rule “%(key)s”") % {"key": values.get("key") or path}
        for name, messages in rule_errors(Rule(**values), known).items():
            if f"{path}.{name}" in errors.errors:
                continue  # the value could not be read: that message says it already
            for message in messages:
                errors.add(f"{path}.{name}", f"{label}: {message}")
    errors.raise_if_any()
    return groups, rules


# -- import -----------------------------------------------------------------------------------------


def _same(obj: models.Model, values: dict) -> bool:
    return all(getattr(obj, name) == value for name, value in values.items())


@transaction.atomic
def import_rules(yaml_text: str, *, actor: Any | None, source: str = "") -> ImportReport:
    """Upsert the groups and rules of a rule file; all or nothing. `actor` None: the system."""
    groups, rules = parse_rule_file(yaml_text)
    report = ImportReport()
    now = timezone.now()

    existing_groups = CountryGroup.objects.in_bulk([g["code"] for g, _m in groups])
    for group, members in groups:
        current = existing_groups.get(group["code"])
        wanted = sorted((m["country"], m["valid_from"], m["valid_to"]) for m in members)
        if current is None:
            CountryGroup.objects.create(**group)
            report.groups_created.append(group["code"])
        else:
            had = sorted(current.memberships.values_list("country_id", "valid_from", "valid_to"))
            if _same(current, group) and had == wanted:
                continue
            for name, value in group.items():
                setattr(current, name, value)
            current.save()
            current.memberships.all().delete()
            report.groups_updated.append(group["code"])
        GroupMembership.objects.bulk_create(
            GroupMembership(group_id=group["code"], country_id=c, valid_from=f, valid_to=t)
            for c, f, t in wanted
        )

    existing = Rule.objects.in_bulk([values["key"] for _path, values in rules], field_name="key")
    new, changed = [], []
    for _path, values in rules:
        rule = existing.get(values["key"])
        if rule is None:
            new.append(Rule(**values, created_at=now, updated_at=now))
            report.created.append(values["key"])
        elif _same(rule, values):
            report.unchanged.append(values["key"])
        else:
            for name, value in values.items():
                setattr(rule, name, value)
            rule.updated_at = now
            changed.append(rule)
            report.updated.append(values["key"])
    Rule.objects.bulk_create(new, batch_size=500)
    Rule.objects.bulk_update(changed, [*RULE_FIELDS, "updated_at"], batch_size=500)

    record_event(
        actor=actor,
        organisation_id=None,
        action="compliance.rules_imported",
        object_type="compliance.rule",
        changes={
            "source": source,
            "created": report.created,
            "updated": report.updated,
            "unchanged": len(report.unchanged),
            "groups_created": report.groups_created,
            "groups_updated": report.groups_updated,
        },
    )
    return report


def load_starter_rules(*, actor: Any | None = None) -> ImportReport:
    """The sample rule set shipped with the product (compliance/data/starter_rules.yaml)."""
    return import_rules(STARTER_RULES.read_text(encoding="utf-8"), actor=actor, source=STARTER_RULES.name)


# -- export -----------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value.normalize(), "f")
    return dumper.represent_scalar("tag:yaml.org,2002:float", text if "." in text else f"{text}.0")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Codes made of digits ("080131", "861") are quoted: YAML 1.2 readers would take them for numbers.
    style = "|" if "\n" in value else "'" if value.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Inline(dict):
    """A mapping written on one line (group members)."""


def _represent_inline(dumper: yaml.SafeDumper, value: _Inline) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Inline, _represent_inline)


def _rule_entry(rule: Rule) -> dict:
    entry = {}
    for name in RULE_FIELDS:
        value = getattr(rule, name)
        if name == "is_sample" or value not in (None, ""):
            entry[name] = value
    return entry


def export_rules(rules: models.QuerySet[Rule] | None = None) -> str:
    """Every group and rule (or the rules given) as a file import_rules reads back to the same rows."""
    groups = []
    for group in CountryGroup.objects.prefetch_related("memberships").order_by("code"):
        members = []
        for m in sorted(group.memberships.all(), key=lambda m: (m.country_id, m.valid_from)):
            member = _Inline(country=m.country_id, **{"from": m.valid_from})
            if m.valid_to:
                member["to"] = m.valid_to
            members.append(member)
        entry = {"code": group.code, "name": group.name}
        if group.name_fr:
            entry["name_fr"] = group.name_fr
        entry["customs_union"] = group.customs_union
        entry["members"] = members
        groups.append(entry)
    document = {
        "format": FORMAT,
        "groups": groups,
        "rules": [
            _rule_entry(rule) for rule in (Rule.objects.all() if rules is None else rules).order_by("key")
        ],
    }
    header = f"# ISMIT compliance rules, exported {timezone.now():%Y-%m-%d %H:%M} UTC\n"
    return header + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False
    )


# -- the audit of a check ---------------------------------------------------------------------------


def record_check(*, actor: Any, trade: Any, result: Any, via: str) -> None:
    """Note in the audit log that someone ran the check on a trade (from the page or the API)."""
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    record_event(
        actor=actor,
        organisation_id=trade.organisation_id,
        action="compliance.checked",
        obj=trade,
        changes={"reference": trade.reference, "via": via, "on": result.checked_on, "findings": counts},
    )
