"""Practitioner pages for families, requests for support, episodes and steps."""

from django.urls import path

from .views import caseload, episodes, family, referrals, search, taf, team, transitions

app_name = "cases"

urlpatterns = [
    path("caseload/", caseload.my_caseload, name="caseload"),
    path("families/<str:reference>/", family.family_detail, name="family"),
    # Episodes, steps, closure and the Team Around the Family
    path("families/<str:reference>/episodes/new/", episodes.episode_open, name="episode_open"),
    path("episodes/<uuid:uuid>/closure/", episodes.closure_propose, name="closure_propose"),
    path("closures/<uuid:uuid>/", episodes.closure_decide, name="closure_decide"),
    path("families/<str:reference>/step-up/", transitions.step_up_request, name="step_up_request"),
    path(
        "families/<str:reference>/step-down/",
        transitions.step_down_request,
        name="step_down_request",
    ),
    path("steps/<uuid:uuid>/decision/", transitions.step_decide, name="step_decide"),
    path(
        "families/<str:reference>/steps/<uuid:uuid>/information/",
        transitions.step_information_supply,
        name="step_information",
    ),
    path("decisions/", transitions.step_decisions, name="step_decisions"),
    path("families/<str:reference>/taf/", taf.taf, name="taf"),
    path("families/<str:reference>/taf/leave/", taf.taf_member_end, name="taf_member_end"),
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
