"""Rules as data: versioned decision graphs at named hook points (review, routing, carrier)."""
