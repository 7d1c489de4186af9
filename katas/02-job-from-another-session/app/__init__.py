"""The library's sync-jobs API: starts jobs that mirror an upstream media catalogue."""
