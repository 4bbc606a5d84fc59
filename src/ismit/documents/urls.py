"""Pages of the documents app (mounted at the site root by ismit/config/urls.py; paths are absolute)."""

from django.urls import path

from ismit.documents import views

app_name = "documents"
urlpatterns: list = [
    path("trades/<int:pk>/documents/", views.document_list, name="list"),
    path("trades/<int:pk>/documents/<int:doc_id>/download/", views.download, name="download"),
    path("trades/<int:pk>/documents/<int:doc_id>/signature/", views.download_signature, name="signature"),
    # public: no log-in
    path("verify/", views.verify_page, name="verify"),
    path("verify/ca.pem", views.ca_certificate, name="ca"),
]
