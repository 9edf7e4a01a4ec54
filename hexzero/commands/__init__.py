"""One module per `hexzero` subcommand: HELP, add_arguments(parser), main(args)."""
