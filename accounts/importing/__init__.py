"""CRM import of accounts, contacts and activities (CSV or XLSX, Salesforce report headers understood).

The flow: `files.read_table` turns an upload into a table of strings; `mapping` matches the file's
columns to our fields; `pending` keeps the table between the preview and the commit; `services`
runs the django-import-export resources of `resources` either as a dry run (the preview) or for
real, all rows or none. Everything runs in the current tenant, through the tenant-scoped managers.
"""
