from django.contrib import admin

from . import models


class IdentifiedNeedInline(admin.TabularInline):
    model = models.IdentifiedNeed
    extra = 0
    raw_id_fields = ["person"]


@admin.register(models.Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["uuid", "family", "kind", "status", "started_on", "completed_on"]
    list_filter = ["kind", "status", "is_whole_family"]
    search_fields = ["family__reference", "external_id"]
    raw_id_fields = [
        "family",
        "episode",
        "lead_practitioner",
        "signed_off_by",
        "created_by",
        "completed_by",
        "updated_by",
    ]
    filter_horizontal = ["consent_share_with"]
    date_hierarchy = "started_on"
    inlines = [IdentifiedNeedInline]
    list_select_related = ["family"]


@admin.register(models.IdentifiedNeed)
class IdentifiedNeedAdmin(admin.ModelAdmin):
    list_display = [
        "uuid",
        "headline_outcome",
        "level_at_assessment",
        "level_at_closure",
        "outcome",
    ]
    list_filter = ["headline_outcome", "outcome", "level_at_assessment"]
    search_fields = ["assessment__family__reference", "external_id"]
    raw_id_fields = ["assessment", "person"]
    list_select_related = ["headline_outcome", "level_at_assessment", "level_at_closure"]


class PlanActionInline(admin.TabularInline):
    model = models.PlanAction
    extra = 0
    raw_id_fields = ["need", "owner_user", "completed_by"]


@admin.register(models.Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["uuid", "assessment", "status", "started_on", "next_review_on"]
    list_filter = ["status"]
    search_fields = ["assessment__family__reference"]
    raw_id_fields = ["assessment", "created_by", "updated_by"]
    inlines = [PlanActionInline]


class NeedProgressInline(admin.TabularInline):
    model = models.NeedProgress
    extra = 0
    raw_id_fields = ["need"]


class ReviewAttendeeInline(admin.TabularInline):
    model = models.ReviewAttendee
    extra = 0
    raw_id_fields = ["person", "user", "organisation"]


@admin.register(models.Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["uuid", "plan", "held_on", "is_taf_meeting", "family_present", "next_review_on"]
    list_filter = ["is_taf_meeting", "family_present"]
    search_fields = ["plan__assessment__family__reference"]
    raw_id_fields = ["plan", "recorded_by"]
    inlines = [NeedProgressInline, ReviewAttendeeInline]
