"""Pages of the tracking app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.tracking import views

app_name = "tracking"
urlpatterns: list = [
    path("shipments/", views.shipment_list, name="list"),
    path("shipments/new/", views.shipment_create, name="create"),
    path("shipments/settings/", views.tracking_settings, name="settings"),
    path("shipments/settings/webhooks/", views.webhook_create, name="webhook_create"),
    path("shipments/settings/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("shipments/settings/alerts/", views.alert_choices_save, name="alert_choices"),
    path("shipments/<int:pk>/", views.shipment_detail, name="detail"),
    path("shipments/<int:pk>/share-links/", views.share_link_create, name="share_link_create"),
    path(
        "shipments/<int:pk>/share-links/<int:link_id>/revoke/",
        views.share_link_revoke,
        name="share_link_revoke",
    ),
    path("shipments/<int:pk>/access/", views.access_grant, name="access_grant"),
    path("shipments/<int:pk>/access/<int:access_id>/revoke/", views.access_revoke, name="access_revoke"),
    path("s/<str:token>/", views.shared_shipment, name="shared"),
]
