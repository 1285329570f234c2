"""The only code that speaks SQL: engine and sessions, tables, and one repository per table."""
