"""HTTP handlers, one module per resource family. Thin: parse -> call -> serialise."""
