"""Event-day tools for a dance-battle tournament: the command center's backend."""
