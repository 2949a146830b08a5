"""The pages server's settings: the HTTP ones every service has, and what the pages
themselves are told (served as `/static/js/config.js`)."""

from __future__ import annotations

from pydantic import Field

from soporte_common.settings import HttpSettings


class FrontendSettings(HttpSettings):
    # An agent's tab hidden this long tells realtime it is idle; an agent whose every tab
    # is idle shows as away (ausente) until one is shown again.
    idle_away_seconds: int = Field(default=300, ge=1)

    def page_config(self) -> dict[str, object]:
        """What the pages read from `/static/js/config.js`, by export name."""
        return {"IDLE_AWAY_SECONDS": self.idle_away_seconds}
