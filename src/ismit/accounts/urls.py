"""Pages of the accounts app."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from ismit.accounts import views

app_name = "accounts"
urlpatterns: list = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password_change_done")),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/switch/", views.switch_organisation, name="switch_organisation"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<int:pk>/evidence/", views.evidence, name="evidence"),
    path("organisations/<int:pk>/members/", views.members, name="members"),
    path("organisations/<int:pk>/audit/", views.organisation_audit, name="organisation_audit"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
    path("memberships/<int:pk>/role/", views.member_role, name="member_role"),
    path("memberships/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("verification/", views.verification_queue, name="verification_queue"),
    path("verification/<int:pk>/", views.verification_review, name="verification_review"),
    path("verification/<int:pk>/verify/", views.verify, name="verify"),
    path("verification/<int:pk>/reject/", views.reject, name="reject"),
    path("tokens/", views.tokens, name="tokens"),
    path("notifications/", views.notifications, name="notifications"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
