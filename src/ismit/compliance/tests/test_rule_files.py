"""Rules in and out of YAML: the starter set, round trips, clear errors and all-or-nothing imports."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from ismit.audit.models import AuditEvent
from ismit.compliance.models import CountryGroup, GroupMembership, Rule
from ismit.compliance.services import STARTER_RULES, export_rules, import_rules
from ismit.lib.errors import error_dict

pytestmark = pytest.mark.django_db

RULE_FIELDS = [f.name for f in Rule._meta.fields if f.name not in ("id", "created_at", "updated_at")]


def snapshot() -> tuple:
    rules = {r.key: model_to_dict(r, fields=RULE_FIELDS) for r in Rule.objects.all()}
    groups = {g.code: model_to_dict(g) for g in CountryGroup.objects.all()}
    members = sorted(GroupMembership.objects.values_list("group_id", "country_id", "valid_from", "valid_to"))
    return rules, groups, members


def test_every_starter_rule_is_sample_data_citing_a_legal_source():
    document = yaml.safe_load(STARTER_RULES.read_text(encoding="utf-8"))
    rules = document["rules"]

    assert len(rules) >= 20
    assert all(rule["is_sample"] is True for rule in rules)
    assert all(rule["source_title"] and rule["source_url"].startswith("https://") for rule in rules)
    assert all(rule.get("title_fr") for rule in rules)
    assert "SAMPLE DATA" in document["notice"]
    assert {"document", "licence", "prohibition", "restriction", "duty", "vat", "de_minimis"} == {
        rule["kind"] for rule in rules
    }


def test_load_starter_is_its_own_command_and_is_idempotent():
    out = io.StringIO()
    call_command("compliance", "load-starter", stdout=out)
    first = snapshot()
    call_command("compliance", "load-starter", stdout=out)

    assert "25 created" in out.getvalue() and "25 unchanged" in out.getvalue()
    assert snapshot() == first
    assert Rule.objects.filter(is_sample=False).count() == 0


def test_export_then_import_gives_the_same_rules(starter_rules):
    before = snapshot()
    exported = export_rules()
    Rule.objects.all().delete()
    GroupMembership.objects.all().delete()
    CountryGroup.objects.all().delete()

    report = import_rules(exported, actor=None)

    assert len(report.created) == len(before[0]) and report.groups_created == ["EAC", "ECOWAS", "EU"]
    assert snapshot() == before
    assert export_rules().split("\n", 1)[1] == exported.split("\n", 1)[1]  # same text, but the header's time


def test_an_import_updates_by_key_and_is_audited(starter_rules, cast):
    changed = export_rules().replace("rate: 5.5", "rate: 7.0", 1)

    report = import_rules(changed, actor=cast.operator, source="edited.yaml")

    assert report.updated == ["fr-vat-cocoa-beans"]
    assert Rule.objects.get(key="fr-vat-cocoa-beans").rate == Decimal("7.000")
    event = AuditEvent.objects.filter(action="compliance.rules_imported").latest("id")
    assert event.actor_id == cast.operator.pk
    assert event.changes["updated"] == ["fr-vat-cocoa-beans"] and event.changes["source"] == "edited.yaml"


BAD = """
groups:
- code: EU
  name: European Union
  members:
  - {country: FR, from: 1958-01-01}
  - {country: XX, from: 2030-01-01}
rules:
- key: fine-rule
  kind: vat
  direction: import
  destination: FR
  rate: 5.5
  title: A valid rule
  source_title: Somewhere
  source_url: https://example.org/law
- key: bad-rule
  kind: duty
  direction: inbound
  origin: ZZ
  destination: EU
  hs_prefix: '0899'
  rate: lots
  document_code: '861'
  title: ''
  source_title: A source
  source_url: ftp://example.org
  colour: red
"""


def test_a_bad_file_names_each_rule_and_field_and_changes_nothing(starter_rules):
    before = snapshot()
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as raised:
        import_rules(BAD, actor=None)

    errors = error_dict(raised.value)
    assert set(errors) == {
        "groups[0].members[1].country",
        "rules[1].direction",
        "rules[1].origin",
        "rules[1].hs_prefix",
        "rules[1].rate",
        "rules[1].document_code",
        "rules[1].title",
        "rules[1].source_url",
        "rules[1].colour",
    }
    assert errors["rules[1].rate"] == ["rule “bad-rule”: Enter a number."]
    assert errors["rules[1].origin"] == [
        "rule “bad-rule”: ZZ is neither an ISO 3166 country code nor a country group."
    ]
    assert errors["rules[1].hs_prefix"] == ["rule “bad-rule”: 0899 is not in the Harmonized System."]
    assert snapshot() == before
    assert AuditEvent.objects.count() == events
    assert not Rule.objects.filter(key="fine-rule").exists()


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("rules: [\n  - key: a\n    kind: [", "yaml", "line"),
        ("- just\n- a list\n", "yaml", "mapping"),
        (
            "rules:\n- key: a\n  kind: duty\n  direction: import\n  hs_prefix: 0603\n",
            "rules[0].hs_prefix",
            "quotes",
        ),
        ("rules:\n- key: Not A Slug\n", "rules[0].key", "lower-case"),
        ("rules:\n- {key: a, kind: duty}\n- {key: a, kind: duty}\n", "rules[1].key", "twice"),
        ("format: other/2\n", "format", "ismit-compliance-rules/1"),
    ],
)
def test_malformed_files_get_a_clear_error(text, field, fragment):
    with pytest.raises(ValidationError) as raised:
        import_rules(text, actor=None)

    errors = error_dict(raised.value)
    assert field in errors and fragment in " ".join(errors[field])


def test_the_command_imports_and_exports_files(tmp_path, starter_rules):
    out = tmp_path / "rules.yaml"
    call_command("compliance", "export-rules", "--out", str(out), stderr=io.StringIO())
    text = out.read_text(encoding="utf-8")
    (tmp_path / "edited.yaml").write_text(text.replace("rate: 19.0", "rate: 19.5"), encoding="utf-8")
    printed = io.StringIO()

    call_command("compliance", "import-rules", str(tmp_path / "edited.yaml"), stdout=printed)

    assert "1 updated" in printed.getvalue()
    assert Rule.objects.get(key="de-vat-standard").rate == Decimal("19.5")
    stdout = io.StringIO()
    call_command("compliance", "export-rules", stdout=stdout)
    assert "key: de-vat-standard" in stdout.getvalue()


def test_the_command_reports_every_error_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")

    with pytest.raises(CommandError, match=r"nothing was imported:[\s\S]*rules\[1\]\.rate: rule “bad-rule”"):
        call_command("compliance", "import-rules", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("compliance", "import-rules", str(tmp_path / "absent.yaml"))
