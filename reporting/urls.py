"""Reporting pages: KPI dashboard, measures, drill-downs, runs and Supporting Families claims."""

from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("reports/", views.dashboard, name="dashboard"),
    path("reports/measures/<str:code>/", views.measure, name="measure"),
    path("reports/values/<int:value_id>/<str:side>/", views.drill_down, name="drill_down"),
    path("reports/runs/start/", views.run_start, name="run_start"),
    path("reports/runs/<uuid:run_uuid>/", views.run_detail, name="run"),
    path(
        "reports/runs/<uuid:run_uuid>/progress/", views.run_progress_fragment, name="run_progress"
    ),
    path("reports/payment-by-results/", views.pbr, name="pbr"),
    path("reports/payment-by-results/claims/<uuid:claim_uuid>/", views.claim_detail, name="claim"),
    path(
        "reports/payment-by-results/claims/<uuid:claim_uuid>/claimable/",
        views.claim_decide,
        {"action": "claimable"},
        name="claim_claimable",
    ),
    path(
        "reports/payment-by-results/claims/<uuid:claim_uuid>/validate/",
        views.claim_decide,
        {"action": "validate"},
        name="claim_validate",
    ),
    path(
        "reports/payment-by-results/claims/<uuid:claim_uuid>/pay/",
        views.claim_decide,
        {"action": "pay"},
        name="claim_pay",
    ),
    path(
        "reports/payment-by-results/claims/<uuid:claim_uuid>/reject/",
        views.claim_decide,
        {"action": "reject"},
        name="claim_reject",
    ),
    path(
        "reports/payment-by-results/batches/<uuid:batch_uuid>/",
        views.claim_batch_export,
        name="claim_batch",
    ),
]
