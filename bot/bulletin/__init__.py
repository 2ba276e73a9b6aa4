"""The weekly TBT bulletin: items, ePing import, rendering, delivery."""
