"""Storage for the funnel: one interface, one backend per database engine."""
