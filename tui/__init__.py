"""mmtop's terminal side: the Textual app and the headless command line."""
