"""Blueprints for non-HTTP entry points: the stream, queue consumers, schedules."""
