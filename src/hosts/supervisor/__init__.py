"""The supervisor: runs the system's hosts in order, and installs them as services (spec 10)."""
