"""The tsh grammar, shipped as package data."""
