"""The notebook workflow: ``log_model`` and ``load_model``, the flavors that save and load each
kind of model, and the model card written beside the bytes."""
