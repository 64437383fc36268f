"""Blueprints for non-HTTP entry points: schedules, queue consumers, streams."""
