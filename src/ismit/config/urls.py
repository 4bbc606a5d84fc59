from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from ismit.config.api import api
from ismit.tracking import dcsa


def home(request):
    return redirect("trades:list" if request.user.is_authenticated else "accounts:login")


# Django tries the patterns in this order, every request: the busiest callers first — the API, and the
# single windows' callbacks (in customs) before the pages' includes. No two entries match the same path.
urlpatterns = [
    path("api/v1/", api.urls),
    path("dcsa/tnt/v3/", dcsa.urls()),
    path("", include("ismit.customs.urls")),
    path("", home, name="home"),
    path("accounts/", include("ismit.accounts.urls")),
    path("refdata/", include("ismit.refdata.urls")),
    path("trades/", include("ismit.trades.urls")),
    path("", include("ismit.compliance.urls")),
    path("", include("ismit.documents.urls")),
    path("", include("ismit.outbox.urls")),
    path("", include("ismit.finance.urls")),
    path("", include("ismit.marketplace.urls")),
    path("", include("ismit.marketplace.catalogue_urls")),
    path("", include("ismit.logistics.urls")),
    path("", include("ismit.tracking.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
