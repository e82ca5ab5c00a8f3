"""Forms of the review pages. Validation that matters lives in the services; these shape input."""

from __future__ import annotations

from django import forms

from qa_app.models import Verdict

SCORE_CHOICES = [("", "—")] + [(str(value), str(value)) for value in range(1, 6)]
VERDICT_HINTS = {"pass": "1", "fail": "2", "needs_work": "3"}


class EvaluationForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Verdict",
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Pick a verdict: pass, fail or needs work."},
    )
    score = forms.TypedChoiceField(
        label="Score", choices=SCORE_CHOICES, coerce=int, empty_value=None, required=False
    )
    failure_categories = forms.MultipleChoiceField(
        label="Failure categories", required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What went wrong, what to change…"}),
    )

    def __init__(self, *args, taxonomy: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["failure_categories"].choices = [(name, name.replace("_", " ")) for name in taxonomy]


class TagForm(forms.Form):
    name = forms.CharField(label="Add tag", max_length=64)
