"""The use cases. Services take a session and their collaborators, flush, and never commit:
the caller (a request or a CLI command) owns the transaction."""
