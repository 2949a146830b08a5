"""`make bench`: drives the running stack with many Socket.IO clients (the peer's harness),
measures throughput, latency, CPU, connections, persistence and history, and compares
Soporte with the Node peer in the same run."""
