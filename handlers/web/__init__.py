"""aiohttp handlers: health, and (per platform) the shop and carrier webhooks."""
