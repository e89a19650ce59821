"""Action tests in the rasa-sdk style (Tracker, CollectingDispatcher, fake services): may import anything."""
