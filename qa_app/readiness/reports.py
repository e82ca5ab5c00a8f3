"""Readiness as a document: the JSON of the API and the Markdown report a launch review files."""

from __future__ import annotations

from typing import Any

from qa_app.readiness.gates import Readiness
from sessions_app.models import Tenant


def readiness_as_dict(readiness: Readiness, *, base_url: str = "") -> dict[str, Any]:
    signoff = readiness.signoff
    return {
        "agent_key": readiness.agent_key,
        "prompt_version": readiness.prompt_version,
        "ready": readiness.ready,
        "gates": [
            {
                "key": gate.key,
                "title": gate.title,
                "kind": gate.kind,
                "passed": gate.passed,
                "summary": gate.summary,
                "evidence": gate.evidence,
                "links": [{"label": label, "url": base_url + url} for label, url in gate.links],
                "example_sessions": gate.examples,
                **(
                    {
                        "status": gate.status,
                        "owner": gate.owner,
                        "required_evidence": gate.required_evidence,
                        "recorded_by": gate.recorded_by or None,
                        "recorded_at": gate.recorded_at.isoformat() if gate.recorded_at else None,
                    }
                    if gate.kind == "attested"
                    else {}
                ),
            }
            for gate in readiness.gates
        ],
        "signoff": None
        if signoff is None
        else {
            "decision": signoff.decision,
            "comment": signoff.comment,
            "signed_by": signoff.signed_by_label,
            "signed_at": signoff.created_at.isoformat(),
            "valid": readiness.signoff_valid,
            "broken_gates": readiness.broken_since_signoff,
        },
    }


def readiness_markdown(readiness: Readiness, *, tenant: Tenant) -> str:
    """A launch-review report to paste into a document or a pull request."""
    mark = {True: "✅", False: "❌"}
    lines = [
        f"# Launch readiness: {readiness.agent_key} {readiness.prompt_version}",
        "",
        f"Tenant: {tenant.name} (`{tenant.slug}`)",
        "",
        f"**{'READY' if readiness.ready else 'NOT READY'}** — "
        f"{sum(gate.passed for gate in readiness.gates)} of {len(readiness.gates)} gates pass.",
        "",
        "## Computed gates",
        "",
        "| Gate | Result | Evidence |",
        "| --- | --- | --- |",
    ]
    for gate in readiness.computed:
        lines.append(f"| {gate.title} | {mark[gate.passed]} | {gate.summary.replace('|', '/')} |")
    lines += [
        "",
        "## Production gates",
        "",
        "| Gate | Status | Owner | Evidence |",
        "| --- | --- | --- | --- |",
    ]
    for gate in readiness.attested:
        evidence = gate.summary.replace("|", "/").replace("\n", " ")
        lines.append(f"| {gate.title} | {gate.status} | {gate.owner or '—'} | {evidence} |")
    lines += ["", "## Sign-off", ""]
    signoff = readiness.signoff
    if signoff is None:
        lines.append("No sign-off recorded.")
    else:
        lines.append(
            f"{signoff.get_decision_display()} by {signoff.signed_by_label} on "
            f"{signoff.created_at:%Y-%m-%d %H:%M} UTC: {signoff.comment}"
        )
        if readiness.broken_since_signoff:
            lines.append("")
            lines.append(
                "**Invalidated:** later evidence broke " + ", ".join(readiness.broken_since_signoff) + "."
            )
    return "\n".join(lines) + "\n"
