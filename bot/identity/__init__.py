"""Enterprise identity: invitation codes and claims that staff decide."""
