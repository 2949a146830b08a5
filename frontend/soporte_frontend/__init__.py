"""Soporte's browser pages and the small server for them (static files, security headers)."""
