"""Who did something: a signed-in user, an API key, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from sessions_app.models import AdminKey, ApiKey


@dataclass(frozen=True)
class Actor:
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    admin_key: AdminKey | None = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.api_key is not None:
            return self.api_key.label
        if self.admin_key is not None:
            return self.admin_key.label
        return "system"


SYSTEM = Actor()
