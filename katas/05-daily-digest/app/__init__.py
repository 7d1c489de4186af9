"""The reading app's backend: sources people follow, their new contents, and a daily digest."""
