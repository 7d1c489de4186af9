"""The auth service: password login and token refresh for the web app and its API clients."""
