//! Graph views of a model: JSON nodes/edges, SVG, DOT (not built yet).
