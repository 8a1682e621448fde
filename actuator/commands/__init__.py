"""One module per `prescale` subcommand; each exposes `register(subparsers)` and `run(args)`."""
