from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from ismit.accounts.actors import actor_for

SESSION_ORG_KEY = "ismit_org"


class ActorMiddleware:
    """Puts request.actor (user + memberships) on every page request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(
            lambda: actor_for(getattr(request, "user", None), request.session.get(SESSION_ORG_KEY))
        )
        return self.get_response(request)
