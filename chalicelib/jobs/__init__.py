"""Blueprints for the asynchronous entry points: stream, queues, schedules."""
