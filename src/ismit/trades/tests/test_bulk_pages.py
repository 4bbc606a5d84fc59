"""Bulk import pages: upload, match the columns (saved for next time), result or table of errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ismit.accounts.actors import actor_for
from ismit.audit.models import AuditEvent
from ismit.trades import bulk
from ismit.trades.models import ColumnMapping, Trade

FILES = Path(__file__).parent / "files"
ENGLISH = json.loads((FILES / "english_mapping.json").read_text())
FRENCH = json.loads((FILES / "french_mapping.json").read_text())

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes())


def signed_in(client, user):
    client.force_login(user)
    return client


def stage(client, name: str) -> str:
    """Upload without a saved mapping: the answer sends to the column page of the staged file."""
    response = client.post(reverse("trades:bulk_upload"), {"file": upload(name), "mapping": ""})
    assert response.status_code == 302
    return response["Location"]


def mapping_form(mapping: dict, **extra) -> dict:
    data = {k: v for k, v in mapping.items() if k != "_options"}
    options = mapping.get("_options") or {}
    if options.get("date_format"):
        data["date_format"] = options["date_format"]
    if options.get("decimal_comma"):
        data["decimal_comma"] = "on"
    return {**data, **extra}


def test_the_upload_page_offers_the_saved_mappings_and_the_template(client, cast):
    bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="Our ERP export", mapping=ENGLISH
    )

    response = signed_in(client, cast.exporter).get(reverse("trades:bulk_upload"))

    assert response.status_code == 200
    assert "Our ERP export" in response.text
    assert reverse("trades:bulk_template") in response.text


def test_the_template_csv_has_our_field_names_as_headers(client, cast):
    response = signed_in(client, cast.exporter).get(reverse("trades:bulk_template"))

    assert response["Content-Type"].startswith("text/csv")
    headers = response.content.decode().strip().split(",")
    assert headers[:3] == ["reference", "direction", "seller.name"]
    assert {"hs_code", "gross_mass_kg", "incoterm_place"} <= set(headers)


def test_a_new_file_is_matched_column_by_column_saved_and_imported(client, cast, media):
    signed_in(client, cast.exporter)
    location = stage(client, "french_trades.csv")
    assert list(media.glob(f"imports/{cast.msme.id}/*.upload"))

    page = client.get(location)
    assert page.status_code == 200
    assert "Désignation" in page.text and "Poids brut" in page.text  # their headers
    assert 'name="hs_code"' in page.text  # our fields

    response = client.post(location, mapping_form(FRENCH, save="on", name="Fichier export"))

    assert response.status_code == 200, response.text
    assert "CMD-2026-17" in response.text
    trade = Trade.objects.get(organisation=cast.msme, reference="CMD-2026-17")
    assert reverse("trades:detail", args=[trade.pk]) in response.text
    assert trade.items.count() == 2
    saved = ColumnMapping.objects.get(organisation=cast.msme, name="Fichier export")
    assert saved.mapping["gross_mass_kg"] == "Poids brut"
    assert saved.mapping["_options"] == {"date_format": "%d/%m/%Y", "decimal_comma": True}
    assert not list(media.glob(f"imports/{cast.msme.id}/*.upload"))  # the staged file is gone


def test_the_column_page_is_prefilled_from_a_chosen_saved_mapping(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="Fichier export", mapping=FRENCH
    )
    signed_in(client, cast.exporter)
    location = stage(client, "french_trades.csv")

    page = client.get(f"{location}?mapping={saved.pk}")

    assert re.search(r'<option value="Poids brut" selected>', page.text)
    assert re.search(r'<option value="%d/%m/%Y" selected>', page.text)


def test_the_next_file_is_imported_at_once_with_the_saved_mapping(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="Fichier export", mapping=FRENCH
    )

    response = signed_in(client, cast.exporter).post(
        reverse("trades:bulk_upload"), {"file": upload("french_trades.csv"), "mapping": saved.pk}
    )

    assert response.status_code == 200
    assert Trade.objects.filter(organisation=cast.msme, reference="CMD-2026-17").exists()


def test_a_bad_file_shows_the_table_of_errors_and_saves_nothing(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="ERP", mapping=ENGLISH
    )
    events = AuditEvent.objects.count()

    response = signed_in(client, cast.exporter).post(
        reverse("trades:bulk_upload"), {"file": upload("bad_trades.csv"), "mapping": saved.pk}
    )

    assert response.status_code == 422
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', response.text)
    assert rows == [
        ("4", "HS", "123456"),
        ("5", "Incoterm place", "FRXXX"),
        ("5", "Port of discharge", "FRXXX"),
        ("6", "Gross kg", "1900"),
    ]
    assert "Gross mass cannot be less than net mass." in response.text
    assert not Trade.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_errors_are_in_the_users_language(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="ERP", mapping=ENGLISH
    )

    response = signed_in(client, cast.exporter).post(
        reverse("trades:bulk_upload"),
        {"file": upload("bad_trades.csv"), "mapping": saved.pk},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 422
    assert 'lang="fr"' in response.text


def test_an_unmapped_required_column_is_shown_on_the_column_page(client, cast):
    signed_in(client, cast.exporter)
    location = stage(client, "good_trades.csv")
    data = mapping_form(ENGLISH)
    del data["currency"]

    response = client.post(location, data)

    assert response.status_code == 422
    assert "Choose the column that holds" in response.text
    assert 'name="currency"' in response.text
    assert not Trade.objects.exists()


def test_an_unreadable_file_is_refused_at_upload(client, cast):
    response = signed_in(client, cast.exporter).post(
        reverse("trades:bulk_upload"),
        {"file": SimpleUploadedFile("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")},
    )

    assert response.status_code == 422
    assert "save the file as XLSX or CSV" in response.text


def test_a_file_over_the_row_limit_is_refused_at_upload(client, cast, settings):
    settings.BULK_IMPORT_MAX_ROWS = 2

    response = signed_in(client, cast.exporter).post(
        reverse("trades:bulk_upload"), {"file": upload("good_trades.csv")}
    )

    assert response.status_code == 422
    assert "more than 2 rows" in response.text


def test_another_organisations_mapping_is_not_found(client, cast):
    theirs = bulk.save_mapping(
        actor=actor_for(cast.other), organisation=cast.other_msme, name="Roses", mapping=ENGLISH
    )
    signed_in(client, cast.exporter)

    assert (
        client.post(
            reverse("trades:bulk_upload"), {"file": upload("good_trades.csv"), "mapping": theirs.pk}
        ).status_code
        == 404
    )
    assert client.get(f"{stage(client, 'good_trades.csv')}?mapping={theirs.pk}").status_code == 404
    assert client.post(reverse("trades:bulk_mapping_delete", args=[theirs.pk])).status_code == 404
    assert "Roses" not in client.get(reverse("trades:bulk_mappings")).text
    assert not Trade.objects.exists() and ColumnMapping.objects.filter(pk=theirs.pk).exists()


def test_another_organisations_staged_file_is_not_found(client, cast):
    location = stage(signed_in(client, cast.exporter), "good_trades.csv")

    assert signed_in(client, cast.other).get(location).status_code == 404
    assert signed_in(client, cast.exporter).get(location).status_code == 200


def test_a_read_only_member_cannot_import(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="ERP", mapping=ENGLISH
    )
    signed_in(client, cast.viewer)

    assert client.get(reverse("trades:bulk_upload")).status_code == 403
    assert (
        client.post(
            reverse("trades:bulk_upload"), {"file": upload("good_trades.csv"), "mapping": saved.pk}
        ).status_code
        == 403
    )
    assert client.post(reverse("trades:bulk_mapping_delete", args=[saved.pk])).status_code == 403
    assert not Trade.objects.exists() and ColumnMapping.objects.filter(pk=saved.pk).exists()


def test_saved_mappings_are_listed_and_deleted(client, cast):
    saved = bulk.save_mapping(
        actor=actor_for(cast.exporter), organisation=cast.msme, name="ERP", mapping=ENGLISH
    )
    signed_in(client, cast.exporter)
    assert "ERP" in client.get(reverse("trades:bulk_mappings")).text

    response = client.post(reverse("trades:bulk_mapping_delete", args=[saved.pk]))

    assert response.status_code == 302
    assert not ColumnMapping.objects.filter(pk=saved.pk).exists()
    assert AuditEvent.objects.filter(action="trade.mapping_deleted").exists()


def test_stale_staged_uploads_are_purged(client, cast, media):
    import datetime as dt

    stage(signed_in(client, cast.exporter), "good_trades.csv")

    assert bulk.purge_staged_uploads(older_than=dt.timedelta(hours=1)) == 0
    assert bulk.purge_staged_uploads(older_than=dt.timedelta(seconds=-1)) == 1
    assert not default_storage.listdir(f"imports/{cast.msme.id}")[1]
