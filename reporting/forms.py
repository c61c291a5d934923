"""Forms for the Supporting Families claim decisions: a batch of claimable claims to submit,
and the one step a claim's status allows next.

As with the casework forms, these only parse what was typed; ``reporting.services`` decides,
and its refusals come back keyed by the names used here as field names (``claims``,
``reference``, ``claimable_on``, ``payment_amount``, ``rejection_reason``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crispy_forms_gds.choices import Choice  # type: ignore[import-untyped]
from crispy_forms_gds.layout import Button, Field, Layout, Size  # type: ignore[import-untyped]
from django import forms
from django.core.exceptions import ValidationError

from cases.forms_episodes import GovDateField, GovForm
from cases.forms_episodes import apply_refusal as _apply_refusal

from .models import ClaimBatch, FamilyClaim


def apply_refusal(
    form: forms.Form, error: ValidationError, *, status_field: str | None = None
) -> None:
    """A service's refusal next to its input. "status" (the claim moved on since the page
    was drawn) goes to ``status_field``, the input the user acts with."""
    if hasattr(error, "error_dict") and "status" in error.error_dict:
        for message in error.message_dict["status"]:
            form.add_error(status_field, message)
        error = ValidationError(
            {field: errors for field, errors in error.error_dict.items() if field != "status"}
        )
        if not error.error_dict:
            return
    _apply_refusal(form, error)


class ClaimActionForm(GovForm):
    """One step of a claim's life: posted to ``reporting:claim_<action>``."""

    action = ""
    heading = ""
    intro = ""


class ClaimBatchForm(GovForm):
    """Claimable claims to submit together, under a batch reference."""

    submit_label = "Submit claims"

    def __init__(self, *args: Any, claims: Sequence[FamilyClaim], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = {str(claim.uuid): claim for claim in claims}
        rule_sets = {claim.rule_set_id for claim in claims}
        self.fields["claims"] = forms.MultipleChoiceField(
            label="Which claims are in this batch?",
            help_text="Select all that apply. A batch holds claims under one rule set.",
            choices=[
                Choice(
                    key,
                    claim.family.reference,
                    hint=f"Claimable since {claim.claimable_on:%-d %B %Y}, "
                    f"programme year {claim.period_label}"
                    + (f", rules {claim.rule_set}" if len(rule_sets) > 1 else ""),
                )
                for key, claim in self.claims.items()
            ],
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": "Select at least one claim to submit",
                "invalid_choice": "A claim you selected is no longer claimable. "
                "Check the list and select again",
            },
        )
        self.fields["reference"] = forms.CharField(
            label="Batch reference",
            help_text="The reference you will quote to the programme, for example SF-2025-Q3.",
            max_length=ClaimBatch._meta.get_field("reference").max_length,
            error_messages={
                "required": "Enter a batch reference",
                "max_length": "Batch reference must be %(limit_value)d characters or fewer",
            },
        )
        self.helper.layout = Layout(
            Field.checkboxes("claims", legend_size=Size.SMALL, small=True),
            Field.text("reference", field_width=10),
            Button("submit_batch", self.submit_label),
        )

    def clean_claims(self) -> list[FamilyClaim]:
        return [self.claims[key] for key in self.cleaned_data["claims"]]


class ClaimClaimableForm(ClaimActionForm):
    """eligible → claimable by hand, from the day the sustain window ended."""

    action = "claimable"
    heading = "Mark as claimable"
    intro = "Do this when the family met the rules but the nightly check has not caught up."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claimable_on"] = GovDateField(
            what="the date the claim became claimable",
            label="Date the claim became claimable",
            help_text="The day after the sustain window ended, for example 16 5 2025.",
        )
        self.helper.layout = Layout(Field("claimable_on"), Button("claimable", "Mark as claimable"))


class ClaimValidateForm(ClaimActionForm):
    """submitted → validated: nothing to type, the button is the decision."""

    action = "validate"
    heading = "Validate the claim"
    intro = "Validate when the internal audit agrees with the evidence pack above."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(Button("validate", "Validate claim"))


class ClaimPayForm(ClaimActionForm):
    """validated → paid, for the rule set's amount unless another was paid."""

    action = "pay"
    heading = "Record the payment"
    intro = ""

    def __init__(self, *args: Any, default_amount: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payment_amount"] = forms.DecimalField(
            label="Amount paid, in pounds",
            help_text=f"The rule set pays £{default_amount:,.2f} for each family.",
            initial=default_amount,
            min_value=Decimal("0"),
            max_digits=10,
            decimal_places=2,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
            error_messages={
                "required": "Enter the amount paid",
                "invalid": "Amount paid must be a number of pounds, for example 1000.00",
                "min_value": "Amount paid must be £0 or more",
                "max_digits": "Amount paid must be less than £100,000,000",
                "max_decimal_places": "Amount paid must be in pounds and pence, for example "
                "1000.50",
                "max_whole_digits": "Amount paid must be less than £100,000,000",
            },
        )
        self.helper.layout = Layout(
            Field.text("payment_amount", field_width=10), Button("pay", "Mark as paid")
        )


class ClaimRejectForm(ClaimActionForm):
    """submitted or validated → rejected, saying why; the claim keeps its history."""

    action = "reject"
    heading = "Reject the claim"
    intro = "The claim is kept with its reason. A rejection cannot be undone."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rejection_reason"] = forms.CharField(
            label="Why is the claim rejected?",
            help_text="The claim keeps the reason for audit. Do not include personal details.",
            widget=forms.Textarea,
            max_length=2000,
            error_messages={
                "required": "Enter why the claim is rejected",
                "max_length": "Reason must be 2000 characters or fewer",
            },
        )
        self.helper.layout = Layout(
            Field.textarea("rejection_reason", rows=3), Button.warning("reject", "Reject claim")
        )


# The forms a claim's status offers, in the order the page shows them.
ACTIONS_BY_STATUS: dict[str, tuple[type[ClaimActionForm], ...]] = {
    FamilyClaim.Status.ELIGIBLE: (ClaimClaimableForm,),
    FamilyClaim.Status.SUBMITTED: (ClaimValidateForm, ClaimRejectForm),
    FamilyClaim.Status.VALIDATED: (ClaimPayForm, ClaimRejectForm),
}
