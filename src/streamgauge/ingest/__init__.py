"""The ingest side: HTTP app, authentication, limits, back-pressure."""
