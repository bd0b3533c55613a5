//! Vendors from the IEEE registries: which organisation a MAC address block was assigned to.
//!
//! The data is the `oui-data` crate's copy of the IEEE public listings (MA-L, MA-M, MA-S and
//! the older IAB, which is a 36-bit block like MA-S), compiled into a perfect-hash map, so
//! nothing is parsed at run time. The longest assignment wins: MA-M and MA-S blocks are carved
//! out of MA-L blocks registered to "IEEE Registration Authority", and the organisation that
//! owns the small block is the device's maker.
//!
//! Locally administered addresses (often randomised by phones and laptops) and group addresses
//! were never assigned to anyone: they have no vendor.
//!
//! ```
//! use ward_core::Mac;
//! use ward_inventory::oui::{lookup, Registry};
//!
//! let m = lookup("00:1b:63:12:34:56".parse::<Mac>().unwrap()).unwrap();
//! assert_eq!(m.vendor, "Apple, Inc.");
//! assert_eq!(m.registry, Registry::MaL);
//! assert_eq!(m.registry.source(), "oui.ma-l");
//! ```

use std::borrow::Cow;

use ward_core::Mac;

/// Which IEEE registry an assignment comes from; the longer the prefix, the narrower the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Registry {
    /// MA-L: a 24-bit prefix (the classic OUI), 16 M addresses.
    MaL,
    /// MA-M: a 28-bit prefix, 1 M addresses.
    MaM,
    /// MA-S (and the older IAB): a 36-bit prefix, 4,096 addresses.
    MaS,
}

impl Registry {
    /// The evidence source of a vendor found here: `oui.ma-l`, `oui.ma-m` or `oui.ma-s`.
    pub fn source(self) -> &'static str {
        match self {
            Registry::MaL => "oui.ma-l",
            Registry::MaM => "oui.ma-m",
            Registry::MaS => "oui.ma-s",
        }
    }

    /// How many leading bits of the address the assignment covers.
    pub fn prefix_bits(self) -> u8 {
        match self {
            Registry::MaL => 24,
            Registry::MaM => 28,
            Registry::MaS => 36,
        }
    }
}

/// The organisation a MAC address was assigned to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OuiMatch {
    /// The organisation as the IEEE lists it ("Apple, Inc.", "Becton, Dickinson and Company"),
    /// only trimmed and with runs of spaces made one.
    pub vendor: Cow<'static, str>,
    /// The registry of the longest assignment that covers the address.
    pub registry: Registry,
}

/// The vendor of a MAC address by the longest IEEE assignment that covers it; `None` for
/// locally administered and group addresses, and for blocks nobody registered.
pub fn lookup(mac: Mac) -> Option<OuiMatch> {
    if mac.is_locally_administered() || mac.is_multicast() {
        return None;
    }
    // Nine upper-case hex digits are the longest key (MA-S); `oui_data` tries 9, 7, then 6
    // digits of what it is given, and takes upper-case hex without copying it.
    let mut digits = [0u8; 12];
    for (i, byte) in mac.0.iter().enumerate() {
        digits[2 * i] = HEX[usize::from(byte >> 4)];
        digits[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
    }
    let text = std::str::from_utf8(&digits).ok()?;
    let record = oui_data::lookup(text)?;
    let registry = match record.registry() {
        oui_data::Registry::Mal => Registry::MaL,
        oui_data::Registry::Mam => Registry::MaM,
        oui_data::Registry::Mas | oui_data::Registry::Iab => Registry::MaS,
        // CID prefixes are for locally administered addresses, refused above.
        oui_data::Registry::Cid => return None,
    };
    let vendor = clean(record.organization());
    if vendor.is_empty() {
        return None;
    }
    Some(OuiMatch { vendor, registry })
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Trims a name and makes every run of white space one space. `oui-data` writes the
/// double spaces some IEEE entries have ("Becton, Dickinson  and Company") as line breaks.
fn clean(name: &'static str) -> Cow<'static, str> {
    let name = name.trim();
    let tidy = !name.contains(|c: char| c.is_whitespace() && c != ' ') && !name.contains("  ");
    if tidy {
        return Cow::Borrowed(name);
    }
    Cow::Owned(name.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> Mac {
        s.parse().unwrap_or(Mac::ZERO)
    }

    #[test]
    fn ma_l_vendor() {
        let m = lookup(mac("00:1b:63:01:02:03")).unwrap();
        assert_eq!((m.vendor.as_ref(), m.registry), ("Apple, Inc.", Registry::MaL));
        assert_eq!(m.registry.source(), "oui.ma-l");
        // A medical maker, as the IEEE spells it.
        let m = lookup(mac("00:12:21:aa:bb:cc")).unwrap();
        assert_eq!(m.vendor, "B.Braun Melsungen AG");
    }

    #[test]
    fn double_spaces_become_one() {
        // The IEEE lists "Becton, Dickinson  and Company" with two spaces.
        let m = lookup(mac("9c:c8:ae:00:00:01")).unwrap();
        assert_eq!(m.vendor, "Becton, Dickinson and Company");
        assert!(!m.vendor.contains('\n'));
    }

    #[test]
    fn ma_m_wins_over_its_ma_l_block() {
        // 74:1A:E0 is an MA-L block of the IEEE Registration Authority, carved into MA-M.
        let outer = lookup(mac("74:1a:e0:f0:00:00")).unwrap();
        assert_eq!(outer.vendor, "IEEE Registration Authority");
        let m = lookup(mac("74:1a:e0:31:00:01")).unwrap();
        assert_eq!((m.vendor.as_ref(), m.registry), ("Philips Personal Health Solutions", Registry::MaM));
        assert_eq!(m.registry.source(), "oui.ma-m");
    }

    #[test]
    fn ma_s_wins_over_its_ma_l_block() {
        // 70:B3:D5 is the IEEE Registration Authority's MA-S pool; 70:B3:D5:F2:F is one block.
        let m = lookup(mac("70:b3:d5:f2:f1:23")).unwrap();
        assert_eq!((m.vendor.as_ref(), m.registry), ("TELEPLATFORMS", Registry::MaS));
        assert_eq!(m.registry.source(), "oui.ma-s");
        // An IAB (the MA-S's predecessor) counts as a 36-bit block too.
        let m = lookup(mac("00:50:c2:7d:51:00")).unwrap();
        assert_eq!((m.vendor.as_ref(), m.registry), ("DEUTA-WERKE GmbH", Registry::MaS));
    }

    #[test]
    fn local_and_group_addresses_have_no_vendor() {
        // The Apple prefix with the locally administered bit set, as a randomised MAC has.
        assert_eq!(lookup(mac("02:1b:63:01:02:03")), None);
        assert_eq!(lookup(mac("da:a1:19:00:00:01")), None);
        assert_eq!(lookup(mac("01:00:5e:00:00:fb")), None);
        assert_eq!(lookup(Mac::BROADCAST), None);
    }

    #[test]
    fn unassigned_block_has_no_vendor() {
        // Most of FC:xx:xy is unassigned: at least one of these universally administered
        // prefixes must find nobody.
        let missing = (0u32..0x1000)
            .map(|i| Mac([0xfc, (i >> 4) as u8, (i << 4) as u8, 0, 0, 0]))
            .any(|m| lookup(m).is_none());
        assert!(missing);
    }
}
