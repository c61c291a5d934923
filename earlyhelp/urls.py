from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path


def home(request: HttpRequest) -> HttpResponse:
    # The practitioner pages arrive with the browser issue; until then the admin is the UI.
    return redirect("admin:index")


admin.site.site_header = "Early help case management"
admin.site.site_title = "Early help"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    # Before the partner API, whose catch-all answers every other /api/ path with a problem.
    path("api/v1/kpis/", include(("reporting.api.urls", "reporting-api"))),
    path("api/", include("cases.api.urls")),
]
