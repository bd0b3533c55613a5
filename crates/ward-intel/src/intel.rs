//! Every feed's indicators together: one immutable [`Snapshot`] per version of the feeds,
//! swapped whole by [`Intel`] so that a reader never waits for a refresh.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::domain::{self, MAX_NAME};
use crate::formats::IndicatorValue;
use crate::net;
use crate::set::{FeedSet, NONE, NameTable, RangeTable, Span};

/// What kind of value an indicator names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// An address or network.
    Ip,
    /// A domain (and the names under it).
    Domain,
    /// A URL.
    Url,
}

/// A lookup that found a listed value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The feed that lists it.
    pub feed: Arc<str>,
    /// The indicator's id: the STIX id, or the listed value itself.
    pub indicator: String,
    /// The listed value that matched (the network, the domain, the URL).
    pub value: String,
    /// 0-100.
    pub confidence: u8,
    /// What the listed value is.
    pub kind: IndicatorKind,
}

/// A hit without its texts: which feed and which of its indicators. `Copy`, so the hot
/// path allocates nothing; [`Snapshot::hit`] turns it into a [`Hit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HitRef {
    /// The feed's position in [`Snapshot::feeds`].
    pub feed: u16,
    /// The indicator's position in that feed's [`FeedSet::indicators`].
    pub indicator: u32,
}

#[derive(Clone, Copy, Debug)]
struct Link {
    hit: HitRef,
    /// The next hit for the same value: the network around this one, or another feed's
    /// (or another indicator's) listing of the same name.
    parent: u32,
}

/// The indicator sets of one version of every feed. Immutable; built in one go.
#[derive(Debug, Default)]
pub struct Snapshot {
    feeds: Vec<Arc<FeedSet>>,
    /// Links are numbered feed by feed, indicator by indicator: `offsets[f]` is feed `f`'s
    /// first, so a link names its hit without reading `links` (one cache miss less).
    offsets: Vec<u32>,
    links: Vec<Link>,
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
    names: NameTable,
    urls: HashMap<Box<str>, u32>,
}

/// Most feeds in one snapshot.
pub const MAX_FEEDS: usize = u16::MAX as usize;

