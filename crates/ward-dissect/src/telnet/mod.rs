//! Telnet: the banner a device prints before its login prompt, and logins typed in
//! cleartext, judged as credentials (a known default or merely cleartext) with whether the
//! device let the user in. Option negotiation is stripped; keystrokes are assembled into
//! lines the way a terminal would (backspace, CR LF, CR NUL).
//!
//! The user name and password exist only inside this session, only until the login is
//! judged; the judgement is all that leaves.

#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction, Observation, ObservationKind};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport, attribute, credentials};

/// The Telnet dissector.
pub struct TelnetDissector;

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
/// Server text kept to look for prompts and verdicts.
const MAX_SCREEN: usize = 2048;
/// Longest typed line kept.
const MAX_INPUT: usize = 256;
/// Server bytes read without a prompt or a verdict before the connection has told all it
/// will.
const MAX_QUIET: usize = 16 * 1024;

impl Dissector for TelnetDissector {
    fn name(&self) -> &'static str {
        "telnet"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        // Negotiation opens nearly every session: IAC followed by WILL, WONT, DO or DONT.
        match data {
            [] | [IAC] => Probe::NeedMore,
            [IAC, 251..=254, ..] => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(TelnetSession::default())
    }
}

/// What the client's next line is, by the last prompt the server printed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Expect {
    #[default]
    Nothing,
    User,
    Password,
}

#[derive(Default)]
struct TelnetSession {
    /// Where each direction is in a negotiation sequence.
    iac: [IacState; 2],
    /// Recent server text, negotiation stripped.
    screen: String,
    /// The banner was reported.
    banner: bool,
    /// The line the client is typing.
    typing: Vec<u8>,
    expect: Expect,
    user: Option<String>,
    /// A judged login waiting for the device's verdict.
    login: Option<Observation>,
    /// Server bytes since the last prompt or verdict: a long session with neither has told
    /// all it will.
    quiet: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum IacState {
    #[default]
    Data,
    Iac,
    /// After WILL/WONT/DO/DONT: one option byte.
    Option,
    /// Inside a subnegotiation, until IAC SE.
    Sub,
    SubIac,
}

/// Strips negotiation from `data`, carrying state across calls.
fn strip(state: &mut IacState, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &b in data {
        *state = match (*state, b) {
            (IacState::Data, IAC) => IacState::Iac,
            (IacState::Data, _) => {
                out.push(b);
                IacState::Data
            }
            (IacState::Iac, IAC) => {
                out.push(IAC);
                IacState::Data
            }
            (IacState::Iac, 251..=254) => IacState::Option,
            (IacState::Iac, SB) => IacState::Sub,
            (IacState::Iac, _) | (IacState::Option, _) => IacState::Data,
            (IacState::Sub, IAC) => IacState::SubIac,
            (IacState::Sub, _) => IacState::Sub,
            (IacState::SubIac, SE) => IacState::Data,
            (IacState::SubIac, _) => IacState::Sub,
        };
    }
    out
}

fn ends_with_prompt(screen: &str, prompts: &[&str]) -> bool {
    let tail = screen.trim_end();
    prompts.iter().any(|p| tail.ends_with(p))
}

impl TelnetSession {
    fn server_text(&mut self, ctx: &FlowContext, text: &[u8], out: &mut Emitter<'_>) {
        let device = DeviceKey::Ip(ctx.responder.ip);
        self.screen.push_str(&String::from_utf8_lossy(text));
        if self.screen.len() > MAX_SCREEN {
            let cut = self.screen.len() - MAX_SCREEN;
            let cut = (cut..self.screen.len()).find(|i| self.screen.is_char_boundary(*i)).unwrap_or(0);
            self.screen.drain(..cut);
        }
        self.quiet += text.len();
        let lower = self.screen.to_lowercase();
        if self.login.is_some() {
            let s = &lower;
            let refused =
                ["incorrect", "failed", "denied", "invalid", "bad password", "authentication failure"];
            let verdict =
                if refused.iter().any(|r| s.contains(r)) || ends_with_prompt(s, &["login:", "username:"]) {
                    Some(false)
                } else if ends_with_prompt(s, &["$", "#", ">", "%"]) || s.contains("last login") {
                    Some(true)
                } else {
                    None
                };
            if let Some(v) = verdict {
                self.judged(Some(v), out);
            }
        }
        if ends_with_prompt(&lower, &["login:", "username:", "user name:", "user:"]) {
            if !self.banner {
                self.banner = true;
                // The banner: the first line of what came before the first prompt.
                let line = self.screen.lines().map(str::trim).find(|l| !l.is_empty() && !l.ends_with(':'));
                if let Some(o) =
                    line.and_then(|l| attribute(ctx.ts, device, "telnet_banner", l, "telnet.banner", 50))
                {
                    out.emit(o);
                }
            }
            self.expect = Expect::User;
            self.screen.clear();
            self.quiet = 0;
        } else if ends_with_prompt(&lower, &["password:", "passcode:"]) {
            self.expect = Expect::Password;
            self.screen.clear();
            self.quiet = 0;
        }
    }

    fn judged(&mut self, accepted: Option<bool>, out: &mut Emitter<'_>) {
        if let Some(mut o) = self.login.take() {
            if let ObservationKind::Credential { accepted: a, .. } = &mut o.kind {
                *a = accepted;
            }
            out.emit(o);
            self.quiet = 0;
        }
    }

    fn client_keys(&mut self, ctx: &FlowContext, keys: &[u8], out: &mut Emitter<'_>) {
        for &k in keys {
            match k {
                b'\r' | b'\n' => {
                    if k == b'\n' && self.typing.is_empty() {
                        continue;
                    }
                    let line = String::from_utf8_lossy(&std::mem::take(&mut self.typing)).into_owned();
                    self.line(ctx, line, out);
                }
                0 => {}
                8 | 127 => {
                    self.typing.pop();
                }
                _ if self.typing.len() < MAX_INPUT => self.typing.push(k),
                _ => {}
            }
        }
    }

    fn line(&mut self, ctx: &FlowContext, line: String, out: &mut Emitter<'_>) {
        match self.expect {
            Expect::User => self.user = Some(line),
            Expect::Password => {
                // A new attempt before the last was judged: the last one's fate is unknown.
                self.judged(None, out);
                let user = self.user.take().unwrap_or_default();
                let device = DeviceKey::Ip(ctx.responder.ip);
                self.login = Some(credentials::observation(
                    ctx.ts,
                    device,
                    "telnet",
                    &user,
                    &line,
                    None,
                    "telnet.login",
                ));
            }
            Expect::Nothing => {}
        }
        self.expect = Expect::Nothing;
    }
}

impl Session for TelnetSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let text = strip(&mut self.iac[dir.index()], data);
        match dir {
            Direction::ToInitiator => self.server_text(ctx, &text, out),
            Direction::ToResponder => self.client_keys(ctx, &text, out),
        }
        if self.login.is_none() && self.expect == Expect::Nothing && self.quiet > MAX_QUIET {
            return Parsed::Done;
        }
        Parsed::Consumed(data.len())
    }

    fn end(&mut self, _ctx: &FlowContext, out: &mut Emitter<'_>) {
        self.judged(None, out);
    }
}
