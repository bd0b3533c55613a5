//! POCT1-A (CLSI POCT1-A2) XML as borrowed bytes: tag names, the `V` attribute that carries
//! every value (`<DEV.serial_id V="0600100736"/>`), and the message types. Not an XML parser:
//! only what a tag says about itself is read, one tag at a time.

use std::borrow::Cow;

/// The message types of the POCT1-A2 device messaging layer (root elements `XXX.Rnn`):
/// hello, device status, observations, events, acknowledgement, request, directive,
/// operator list, end of topic, end of conversation, escape, keep-alive, reagents.
const MESSAGE_TYPES: [&[u8; 3]; 13] =
    [b"HEL", b"DST", b"OBS", b"EVS", b"ACK", b"REQ", b"DTV", b"OPL", b"EOT", b"END", b"ESC", b"KPA", b"RGT"];

/// Whether `name` is a message's root element (`HEL.R01`): returns its three-letter type.
pub(crate) fn message_type(name: &[u8]) -> Option<[u8; 3]> {
    match name {
        [a, b, c, b'.', b'R', d, e] if d.is_ascii_digit() && e.is_ascii_digit() => {
            let t = [*a, *b, *c];
            MESSAGE_TYPES.iter().any(|m| **m == t).then_some(t)
        }
        _ => None,
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The element name of a tag's inside (`DEV.serial_id V="1"/` -> `DEV.serial_id`).
pub(crate) fn tag_name(tag: &[u8]) -> &[u8] {
    let end = tag.iter().position(|b| is_space(*b) || *b == b'/').unwrap_or(tag.len());
    &tag[..end]
}

/// The value of attribute `want` in a tag's inside, raw (entities not yet replaced).
pub(crate) fn attribute<'a>(tag: &'a [u8], want: &[u8]) -> Option<&'a [u8]> {
    let mut rest = tag.get(tag_name(tag).len()..)?;
    loop {
        let start = rest.iter().position(|b| !is_space(*b) && *b != b'/')?;
        rest = &rest[start..];
        let eq = rest.iter().position(|b| *b == b'=')?;
        let name = rest[..eq].trim_ascii();
        rest = rest[eq + 1..].trim_ascii_start();
        let (&quote, after) = rest.split_first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = after.iter().position(|b| *b == quote)?;
        if name == want {
            return Some(&after[..close]);
        }
        rest = &after[close + 1..];
    }
}

/// Text with the five predefined XML entities replaced; other references are kept as sent.
pub(crate) fn unescape(raw: &[u8]) -> Cow<'_, str> {
    let s = String::from_utf8_lossy(raw);
    if !s.contains('&') {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_ref();
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let found = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&apos;", '\'')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
        match found {
            Some((e, c)) => {
                out.push(c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}