impl Snapshot {
    /// Builds the sets of these feeds. Feeds beyond [`MAX_FEEDS`] are left out.
    pub fn build(mut feeds: Vec<Arc<FeedSet>>) -> Snapshot {
        feeds.truncate(MAX_FEEDS);
        let mut links: Vec<Link> = Vec::new();
        let mut offsets: Vec<u32> = Vec::with_capacity(feeds.len());
        let mut v4: Vec<(Span, u8)> = Vec::new();
        let mut v6: Vec<(Span, u8)> = Vec::new();
        let mut names: Vec<(u8, u32)> = Vec::new(); // confidence, link
        let mut urls: Vec<(u8, u32)> = Vec::new();
        for (f, feed) in feeds.iter().enumerate() {
            offsets.push(links.len() as u32);
            for (i, ind) in feed.indicators.iter().enumerate() {
                let Ok(link) = u32::try_from(links.len()) else { break };
                if link == NONE {
                    break;
                }
                links.push(Link { hit: HitRef { feed: f as u16, indicator: i as u32 }, parent: NONE });
                match &ind.value {
                    IndicatorValue::Net(n) => {
                        let (start, end) = net::bounds(n);
                        let span = (Span { start, end, link }, ind.confidence);
                        if matches!(n, ipnet::IpNet::V4(_)) { v4.push(span) } else { v6.push(span) }
                    }
                    IndicatorValue::Domain(_) => names.push((ind.confidence, link)),
                    IndicatorValue::Url(_) => urls.push((ind.confidence, link)),
                }
            }
        }
        let mut parent: Vec<u32> = vec![NONE; links.len()];
        // Widest first at one start; among equal networks the most confident last (it ends
        // on top and answers first), then the earlier feed and indicator.
        let order = |a: &(Span, u8), b: &(Span, u8)| {
            a.0.start
                .cmp(&b.0.start)
                .then(b.0.end.cmp(&a.0.end))
                .then(a.1.cmp(&b.1))
                .then(b.0.link.cmp(&a.0.link))
        };
        v4.sort_unstable_by(order);
        v6.sort_unstable_by(order);
        let spans4: Vec<Span> = v4.into_iter().map(|(s, _)| s).collect();
        let spans6: Vec<Span> = v6.into_iter().map(|(s, _)| s).collect();
        let v4 = RangeTable::build(&spans4, &mut parent);
        let v6 = RangeTable::build(&spans6, &mut parent);
        drop((spans4, spans6));
        // Names and URLs: the most confident listing on top of the others.
        names.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        urls.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut table = NameTable::default();
        fn value<'a>(feeds: &'a [Arc<FeedSet>], l: &Link) -> Option<&'a str> {
            match &feeds[l.hit.feed as usize].indicators[l.hit.indicator as usize].value {
                IndicatorValue::Domain(d) | IndicatorValue::Url(d) => Some(d),
                IndicatorValue::Net(_) => None,
            }
        }
        for &(_, link) in &names {
            let Some(name) = value(&feeds, &links[link as usize]) else { continue };
            match table.insert(name.as_bytes(), link) {
                Ok(Some(below)) => parent[link as usize] = below,
                Ok(None) => {}
                Err(()) => break,
            }
        }
        let mut url_map: HashMap<Box<str>, u32> = HashMap::new();
        for &(_, link) in &urls {
            let Some(url) = value(&feeds, &links[link as usize]) else { continue };
            if let Some(below) = url_map.insert(Box::from(url), link) {
                parent[link as usize] = below;
            }
        }
        for (l, p) in links.iter_mut().zip(parent) {
            l.parent = p;
        }
        Snapshot { feeds, offsets, links, v4, v6, names: table, urls: url_map }
    }

    /// The feeds, in the order hits name them by position.
    pub fn feeds(&self) -> &[Arc<FeedSet>] {
        &self.feeds
    }

    /// Indicators held, over every feed.
    pub fn indicators(&self) -> usize {
        self.links.len()
    }

    /// The hit a link stands for, from the feeds' offsets alone.
    #[inline]
    fn hit_of(&self, link: u32) -> HitRef {
        let f = self.offsets.partition_point(|&o| o <= link).saturating_sub(1);
        HitRef { feed: f as u16, indicator: link - self.offsets.get(f).copied().unwrap_or(0) }
    }

    /// The most specific (then most confident) indicator listing `ip`, without allocating.
    #[inline]
    pub fn match_ip(&self, ip: IpAddr) -> Option<HitRef> {
        let link = match net::canonical(ip) {
            IpAddr::V4(a) => self.v4.get(u32::from(a)),
            IpAddr::V6(a) => self.v6.get(u128::from(a)),
        }?;
        Some(self.hit_of(link))
    }

    /// The indicator listing `name` or the nearest name above it (`a.b.evil.example` is
    /// under `evil.example`), without allocating. Case and a trailing dot do not matter.
    #[inline]
    pub fn match_domain(&self, name: &str) -> Option<HitRef> {
        let link = self.domain_link(name)?;
        Some(self.hit_of(link))
    }

    fn domain_link(&self, name: &str) -> Option<u32> {
        if self.names.len() == 0 {
            return None;
        }
        let mut buf = [0u8; MAX_NAME + 1];
        let key = domain::lookup_key(name, &mut buf)?;
        let mut rest = key;
        // Every suffix that still has a dot (single labels are never listed).
        loop {
            if let Some(link) = self.names.get(rest) {
                return Some(link);
            }
            let dot = rest.iter().position(|&c| c == b'.')?;
            rest = &rest[dot + 1..];
            if !rest.contains(&b'.') {
                return None;
            }
        }
    }

    fn domain_links(&self, name: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut buf = [0u8; MAX_NAME + 1];
        let Some(key) = domain::lookup_key(name, &mut buf) else { return out };
        let mut rest = key;
        loop {
            if let Some(link) = self.names.get(rest) {
                out.push(link);
            }
            let Some(dot) = rest.iter().position(|&c| c == b'.') else { break };
            rest = &rest[dot + 1..];
        }
        out
    }

    /// The indicator listing exactly this URL (normalised as feeds' URLs are).
    pub fn match_url(&self, url: &str) -> Option<HitRef> {
        let norm = domain::normalize_url(url)?;
        self.urls.get(norm.as_str()).map(|&l| self.hit_of(l))
    }

    /// A hit with its texts.
    pub fn hit(&self, h: HitRef) -> Option<Hit> {
        let feed = self.feeds.get(usize::from(h.feed))?;
        let ind = feed.indicators.get(h.indicator as usize)?;
        let (value, kind) = match &ind.value {
            IndicatorValue::Net(n) => (net::network_text(n), IndicatorKind::Ip),
            IndicatorValue::Domain(d) => (d.clone(), IndicatorKind::Domain),
            IndicatorValue::Url(u) => (u.clone(), IndicatorKind::Url),
        };
        Some(Hit {
            feed: feed.name.clone(),
            indicator: ind.id.clone().unwrap_or_else(|| value.clone()),
            value,
            confidence: ind.confidence,
            kind,
        })
    }

    fn chain(&self, mut link: u32, out: &mut Vec<Hit>) {
        // Parents point outwards and are built acyclic; the bound guards the invariant.
        let mut steps = 0;
        while link != NONE && steps <= self.links.len() {
            let l = self.links[link as usize];
            out.extend(self.hit(l.hit));
            link = l.parent;
            steps += 1;
        }
    }

    /// The most specific (then most confident) indicator listing `ip`.
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<Hit> {
        self.match_ip(ip).and_then(|h| self.hit(h))
    }

    /// Every indicator listing `ip`, the most specific first.
    pub fn lookup_ip_all(&self, ip: IpAddr) -> Vec<Hit> {
        let mut out = Vec::new();
        let link = match net::canonical(ip) {
            IpAddr::V4(a) => self.v4.get(u32::from(a)),
            IpAddr::V6(a) => self.v6.get(u128::from(a)),
        };
        if let Some(l) = link {
            self.chain(l, &mut out);
        }
        out
    }

    /// The nearest listed name at or above `name`.
    pub fn lookup_domain(&self, name: &str) -> Option<Hit> {
        self.match_domain(name).and_then(|h| self.hit(h))
    }

    /// Every indicator listing `name` or a name above it, the nearest first.
    pub fn lookup_domain_all(&self, name: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        for l in self.domain_links(name) {
            self.chain(l, &mut out);
        }
        out
    }

    /// Every indicator listing exactly this URL.
    pub fn lookup_url_all(&self, url: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        if let Some(norm) = domain::normalize_url(url)
            && let Some(&l) = self.urls.get(norm.as_str())
        {
            self.chain(l, &mut out);
        }
        out
    }

    /// Everything listing a value given as text: an address, a URL (itself, and its host),
    /// or a name.
    pub fn lookup_any(&self, value: &str) -> Vec<Hit> {
        let v = value.trim();
        if let Some(ip) = net::parse_addr(v) {
            return self.lookup_ip_all(ip);
        }
        if v.contains("://") {
            let mut out = self.lookup_url_all(v);
            if let Some(host) = domain::url_host(v) {
                match net::parse_addr(host) {
                    Some(ip) => out.extend(self.lookup_ip_all(ip)),
                    None => out.extend(self.lookup_domain_all(host)),
                }
            }
            return out;
        }
        self.lookup_domain_all(v)
    }

    /// Ranges and names held (for sizes).
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (self.v4.len(), self.v6.len(), self.names.len(), self.urls.len())
    }
}

