"""BaoDan (爆单): ERP/OMS for live-stream e-commerce merchants."""

__version__ = "0.1.0"
