"""One module per `sluice` subcommand group, each exposing `register(subparsers)`."""
