"""Baselines, prediction logs and drift reports of deployed model versions (docs/FORMAT.md)."""
