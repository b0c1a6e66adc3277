"""Shop and carrier webhooks: verify, keep in the inbox, acknowledge; parsers for the worker."""
