"""Pure: forecast demand to GPU replicas per capacity type, and the replay simulator."""
