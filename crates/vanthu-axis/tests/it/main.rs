//! vanthu-axis against its own local server over loopback.
mod server;
mod tls;
