"""The small library every Soporte service shares: what they must agree on, nothing more."""
