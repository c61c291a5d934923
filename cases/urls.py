"""Practitioner pages for families, requests for support, episodes and steps."""

from django.urls import path

from .views import caseload, family

app_name = "cases"

urlpatterns = [
    path("caseload/", caseload.my_caseload, name="caseload"),
    path("families/<str:reference>/", family.family_detail, name="family"),
]
