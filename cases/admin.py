from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import models
from .references import references_last


@admin.register(
    models.Service,
    models.ReferralSource,
    models.EpisodeStartReason,
    models.HeadlineOutcome,
    models.CscClosureReason,
)
class ReferenceDataAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]


@admin.register(models.LevelOfNeed)
class LevelOfNeedAdmin(ReferenceDataAdmin):
    list_display = ["code", "label", "rank", "is_statutory", "colour", "sort_order", "is_active"]


@admin.register(models.EpisodeEndReason)
class EpisodeEndReasonAdmin(ReferenceDataAdmin):
    list_display = ["code", "label", "category", "sort_order", "is_active"]
    list_filter = ["category", "is_active"]


class FamilyMembershipInline(admin.TabularInline):
    model = models.FamilyMembership
    extra = 0
    raw_id_fields = ["person"]


@admin.register(models.Family)
class FamilyAdmin(admin.ModelAdmin):
    list_display = ["reference", "postcode", "locality", "created_at"]
    list_filter = ["locality"]
    search_fields = ["reference", "postcode", "external_id"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [FamilyMembershipInline]
    list_select_related = ["locality"]


@admin.register(models.Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["surname", "forename", "date_of_birth", "sex", "nhs_number"]
    list_filter = ["sex", "send", "young_carer"]
    search_fields = ["surname", "forename", "nhs_number", "upn", "external_id"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "date_of_birth"


@admin.register(models.Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["person", "postcode", "address_type", "started_on", "ended_on"]
    search_fields = ["postcode", "person__surname"]
    raw_id_fields = ["person"]
    list_select_related = ["person"]


@admin.register(models.Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "received_at",
        "source",
        "referring_organisation",
        "status",
        "decision",
    ]
    list_filter = ["status", "decision", "source", "referring_organisation"]
    search_fields = ["reference", "partner_reference", "family__reference"]
    raw_id_fields = ["family", "children", "decided_by"]
    date_hierarchy = "received_at"
    list_select_related = ["source", "referring_organisation"]


@admin.register(models.Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = [
        "uuid",
        "family",
        "service",
        "level",
        "origin",
        "started_on",
        "ended_on",
        "end_reason",
    ]
    list_filter = ["service", "level", "origin", "end_reason", "team"]
    search_fields = ["family__reference", "child__surname", "external_id"]
    raw_id_fields = ["family", "child", "referral", "lead_practitioner"]
    date_hierarchy = "started_on"
    list_select_related = ["family", "service", "level", "end_reason"]


@admin.register(models.CscInvolvement)
class CscInvolvementAdmin(admin.ModelAdmin):
    list_display = ["uuid", "person", "kind", "source", "started_on", "ended_on", "closure_reason"]
    list_filter = ["kind", "source", "closure_reason"]
    search_fields = ["person__surname", "external_id"]
    raw_id_fields = ["person", "referral"]
    date_hierarchy = "started_on"
    list_select_related = ["person", "closure_reason"]


class TransitionNoteInline(admin.TabularInline):
    """The "more information" exchange, as written: kept, not edited."""

    model = models.TransitionNote
    extra = 0
    can_delete = False
    raw_id_fields = ["written_by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Transition)
class TransitionAdmin(admin.ModelAdmin):
    inlines = [TransitionNoteInline]
    list_display = ["uuid", "direction", "family", "requested_on", "decision", "decided_on"]
    list_filter = ["direction", "decision"]
    search_fields = ["family__reference", "child__surname", "external_id"]
    raw_id_fields = ["family", "child", "from_episode", "from_csc", "opened_episode", "opened_csc"]
    list_select_related = ["family"]


class ClosureOutcomeInline(admin.TabularInline):
    model = models.ClosureOutcome
    extra = 0
    raw_id_fields = ["need"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.ClosureRequest)
class ClosureRequestAdmin(admin.ModelAdmin):
    """Read-only: proposals, sign-offs and returns go through the services, with a chronology."""

    list_display = ["uuid", "episode", "status", "end_reason", "ended_on", "proposed_at"]
    list_filter = ["status", "end_reason"]
    search_fields = ["episode__family__reference"]
    raw_id_fields = ["episode", "proposed_by", "decided_by"]
    list_select_related = ["episode", "end_reason"]
    inlines = [ClosureOutcomeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "family", "kind", "summary", "actor"]
    list_filter = ["kind"]
    search_fields = ["family__reference", "summary"]
    raw_id_fields = ["family", "person", "actor"]
    list_select_related = ["family", "actor"]


@admin.register(models.ReferenceCounter)
class ReferenceCounterAdmin(admin.ModelAdmin):
    """Where numbering stands, read-only: a number set by hand could be handed out twice."""

    list_display = ["prefix", "last_allocated"]

    @admin.display(description="last number handed out")
    def last_allocated(self, counter: models.ReferenceCounter) -> int:
        return references_last(counter.prefix)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# Partner API: keys, submissions, match candidates and the API audit log.
from .api import admin as api_admin  # noqa: E402, F401
