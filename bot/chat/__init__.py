"""The dialogue core: one Message type, the Dispatcher, routing, declared flows and replies."""
