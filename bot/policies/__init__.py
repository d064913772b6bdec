"""Policies (惠企政策): the policy base, matching and the answers about them."""
