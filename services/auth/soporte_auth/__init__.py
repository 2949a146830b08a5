"""Soporte auth: registers customers, logs people in and out, issues the session cookie."""
