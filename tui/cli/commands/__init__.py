"""One module per `mmtop` subcommand; each exposes `run(ns) -> exit code`."""
