"""Admin for the partner API: keys (created and revoked here), submissions and the audit log."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey

from cases import services
from cases.models import (
    ApiRequestLog,
    MatchCandidate,
    PartnerAPIKey,
    PartnerSubmission,
    SubmittedPerson,
)
from earlyhelp.models import Organisation

# The library registers its own organisation-less key model; ours replaces it.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(admin.ModelAdmin):
    """Keys are created here through the service, which shows the plaintext once (only its
    hash is stored), and revoked by ticking "revoked", which cannot be undone."""

    list_display = ["prefix", "name", "organisation", "created", "expiry_date", "revoked"]
    list_filter = ["organisation", "revoked", "created"]
    search_fields = ["name", "prefix", "organisation__name", "organisation__code"]
    list_select_related = ["organisation"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["organisation", "name", "expiry_date"]
        return ["prefix", "organisation", "name", "created", "expiry_date", "revoked"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        if obj.revoked:
            return ["prefix", "organisation", "name", "created", "expiry_date", "revoked"]
        return ["prefix", "organisation", "created"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.filter(api_access_enabled=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.save()
            return
        created, plaintext = services.partner_api_key_create(
            organisation=obj.organisation, name=obj.name
        )
        if obj.expiry_date is not None:
            created.expiry_date = obj.expiry_date
            created.save(update_fields=["expiry_date"])
        obj.pk, obj.prefix = created.pk, created.prefix
        messages.warning(
            request,
            f"The API key for {created.name} is: {plaintext}. Store it somewhere safe now: "
            "it is not stored and cannot be shown again.",
        )


class SubmittedPersonInline(admin.TabularInline):
    model = SubmittedPerson
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "position",
        "role",
        "forename",
        "surname",
        "date_of_birth",
        "resolution",
        "person",
    )


@admin.register(PartnerSubmission)
class PartnerSubmissionAdmin(admin.ModelAdmin):
    list_display = ["referral", "organisation", "follow_up", "follow_up_attempts", "created_at"]
    list_filter = ["follow_up", "organisation"]
    search_fields = ["referral__reference", "referral__partner_reference"]
    readonly_fields = [
        "referral",
        "organisation",
        "api_key",
        "follow_up",
        "follow_up_queued_at",
        "follow_up_attempts",
        "followed_up_at",
        "created_at",
    ]
    list_select_related = ["referral", "organisation"]
    inlines = [SubmittedPersonInline]


@admin.register(MatchCandidate)
class MatchCandidateAdmin(admin.ModelAdmin):
    """Read-only: confirming or rejecting goes through the services, from the triage page."""

    list_display = ["submitted_person", "person", "score", "status", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["submitted_person", "person"]
    list_select_related = ["submitted_person", "person"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiRequestLog)
class ApiRequestLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organisation", "key_prefix", "method", "endpoint", "status"]
    list_filter = ["status", "method", "endpoint", "organisation"]
    search_fields = ["key_prefix", "endpoint"]
    date_hierarchy = "created_at"
    list_select_related = ["organisation"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
