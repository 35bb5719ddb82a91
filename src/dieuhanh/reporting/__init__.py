"""Report forms, submissions, approval, entry windows, validation rules (issue 5)."""
