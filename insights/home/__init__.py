"""The home pages that tenant_home sends roles to when no app page fits: the executive headlines, the ops home."""
