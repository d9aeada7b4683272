"""Sluice's screens: the setup wizard, the sync dashboard and the cluster monitor."""
