"""Fulfilment: reserved orders to shipped parcels (review, routing, carriers, waves, pack, ship). The
design is docs/fulfilment.md."""
