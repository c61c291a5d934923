from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "Early help case management"
admin.site.site_title = "Early help"

urlpatterns = [
    # The partner API first: its systems call far more often than people load pages, and every
    # pattern before it is tried on each call. The KPI API before the partner API, whose
    # catch-all answers every other /api/ path with a problem. No page lives under /api/.
    path("api/v1/kpis/", include(("reporting.api.urls", "reporting-api"))),
    path("api/", include("cases.api.urls")),
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("no-role/", views.no_role, name="no_role"),
    path("", include("cases.urls")),
    path("", include("assessments.urls")),
    path("", include("reporting.urls")),
    path("admin/", admin.site.urls),
]
