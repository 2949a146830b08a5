"""Soporte history-api: the consumer that stores every message, and the history endpoints."""
