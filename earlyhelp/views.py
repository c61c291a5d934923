"""Sign-in and the landing page, which sends each role to its daily page."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .access import access_for
from .forms import SignInForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if access.has_caseload:
        return redirect("cases:caseload")
    if access.sees_reports:
        return redirect("reporting:dashboard")
    if access.is_administrator:
        return redirect("admin:index")
    return redirect("no_role")


@login_required
def no_role(request: HttpRequest) -> HttpResponse:
    return render(request, "earlyhelp/no_role.html", status=403)


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True
