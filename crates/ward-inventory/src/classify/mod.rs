//! Classification rules: see the module to come.
