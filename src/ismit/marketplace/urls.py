"""Pages of the marketplace app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.marketplace import views

app_name = "marketplace"
urlpatterns: list = [
    path("trades/<int:pk>/services/", views.trade_services, name="trade_services"),
    path("marketplace/rfqs/<int:pk>/", views.rfq_detail, name="rfq"),
    path("marketplace/quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("marketplace/inbox/", views.inbox, name="inbox"),
    path("marketplace/rfqs/<int:pk>/quote/", views.quote_submit, name="quote_submit"),
    path("marketplace/quotes/<int:pk>/confirm/", views.quote_confirm, name="quote_confirm"),
    path("marketplace/invitations/<int:pk>/decline/", views.invitation_decline, name="invitation_decline"),
    path("marketplace/contracts/", views.contract_list, name="contracts"),
    path("marketplace/contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("marketplace/contracts/<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("marketplace/contracts/<int:pk>/invoices/", views.invoice_add, name="invoice_add"),
    path("marketplace/contracts/<int:pk>/rating/", views.rating_add, name="rating_add"),
    path("marketplace/contracts/<int:pk>/claims/", views.claim_add, name="claim_add"),
]
