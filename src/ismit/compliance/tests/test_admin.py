"""Operators maintain the rules in the admin: search and filters, YAML import and export, audited edits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ismit.audit.models import AuditEvent
from ismit.compliance.models import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, django_user_model, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    operator = django_user_model.objects.create_superuser(email="ops@ismit.test", password="operator-2024")
    client.force_login(operator)
    return client


def test_rules_can_be_searched_and_filtered(operator_client, starter_rules):
    found = operator_client.get(reverse("admin:compliance_rule_changelist"), {"q": "phytosanitary"})
    vat = operator_client.get(reverse("admin:compliance_rule_changelist"), {"kind__exact": "vat"})

    assert found.status_code == 200 and b"eu-cut-flowers-phytosanitary" in found.content
    assert b"de-vat-standard" in vat.content and b"eu-raw-ivory-prohibition" not in vat.content


def test_an_operator_imports_and_exports_yaml_in_the_admin(operator_client):
    text = """
rules:
- key: test-rule
  kind: vat
  direction: import
  destination: FR
  rate: 20
  title: Standard rate
  source_title: A source
  source_url: https://example.org/law
"""
    response = operator_client.post(reverse("admin:compliance_rule_import"), {"text": text})

    assert response.status_code == 302
    assert Rule.objects.get(key="test-rule").rate == 20
    exported = operator_client.get(reverse("admin:compliance_rule_export"))
    assert exported["Content-Disposition"].startswith("attachment")
    assert b"key: test-rule" in exported.content
    bad = operator_client.post(reverse("admin:compliance_rule_import"), {"text": text.replace("20", "x")})
    assert bad.status_code == 200 and "Enter a number." in bad.content.decode()


def test_an_edit_in_the_admin_is_validated_and_audited(operator_client, starter_rules):
    rule = Rule.objects.get(key="de-vat-standard")
    url = reverse("admin:compliance_rule_change", args=[rule.pk])
    form = {
        "key": rule.key,
        "kind": rule.kind,
        "direction": rule.direction,
        "origin": "",
        "destination": "DE",
        "hs_prefix": "",
        "rate": "19.5",
        "title": rule.title,
        "title_fr": rule.title_fr,
        "explanation": rule.explanation,
        "explanation_fr": rule.explanation_fr,
        "source_title": rule.source_title,
        "source_url": rule.source_url,
        "is_sample": "on",
    }

    invalid = operator_client.post(url, {**form, "destination": "ZZ"})
    saved = operator_client.post(url, form)

    assert invalid.status_code == 200 and "ZZ is neither" in invalid.content.decode()
    assert saved.status_code == 302
    event = AuditEvent.objects.filter(action="compliance.rule_changed").latest("id")
    assert event.object_id == str(rule.pk) and event.changes == {"rate": "19.5"}
