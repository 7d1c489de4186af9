"""A small bookshop backend with the implicit-IO bugs teams write, one of each kind."""
