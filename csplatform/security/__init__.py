"""Login lockout, the client address, rate limits for public pages, and the API token and login security pages."""
