"""Outreach: one-to-one liaison (包联), visits, monitors and 三问三促 surveys."""
