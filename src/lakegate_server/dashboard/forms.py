"""Dashboard forms: field validation only; the services decide everything else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from lakegate_server.accounts.models import Role
from lakegate_server.jobs.models import RunStatus


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "any status"), *((s, s) for s in RunStatus.values)]
    )


class SelfcheckForm(forms.Form):
    seconds = forms.FloatField(
        min_value=0, max_value=600, initial=2, help_text="How long the check keeps the worker busy."
    )


class UploadForm(forms.Form):
    """The fields beside the file; the file itself goes through ``receive_upload`` (size limit)."""

    dataset = forms.CharField(
        max_length=100, help_text="Lower-case letters, digits, '_' or '-'. A new name creates a dataset."
    )
    mode = forms.ChoiceField(
        choices=[("append", "append rows"), ("overwrite", "replace all rows")], initial="append"
    )
    evolve = forms.BooleanField(
        required=False, label="Allow schema changes", help_text="Add new columns and widen types."
    )
    sheet = forms.CharField(required=False, max_length=200, help_text="Excel only: the sheet to read.")


class RetryForm(forms.Form):
    evolve = forms.BooleanField(required=False, label="with --evolve (allow schema changes)")


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Who or what uses the token.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class DiffForm(forms.Form):
    a = forms.IntegerField(min_value=1, label="from version")
    b = forms.IntegerField(min_value=1, label="to version")


class VerdictFilterForm(forms.Form):
    verdict = forms.ChoiceField(
        required=False, choices=[("", "any verdict"), *((v, v) for v in ("pass", "warn", "fail"))]
    )


class CheckForm(forms.Form):
    """Re-check a version, against the gate's default reference or another version."""

    reference = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Compare with")

    def __init__(self, *args: Any, others: Sequence[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "the default reference"), *((n, f"version {n}") for n in others)]
        reference = self.fields["reference"]
        assert isinstance(reference, forms.ChoiceField)  # declared above as a TypedChoiceField
        reference.choices = choices


class ApproveForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this version may be used although the gate did not accept it. Kept with the version.",
    )


class DecisionForm(forms.Form):
    """Reject a version, or revoke its approval: the reason goes into the ledger."""

    reason = forms.CharField(
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why pipelines must stop using this version. Kept in the ledger; its readers are told.",
    )


class LedgerFilterForm(forms.Form):
    dataset = forms.CharField(required=False, max_length=100)
    model = forms.CharField(required=False, max_length=64)
