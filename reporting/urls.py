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
    path(
        "reports/payment-by-results/batches/<uuid:batch_uuid>/",
        views.claim_batch_export,
        name="claim_batch",
    ),
]
