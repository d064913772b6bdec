"""Policy notices to subscribers, topics, tags and groups."""
