//! FTP control connections: the server's banner and system type, and logins sent in
//! cleartext, judged as credentials (anonymous, a known default, or merely cleartext) with
//! whether the server took them. `AUTH TLS` ends the reading: what follows is encrypted.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use ward_core::{DeviceKey, Direction, Observation, ObservationKind};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, credentials};

/// The FTP dissector.
pub struct FtpDissector;

/// Longest command or reply line.
const MAX_LINE: usize = 2048;
/// Commands read before the connection has told all it will.
const MAX_COMMANDS: usize = 64;

/// Commands that start an FTP session from the client's side.
const OPENING: [&[u8]; 5] = [b"USER ", b"AUTH ", b"FEAT", b"SYST", b"OPTS "];

impl Dissector for FtpDissector {
    fn name(&self) -> &'static str {
        "ftp"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        let Some(eol) = data.iter().position(|b| *b == b'\n') else {
            return if data.len() < 512
                && data.iter().all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r')
            {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            };
        };
        let line = &data[..eol];
        match dir {
            // SMTP greets with 220 too: the banner counts only when it says FTP.
            Direction::ToInitiator => {
                let upper = line.to_ascii_uppercase();
                let greeting = line.starts_with(b"220 ") || line.starts_with(b"220-");
                if greeting && upper.windows(3).any(|w| w == b"FTP") { Probe::Match } else { Probe::NoMatch }
            }
            Direction::ToResponder => {
                let upper = line.to_ascii_uppercase();
                if OPENING.iter().any(|c| upper.starts_with(c)) { Probe::Match } else { Probe::NoMatch }
            }
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(FtpSession::default())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    User,
    Pass,
    AuthTls,
    Syst,
    Other,
}

#[derive(Default)]
struct FtpSession {
    /// Commands whose replies are awaited, oldest first.
    awaited: VecDeque<Command>,
    /// The greeting's last line has been read.
    greeted: bool,
    /// The banner was reported (a multi-line greeting's first line names the server).
    banner: bool,
    /// The user name given, held only until its password is judged.
    user: Option<String>,
    /// The judged login, waiting for the reply to PASS.
    login: Option<Observation>,
    /// A multi-line reply is open with this code.
    multiline: Option<[u8; 3]>,
    commands: usize,
    repeats: Repeats,
}

/// Splits off whole lines; returns (lines, bytes used), or `None` for an overlong line.
fn lines(data: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let mut out = Vec::new();
    let mut used = 0;
    while let Some(eol) = data[used..].iter().position(|b| *b == b'\n') {
        let line = &data[used..used + eol];
        out.push(line.strip_suffix(b"\r").unwrap_or(line));
        used += eol + 1;
    }
    if data.len() - used > MAX_LINE {
        return None;
    }
    Some((out, used))
}

impl FtpSession {
    fn command(&mut self, ctx: &FlowContext, line: &[u8]) {
        self.commands += 1;
        let text = String::from_utf8_lossy(line);
        let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
        let cmd = match verb.to_ascii_uppercase().as_str() {
            "USER" => {
                self.user = Some(arg.to_owned());
                Command::User
            }
            "PASS" => {
                let user = self.user.take().unwrap_or_default();
                let server = DeviceKey::Ip(ctx.responder.ip);
                self.login =
                    Some(credentials::observation(ctx.ts, server, "ftp", &user, arg, None, "ftp.pass"));
                Command::Pass
            }
            "AUTH" => Command::AuthTls,
            "SYST" => Command::Syst,
            _ => Command::Other,
        };
        self.awaited.push_back(cmd);
    }

    /// A final reply line; returns `true` when the connection turns to TLS.
    fn reply(&mut self, ctx: &FlowContext, code: &[u8], text: &str, out: &mut Emitter<'_>) -> bool {
        let server = DeviceKey::Ip(ctx.responder.ip);
        // Preliminary replies (1xx) are followed by another.
        if code[0] == b'1' {
            return false;
        }
        if !self.greeted && code == b"220" {
            self.greeted = true;
            if !self.banner {
                self.banner = true;
                self.repeats.attribute(out, ctx.ts, server, "server", text, "ftp.banner", 60);
            }
            return false;
        }
        match self.awaited.pop_front() {
            Some(Command::Pass) | Some(Command::User)
                if code == b"230" || code == b"530" || code[0] == b'4' || code[0] == b'5' =>
            {
                if let Some(mut o) = self.login.take() {
                    if let ObservationKind::Credential { accepted, .. } = &mut o.kind {
                        *accepted = Some(code == b"230");
                    }
                    out.emit(o);
                }
                // A USER refused outright ends that attempt.
                self.user = None;
            }
            Some(Command::Syst) if code[0] == b'2' => {
                self.repeats.attribute(out, ctx.ts, server, "ftp_system", text, "ftp.syst", 60);
            }
            Some(Command::AuthTls) if code == b"234" => return true,
            _ => {}
        }
        false
    }
}

impl Session for FtpSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let Some((lines, used)) = lines(data) else { return Parsed::Malformed("ftp line too long") };
        for line in lines {
            if dir == Direction::ToResponder {
                if !line.is_empty() {
                    self.command(ctx, line);
                }
                continue;
            }
            // Replies: "ddd text" ends a reply, "ddd-text" opens a multi-line one whose
            // other lines are free text until "ddd text".
            let code: Option<[u8; 3]> = line
                .get(..3)
                .and_then(|c| c.try_into().ok())
                .filter(|c: &[u8; 3]| c.iter().all(u8::is_ascii_digit));
            let sep = line.get(3).copied();
            match (self.multiline, code) {
                (Some(open), Some(c)) if c == open && sep != Some(b'-') => {
                    self.multiline = None;
                    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
                    if self.reply(ctx, &c, &text, out) {
                        return Parsed::Done;
                    }
                }
                (Some(_), _) => {}
                (None, Some(c)) if sep == Some(b'-') => {
                    self.multiline = Some(c);
                    // A multi-line greeting's first line names the server.
                    if !self.banner && &c == b"220" {
                        let text = String::from_utf8_lossy(&line[4..]).into_owned();
                        self.banner = true;
                        self.repeats.attribute(
                            out,
                            ctx.ts,
                            DeviceKey::Ip(ctx.responder.ip),
                            "server",
                            &text,
                            "ftp.banner",
                            60,
                        );
                    }
                }
                (None, Some(c)) => {
                    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
                    if self.reply(ctx, &c, &text, out) {
                        return Parsed::Done;
                    }
                }
                (None, None) => return Parsed::Malformed("not an ftp reply"),
            }
        }
        if self.commands > MAX_COMMANDS && self.login.is_none() {
            return Parsed::Done;
        }
        Parsed::Consumed(used)
    }

    fn end(&mut self, _ctx: &FlowContext, out: &mut Emitter<'_>) {
        if let Some(o) = self.login.take() {
            out.emit(o);
        }
    }
}
