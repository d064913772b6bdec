"""Complaints (诉求): filing, routing to departments, deadlines, status, ratings and reports."""
