"""The success plans REST API (/api/v1/success-plans/, goals/, value-records/, tasks/, reviews/, decisions/,
playbooks/, advocacy/, feedback/); routes in success_plans.api_urls."""
