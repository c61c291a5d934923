"""Assessment, plan and review pages, under the family they belong to."""

from django.urls import path

from . import views

app_name = "assessments"

ASSESSMENT = "families/<str:reference>/assessments/<uuid:assessment>/"
PLAN = "families/<str:reference>/plans/<uuid:plan>/"

urlpatterns = [
    path("families/<str:reference>/assessments/start/", views.assessment_start, name="start"),
    path(ASSESSMENT, views.assessment_detail, name="detail"),
    path(f"{ASSESSMENT}voice/", views.assessment_voice, name="voice"),
    path(f"{ASSESSMENT}consent/", views.assessment_consent, name="consent"),
    path(f"{ASSESSMENT}needs/add/", views.need_add, name="need_add"),
    path(f"{ASSESSMENT}needs/<uuid:need>/", views.need_edit, name="need_edit"),
    path(f"{ASSESSMENT}needs/<uuid:need>/remove/", views.need_remove, name="need_remove"),
    path(f"{ASSESSMENT}complete/", views.assessment_complete, name="complete"),
    path(f"{ASSESSMENT}sign-off/", views.assessment_sign_off, name="sign_off"),
    path(f"{ASSESSMENT}plan/", views.plan_create, name="plan_create"),
    path(PLAN, views.plan_detail, name="plan"),
    path(f"{PLAN}actions/add/", views.action_add, name="action_add"),
    path(f"{PLAN}actions/<uuid:action>/", views.action_edit, name="action_edit"),
    path(f"{PLAN}actions/<uuid:action>/done/", views.action_complete, name="action_complete"),
    path(f"{PLAN}reviews/add/", views.review_record, name="review_record"),
]
