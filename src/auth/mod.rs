//! Authentication: password hashing, session tokens and CSRF tokens.
//!
//! Sessions are server-side. The browser holds a random token in an HttpOnly, SameSite
//! cookie; the database holds only its SHA-256, so a leaked database copy opens no session.
//! Cookie-authenticated writes must also echo the session's CSRF token in `X-CSRF-Token`.

pub mod password;
pub mod session;
pub mod throttle;