/// The current indicator sets, swapped whole when a feed changes. Lookups load the current
/// [`Snapshot`] (a few nanoseconds, never blocked); a caller matching many values takes
/// [`Intel::snapshot`] once and asks it.
#[derive(Debug)]
pub struct Intel {
    current: ArcSwap<Snapshot>,
    /// Serialises writers, so that two refreshes never lose each other's feed.
    writer: Mutex<()>,
}

impl Default for Intel {
    fn default() -> Intel {
        Intel::new()
    }
}

impl Intel {
    /// No feeds.
    pub fn new() -> Intel {
        Intel { current: ArcSwap::from_pointee(Snapshot::default()), writer: Mutex::new(()) }
    }

    /// The current sets.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Replaces every feed.
    pub fn replace(&self, feeds: Vec<Arc<FeedSet>>) {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.current.store(Arc::new(Snapshot::build(feeds)));
    }

    /// Adds a feed, or replaces the feed of the same name.
    pub fn set_feed(&self, feed: FeedSet) {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let cur = self.current.load();
        let mut feeds: Vec<Arc<FeedSet>> =
            cur.feeds.iter().filter(|f| f.name != feed.name).cloned().collect();
        feeds.push(Arc::new(feed));
        self.current.store(Arc::new(Snapshot::build(feeds)));
    }

    /// Removes a feed by name.
    pub fn remove_feed(&self, name: &str) {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let cur = self.current.load();
        let feeds: Vec<Arc<FeedSet>> = cur.feeds.iter().filter(|f| &*f.name != name).cloned().collect();
        self.current.store(Arc::new(Snapshot::build(feeds)));
    }

    /// See [`Snapshot::lookup_ip`].
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<Hit> {
        self.current.load().lookup_ip(ip)
    }

    /// See [`Snapshot::lookup_ip_all`].
    pub fn lookup_ip_all(&self, ip: IpAddr) -> Vec<Hit> {
        self.current.load().lookup_ip_all(ip)
    }

