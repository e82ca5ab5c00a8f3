"""The review app: /review/… pages for QA analysts and tenant admins."""

from django.urls import path

from qa_app.pages import (
    agent_governance,
    agents,
    audit,
    calibration,
    calls,
    dashboard,
    evaluators,
    invitations,
    recordings,
    sessions,
    settings,
)

app_name = "review"

urlpatterns = [
    path("", sessions.session_list, name="session-list"),
    path("queue/", sessions.queue, name="queue"),
    path("export/", sessions.session_export, name="session-export"),
    path("sessions/<uuid:session_id>/", sessions.session_detail, name="session-detail"),
    path("sessions/<uuid:session_id>/reveal/", sessions.session_reveal, name="session-reveal"),
    path("sessions/<uuid:session_id>/recording/", recordings.recording_audio, name="recording-audio"),
    path(
        "sessions/<uuid:session_id>/recording/raw/",
        recordings.recording_audio_raw,
        name="recording-audio-raw",
    ),
    path(
        "sessions/<uuid:session_id>/recording/status/", recordings.recording_status, name="recording-status"
    ),
    path("sessions/<uuid:session_id>/tags/", sessions.tag_add, name="tag-add"),
    path("sessions/<uuid:session_id>/tags/<str:name>/remove/", sessions.tag_remove, name="tag-remove"),
    path("sessions/<uuid:session_id>/evaluations/", sessions.evaluation_create, name="evaluation-create"),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/members/", settings.member_add, name="member-add"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        settings.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("invitations/", invitations.invitation_list, name="invitations"),
    path(
        "invitations/<int:invitation_id>/accept/",
        invitations.invitation_accept_view,
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        invitations.invitation_decline_view,
        name="invitation-decline",
    ),
    path("settings/members/<int:user_id>/role/", settings.member_role_change, name="member-role"),
    path("settings/members/<int:user_id>/raw/", settings.member_raw_access, name="member-raw"),
    path("settings/members/<int:user_id>/remove/", settings.member_delete, name="member-remove"),
    path("settings/keys/", settings.api_key_add, name="api-key-add"),
    path("settings/keys/<int:key_id>/revoke/", settings.api_key_delete, name="api-key-revoke"),
    path("settings/policy/", settings.policy_update, name="policy"),
    path("calibration/", calibration.calibration, name="calibration"),
    path("calibration/rules/", calibration.review_rule_update, name="review-rule-save"),
    path(
        "calibration/rules/<int:rule_id>/remove/", calibration.review_rule_delete, name="review-rule-remove"
    ),
    path("sessions/<uuid:session_id>/adjudicate/", calibration.adjudication_create, name="adjudicate"),
    path("sessions/<uuid:session_id>/gold/", calibration.gold_update, name="gold-save"),
    path("settings/judge/", settings.judge_endpoint_update, name="judge-save"),
    path("settings/judge/remove/", settings.judge_endpoint_delete, name="judge-remove"),
    path("settings/judge/test/", settings.judge_endpoint_test, name="judge-test"),
    path("settings/taxonomy/", settings.category_save, name="category-save"),
    path("settings/taxonomy/<slug:name>/retire/", settings.category_retire, name="category-retire"),
    path("calls/", calls.call_list, name="call-list"),
    path("calls/<str:call_ref>/", calls.call_detail, name="call-detail"),
    path("audit/", audit.audit_list, name="audit"),
    path("agents/<str:agent_key>/readiness/", agent_governance.agent_readiness, name="agent-readiness"),
    path(
        "agents/<str:agent_key>/readiness/signoff/",
        agent_governance.readiness_signoff,
        name="readiness-signoff",
    ),
    path(
        "agents/<str:agent_key>/readiness/attest/", agent_governance.readiness_attest, name="readiness-attest"
    ),
    path(
        "agents/<str:agent_key>/readiness/config/", agent_governance.readiness_config, name="readiness-config"
    ),
    path("agents/<str:agent_key>/contract/", agent_governance.agent_contract, name="agent-contract"),
    path("agents/<str:agent_key>/evaluators/", evaluators.agent_evaluators, name="agent-evaluators"),
    path("agents/<str:agent_key>/evaluators/save/", evaluators.evaluator_update, name="evaluator-save"),
    path("agents/<str:agent_key>/contract/save/", agent_governance.contract_update, name="contract-save"),
    path(
        "agents/<str:agent_key>/findings/<int:finding_id>/acknowledge/",
        agent_governance.finding_ack,
        name="finding-acknowledge",
    ),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("agents/<str:agent_key>/", agents.agent_compare, name="agent-compare"),
]
