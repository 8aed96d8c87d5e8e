"""The application layer: store and Octopus clients in, typed results out (see ARCHITECTURE.md)."""
