"""Identity and security: users, roles and data scopes, sessions, API keys, PII protection, audit trail."""
