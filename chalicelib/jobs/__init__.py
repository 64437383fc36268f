"""Blueprints for SQS consumers, the stream publisher and schedules."""
