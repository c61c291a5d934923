"""Reporting runs, KPI values and Supporting Families claims arrive with the reporting issue."""
