"""The service navigation, fitted to the signed-in user's roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .access import Access, access_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    shown_to: str  # the Access property that must be true


ITEMS = (
    NavItem("My caseload", "cases:caseload", "has_caseload"),
    NavItem("Team", "cases:team", "is_manager"),
    NavItem("Decisions", "cases:step_decisions", "is_manager"),
    NavItem("Requests for support", "cases:referral_inbox", "works_front_door"),
    NavItem("Find a family", "cases:search", "has_caseload"),
    NavItem("Reports", "reporting:dashboard", "sees_reports"),
    NavItem("Administration", "admin:index", "is_administrator"),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    if not request.user.is_authenticated:
        return {}
    access = access_for(request.user)
    items = []
    for item in ITEMS:
        if not getattr(access, item.shown_to):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # that part of the service is not installed
            continue
        items.append({"label": item.label, "url": url, "active": request.path.startswith(url)})
    return {"navigation": items, "access": access}


__all__ = ["Access", "navigation"]
