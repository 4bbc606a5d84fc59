"""Pages of the trades app. Bulk import appends its own URLs below (trades/bulk*.py)."""

from django.urls import path

from ismit.trades import views

app_name = "trades"
urlpatterns: list = [
    path("", views.trade_list, name="list"),
    path("new/", views.trade_create, name="create"),
    path("<int:pk>/", views.trade_detail, name="detail"),
    path("<int:pk>/edit/", views.trade_edit, name="edit"),
    path("<int:pk>/duplicate/", views.trade_duplicate, name="duplicate"),
    path("<int:pk>/delete/", views.trade_delete, name="delete"),
    path("<int:pk>/steps/<slug:code>/", views.step_update, name="step"),
    # htmx fragments of the entry form
    path("form/parties/", views.trade_parties, name="parties"),
    path("form/goods-line/", views.goods_line, name="goods_line"),
    path("form/incoterm/", views.incoterm_help, name="incoterm_help"),
]

# -- bulk import (trades/bulk*.py) ------------------------------------------------------------------

from ismit.trades import bulk_views  # noqa: E402

urlpatterns += [
    path("import/", bulk_views.upload, name="bulk_upload"),
    path("import/template.csv", bulk_views.template, name="bulk_template"),
    path("import/mappings/", bulk_views.mappings, name="bulk_mappings"),
    path("import/mappings/<int:pk>/delete/", bulk_views.mapping_delete, name="bulk_mapping_delete"),
    path("import/<slug:token>/columns/", bulk_views.mapping, name="bulk_mapping"),
]

# -- grants: organisations appointed on a trade (trades/grants*.py) -----------------------------------

from ismit.trades import grants_views  # noqa: E402

urlpatterns += [
    path("<int:pk>/grants/", grants_views.grant_create, name="grant_create"),
    path("<int:pk>/grants/brokers/", grants_views.grant_brokers, name="grant_brokers"),
    path("<int:pk>/grants/<int:grant_id>/revoke/", grants_views.grant_revoke, name="grant_revoke"),
]
