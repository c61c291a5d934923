"""Routes of the reporting API, mounted at /api/v1/kpis/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("", views.KpiValueViewSet, basename="kpi-value")

urlpatterns = router.urls
