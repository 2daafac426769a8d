"""Model families (one builder module each, registered in tfbench.spec.families) and probes on any Keras model."""
