"""`{% unread_notifications as count %}`: the number of unread notifications of the person signed in."""

from django import template

from ismit.accounts.queries import unread_notification_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return 0
    cached = getattr(request, "_ismit_unread_notifications", None)
    if cached is None:
        cached = unread_notification_count(actor)
        request._ismit_unread_notifications = cached
    return cached