    /// See [`Snapshot::lookup_domain`].
    pub fn lookup_domain(&self, name: &str) -> Option<Hit> {
        self.current.load().lookup_domain(name)
    }

    /// See [`Snapshot::lookup_domain_all`].
    pub fn lookup_domain_all(&self, name: &str) -> Vec<Hit> {
        self.current.load().lookup_domain_all(name)
    }

    /// See [`Snapshot::lookup_any`].
    pub fn lookup_any(&self, value: &str) -> Vec<Hit> {
        self.current.load().lookup_any(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Format;
    use crate::formats::{ParseOptions, parse};

    fn feed(name: &str, format: Format, text: &str, confidence: u8) -> FeedSet {
        FeedSet::build(
            name,
            parse(format, text.as_bytes(), &ParseOptions { confidence, ..ParseOptions::default() }),
        )
    }

    #[test]
    fn looks_up_over_feeds() {
        let intel = Intel::new();
        intel.set_feed(feed("a", Format::Ip, "45.9.0.0/16\n45.9.20.7\n2a03:2880::/32\n", 50));
        intel.set_feed(feed("b", Format::Ip, "45.9.20.0/24\n45.9.20.7\n", 80));
        intel.set_feed(feed(
            "names",
            Format::Domain,
            "evil.example\nb.evil.example\nhttp://phish.example/login\n",
            60,
        ));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let h = intel.lookup_ip(ip("45.9.20.7")).unwrap();
        assert_eq!((&*h.feed, h.indicator.as_str(), h.confidence), ("b", "45.9.20.7", 80));
        let all: Vec<(String, String)> =
            intel.lookup_ip_all(ip("45.9.20.7")).into_iter().map(|h| (h.feed.to_string(), h.value)).collect();
        assert_eq!(
            all,
            [
                ("b".into(), "45.9.20.7".into()),
                ("a".into(), "45.9.20.7".into()),
                ("b".into(), "45.9.20.0/24".into()),
                ("a".into(), "45.9.0.0/16".into())
            ]
        );
        assert_eq!(intel.lookup_ip(ip("45.9.21.1")).unwrap().value, "45.9.0.0/16");
        assert_eq!(intel.lookup_ip(ip("::ffff:45.9.21.1")).unwrap().value, "45.9.0.0/16");
        assert!(intel.lookup_ip(ip("45.10.0.1")).is_none());
        assert_eq!(intel.lookup_ip(ip("2a03:2880:f003::1")).unwrap().kind, IndicatorKind::Ip);
        let d = intel.lookup_domain("A.B.Evil.Example.").unwrap();
        assert_eq!((d.value.as_str(), d.kind), ("b.evil.example", IndicatorKind::Domain));
        assert_eq!(intel.lookup_domain("x.evil.example").unwrap().value, "evil.example");
        assert_eq!(intel.lookup_domain_all("a.b.evil.example").len(), 2);
        assert!(intel.lookup_domain("evil.example.org").is_none());
        assert!(intel.lookup_domain("notevil.example").is_none());
        assert!(intel.lookup_domain("example").is_none());
        assert!(intel.lookup_domain("").is_none());
        let u = intel.lookup_any("http://PHISH.example/login");
        assert_eq!(u.iter().map(|h| h.kind).collect::<Vec<_>>(), [IndicatorKind::Url, IndicatorKind::Domain]);
        // Replacing a feed drops its old indicators.
        intel.set_feed(feed("b", Format::Ip, "8.8.8.8\n", 80));
        assert_eq!(&*intel.lookup_ip(ip("45.9.20.7")).unwrap().feed, "a");
        intel.remove_feed("a");
        assert!(intel.lookup_ip(ip("45.9.20.7")).is_none());
        assert_eq!(intel.snapshot().feeds().len(), 2);
    }

    #[test]
    fn readers_never_wait_for_a_swap() {
        let intel = Arc::new(Intel::new());
        intel.set_feed(feed("a", Format::Ip, "45.9.20.7\n", 50));
        let reader = {
            let intel = intel.clone();
            std::thread::spawn(move || {
                let ip: IpAddr = "45.9.20.7".parse().unwrap();
                let mut seen = 0;
                for _ in 0..20_000 {
                    seen += usize::from(intel.lookup_ip(ip).is_some());
                }
                seen
            })
        };
        for i in 0..50 {
            intel.set_feed(feed("b", Format::Ip, &format!("8.8.{i}.1\n"), 50));
        }
        // Feed a is in every snapshot: every lookup found it.
        assert_eq!(reader.join().unwrap(), 20_000);
    }
}
