"""Self-service onboarding for emergency-services organizations: the wizard's backend."""
