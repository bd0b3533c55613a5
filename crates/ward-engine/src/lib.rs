//! The engine: observations in, inventory and store out.
