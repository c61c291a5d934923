"""Admin: rule sets and targets are edited here; runs, values and claims are only looked at
(services write them, so the admin cannot add or change them)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ClaimBatch, ClaimRuleSet, FamilyClaim, KpiValue, ProgrammeTarget, ReportRun


class ProgrammeTargetInline(admin.TabularInline):
    model = ProgrammeTarget
    extra = 0


@admin.register(ClaimRuleSet)
class ClaimRuleSetAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "name", "is_active", "programme_start", "programme_end"]
    list_filter = ["is_active", "employment_route"]
    search_fields = ["code", "name"]
    inlines = [ProgrammeTargetInline]


@admin.register(ProgrammeTarget)
class ProgrammeTargetAdmin(admin.ModelAdmin):
    list_display = ["rule_set", "label", "year_start", "year_end", "target_families"]
    list_filter = ["rule_set"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportRun)
class ReportRunAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "trigger", "status", "data_cutoff", "progress_done", "created_at"]
    list_filter = ["status", "trigger"]


@admin.register(KpiValue)
class KpiValueAdmin(ReadOnlyAdmin):
    list_display = ["measure", "period_label", "breakdown", "breakdown_value", "category", "value"]
    list_filter = ["measure", "breakdown"]
    search_fields = ["measure", "breakdown_value", "category"]
    show_full_result_count = False


@admin.register(ClaimBatch)
class ClaimBatchAdmin(ReadOnlyAdmin):
    list_display = ["reference", "rule_set", "created_by", "created_at"]
    search_fields = ["reference"]


@admin.register(FamilyClaim)
class FamilyClaimAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "family", "rule_set", "period_label", "status", "claimable_on"]
    list_filter = ["status", "rule_set"]
    search_fields = ["family__reference"]
    list_select_related = ["family", "rule_set"]
    raw_id_fields = ["family"]
    show_full_result_count = False
