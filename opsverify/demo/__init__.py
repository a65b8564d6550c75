"""The embedded demo: a local deployment modelled on the EmailOps guide, checked by targets/demo.yaml."""
