"""Pure: from forecast demand to GPU replicas per capacity type, and the replay simulator. No I/O."""
