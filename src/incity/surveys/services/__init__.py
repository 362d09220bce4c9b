"""Every write in the survey engine: forms (forms.py) and submissions (submissions.py)."""
