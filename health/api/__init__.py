"""The health REST API: usage ingestion, support tickets, survey responses and the scores themselves."""
