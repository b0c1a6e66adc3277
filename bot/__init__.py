"""The composition root: settings, logging, the database, the web app, the loops and the CLI."""
