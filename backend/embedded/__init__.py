"""The embedded, ONEWEB-compatible BPMN runtime: ONEWEB's Process Runtime REST API served by a
Starlette app over SpiffWorkflow and SQLite, for running the facade with no ONEWEB server.

``app.create_app`` builds the app; ``store.default_db_path`` is where its data lives by default.
"""
