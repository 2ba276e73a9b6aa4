"""Persistence: SQLAlchemy models, the repository, and the spool that covers database outages."""
