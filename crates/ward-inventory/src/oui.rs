//! Placeholder until the registries land.
use ward_core::Mac;
/// A match.
pub struct OuiMatch {
    /// Vendor.
    pub vendor: &'static str,
    /// Registry.
    pub registry: Registry,
}
/// Registry.
#[derive(Clone, Copy)]
pub enum Registry {
    /// MA-L.
    MaL,
}
impl Registry {
    /// Source.
    pub fn source(self) -> &'static str {
        "oui.ma-l"
    }
}
/// Lookup.
pub fn lookup(_mac: Mac) -> Option<OuiMatch> {
    None
}
