"""The funnel domain: events, customers, stages and their stores. No Telegram, no HTTP."""
