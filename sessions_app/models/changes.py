"""Which days of a tenant's sessions changed since the figures derived from them were computed."""

from django.db import models

from sessions_app.models.tenancy import Tenant


class ChangedDay(models.Model):
    """A tenant's UTC day of ``started_at`` whose sessions changed since derived figures read it.

    Written by every write that changes what a day holds (sessions_app.changes), read and
    cleared by whatever derives figures from the sessions (qa_app.rollups recomputes them).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        # Moved here from qa_app's StaleRollupDay (migration 0015), table and constraint unchanged.
        db_table = "qa_app_stalerollupday"
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="stale_rollup_day_once")]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.day}"
