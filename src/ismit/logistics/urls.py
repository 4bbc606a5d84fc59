"""Pages of the logistics app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.logistics import views

app_name = "logistics"
urlpatterns: list = [
    path("trades/<int:pk>/consolidation/", views.trade_consolidation, name="trade"),
    path("logistics/consignments/<int:pk>/withdraw/", views.consignment_withdraw, name="withdraw"),
    path("logistics/", views.index, name="index"),
    path("logistics/plan/", views.plan_create, name="plan_create"),
    path("logistics/plans/<int:pk>/", views.plan_detail, name="plan"),
    path("logistics/plans/<int:pk>/manifest.csv", views.manifest_csv, name="manifest"),
]
