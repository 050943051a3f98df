"""The accounts REST API (/api/v1/accounts/, contacts/, activities/, escalations/); routes in accounts.api_urls."""
