"""Pages of the finance app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.finance import views

app_name = "finance"
urlpatterns: list = [
    path("trades/<int:pk>/finance/", views.trade_finance, name="trade"),
    path("trades/<int:pk>/finance/payments/", views.payment_add, name="payment_add"),
    path(
        "trades/<int:pk>/finance/payments/<int:payment_id>/delete/",
        views.payment_delete,
        name="payment_delete",
    ),
    path("trades/<int:pk>/finance/fx-report/", views.fx_submit, name="fx_submit"),
    path("trades/<int:pk>/finance/vat-claim/", views.vat_submit, name="vat_submit"),
]
