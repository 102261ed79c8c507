"""Building blocks the pages share (widgets, text, figures); no analysis lives here."""
