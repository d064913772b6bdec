"""Channels: thin adapters from a platform's HTTP request to one Message, and from Reply back."""
