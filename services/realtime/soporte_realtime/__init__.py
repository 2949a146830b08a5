"""Soporte realtime: authenticated Socket.IO connections, message acceptance and delivery."""
