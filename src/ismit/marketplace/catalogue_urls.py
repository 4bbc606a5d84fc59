"""Pages of the catalogue and of providers (mounted at the site root by ismit/config/urls.py)."""

from django.urls import path

from ismit.marketplace import catalogue_views as views

app_name = "catalogue"
urlpatterns: list = [
    path("marketplace/catalogue/", views.catalogue, name="list"),
    path("marketplace/catalogue/new/", views.offering_new, name="new"),
    path("marketplace/catalogue/export.csv", views.catalogue_csv, name="export"),
    path("marketplace/catalogue/import/", views.catalogue_import, name="import"),
    path("marketplace/catalogue/<int:pk>/", views.offering_edit, name="edit"),
    path("marketplace/catalogue/<int:pk>/toggle/", views.offering_toggle, name="toggle"),
    path("marketplace/catalogue/<int:pk>/price/", views.offering_price, name="price"),
    path("marketplace/catalogue/<int:pk>/rates.csv", views.offering_csv, name="offering_csv"),
    path("marketplace/providers/", views.provider_list, name="providers"),
    path("marketplace/providers/<int:org_id>/", views.provider_detail, name="provider"),
    path("marketplace/providers/<int:org_id>/standing/", views.provider_standing, name="provider_standing"),
]
