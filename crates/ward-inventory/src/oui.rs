//! IEEE registries.
