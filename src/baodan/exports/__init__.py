"""Exports: large reads that leave the system (CSV), guarded: permission, daily cap, watermark, audit."""
