"""Launch readiness per agent and prompt version: computed gates, attested production gates, sign-off.

Computed gates come from aggregate SQL over the agent version's sessions (a fixed number of
queries, whatever the data size). The four production gates of the launch checklist are
attested by people. The launch is ready only when every gate passes. A "go" sign-off records the
gates as they stood; when later evidence breaks one of them, the sign-off is shown as invalidated.

The package: ``gates`` (definitions), ``selectors`` (reads), ``services`` (audited writes) and
``reports`` (the JSON and Markdown renderings). The names below are its public interface.
"""

from qa_app.readiness.gates import ATTESTED_GATES, ATTESTED_KEYS, THRESHOLDS, Gate, Readiness
from qa_app.readiness.reports import readiness_as_dict, readiness_markdown
from qa_app.readiness.selectors import config_for, latest_prompt_version, readiness_for
from qa_app.readiness.services import attestation_record, readiness_config_save, readiness_sign_off

__all__ = [
    "ATTESTED_GATES",
    "ATTESTED_KEYS",
    "THRESHOLDS",
    "Gate",
    "Readiness",
    "attestation_record",
    "config_for",
    "latest_prompt_version",
    "readiness_as_dict",
    "readiness_config_save",
    "readiness_for",
    "readiness_markdown",
    "readiness_sign_off",
]
