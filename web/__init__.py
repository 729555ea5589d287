"""Upgradeflow's web layer (Flask). It talks to the engine only through `engine`'s exports."""
