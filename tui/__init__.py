"""The Textual app: screens, widgets and their styles. Business logic lives in core/ and sources/."""
