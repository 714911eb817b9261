"""mmtop's run store: log runs from training code, read them back.

Plain Parquet + JSON files under a root folder (see docs/FORMAT.md). This package never
imports Textual.
"""
