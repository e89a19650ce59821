"""What the Rasa server loads (channels/, rasa_plugins/): may import rasa and the core, no other face."""
