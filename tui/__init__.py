"""The Textual app: screens, widgets and their styles; logic stays in core/ and sources/."""
