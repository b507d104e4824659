"""Dashboard forms: field validation only; the services decide everything else."""

from __future__ import annotations

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
