//! Identity: accounts, passwords, access tokens and who is calling.
pub mod access;
pub mod login;
pub mod passwords;
pub mod principal;
pub mod throttle;
pub mod tokens;
pub mod users;
