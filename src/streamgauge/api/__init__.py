"""The query HTTP app (port 8788): DSL, templates, SQL, dashboard."""
