"""One module per command. Each has NAME, HELP, configure(parser) and run(args, ws, style)."""
