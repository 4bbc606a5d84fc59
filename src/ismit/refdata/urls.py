from django.urls import path

from ismit.refdata import views

app_name = "refdata"
urlpatterns = [
    path("suggest/<slug:list_name>/", views.suggest, name="suggest"),
]
