"""Storage: SQL behind plain functions per aggregate, plus Redis. Handlers never write SQL."""
