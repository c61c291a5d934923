"""Routes of the partner API: /api/v1/… plus the schema, its docs pages and problem types."""

from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views
from .problems import not_found_view, problem_type_view

router = SimpleRouter()
router.register("referrals", views.ReferralViewSet, basename="referral")

v1 = [
    *router.urls,
    path(
        "reference/referral-sources/",
        views.ReferralSourceList.as_view(),
        name="referral-sources",
    ),
    path(
        "reference/headline-outcomes/",
        views.HeadlineOutcomeList.as_view(),
        name="headline-outcomes",
    ),
    path("reference/levels/", views.LevelOfNeedList.as_view(), name="levels"),
]

urlpatterns = [
    path("v1/", include((v1, "api-v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("problems/<slug:slug>/", problem_type_view, name="api-problem"),
]

if settings.API_BENCH_FLOOR:
    from .bench_floor import floor_insert

    urlpatterns.append(path("bench/floor/", floor_insert, name="api-bench-floor"))

urlpatterns.append(re_path(r"", not_found_view, name="api-not-found"))
