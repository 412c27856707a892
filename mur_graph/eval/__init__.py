"""Evaluation: loading benchmark problems, grading answers, running and reporting."""
