"""Everything that leaves the bot later: API clients, RQ jobs, periodic jobs, group robots, the fake API."""
