"""Practitioner pages for families, requests for support, episodes and steps."""

from django.urls import path

from .views import caseload, family, referrals, search, team

app_name = "cases"

urlpatterns = [
    path("caseload/", caseload.my_caseload, name="caseload"),
    path("families/<str:reference>/", family.family_detail, name="family"),
    # Front door: requests for support, search, adding people and families, the team view.
    path("requests/", referrals.inbox, name="referral_inbox"),
    path("requests/<str:reference>/", referrals.referral_detail, name="referral"),
    path("requests/<str:reference>/triage/", referrals.triage, name="referral_triage"),
    path(
        "requests/<str:reference>/people/<uuid:person>/",
        referrals.submitted_person,
        name="referral_person",
    ),
    path("search/", search.search, name="search"),
    path("new-family/", search.family_create, name="family_create"),
    path("families/<str:reference>/add-person/", search.person_add, name="person_add"),
    path("team/", team.team, name="team"),
    path("episodes/<uuid:episode>/allocate/", team.episode_allocate, name="episode_allocate"),
]
