"""Transactional and marketing emails: rendering (templates/) and SES sending."""
