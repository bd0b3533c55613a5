//! Placeholder until the rules land: classifies nothing.
use ward_core::Fact;
/// Rules.
#[derive(Default)]
pub struct Rules;
impl Rules {
    /// None.
    pub fn builtin() -> Rules {
        Rules
    }
    /// Derived facts.
    pub fn classify(&self, _facts: &[Fact]) -> Vec<Fact> {
        Vec::new()
    }
}
