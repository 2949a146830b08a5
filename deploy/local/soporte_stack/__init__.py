"""The local stack: every Soporte process on one machine, supervised by supervisord."""
