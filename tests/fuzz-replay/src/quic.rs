//! QUIC packet handling of a listening `Endpoint`, in both quinn-proto forks.
//!
//! A node hands every UDP datagram it receives to `Endpoint::handle`. The target does that with
//! a sequence of datagrams from one remote address, through public API only: a new connection is
//! accepted, refused, retried or ignored (the input's first byte chooses), datagrams for an
//! accepted connection go to `Connection::handle_event`, and whatever the connection then wants
//! (transmits, endpoint events, timers) is run, as quinn's driver does. Upstream's fuzz targets
//! reach the packet and frame decoders directly through `cfg(fuzzing)` internals; those are not
//! compiled on stable, so this target stays on the public path. Packets are encrypted: beyond the
//! header decoding and the Initial of a seed, mutations mostly end at packet authentication.
//!
//! Input: one flags byte (bits 0-1: what to do with a new connection, bit 2: IPv6 remote,
//! bit 3: ECN CE), then datagrams, each a big-endian u16 length and its bytes (a short last one
//! takes what is left).

/// Datagrams read from one input.
const MAX_DATAGRAMS: usize = 16;
/// Rounds of each drain loop: a connection that keeps asking is cut off here, not hung.
const MAX_ROUNDS: usize = 64;

/// Splits an input into its flags and datagrams.
fn datagrams(data: &[u8]) -> Option<(u8, Vec<&[u8]>)> {
    let (&flags, mut rest) = data.split_first()?;
    let mut out = Vec::new();
    while rest.len() >= 2 && out.len() < MAX_DATAGRAMS {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let body = &rest[2..];
        let take = len.min(body.len());
        out.push(&body[..take]);
        rest = &body[take..];
    }
    Some((flags, out))
}

/// Frames datagrams as the target reads them.
fn frame(flags: u8, datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![flags];
    for datagram in datagrams {
        out.extend_from_slice(&(datagram.len() as u16).to_be_bytes());
        out.extend_from_slice(datagram);
    }
    out
}

macro_rules! endpoint_target {
    ($module:ident, $quinn:ident) => {
        pub mod $module {
            use std::collections::HashMap;
            use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
            use std::sync::{Arc, OnceLock};
            use std::time::{Duration, Instant};

            use bytes::BytesMut;
            use $quinn::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
            use $quinn::{
                ClientConfig, Connection, ConnectionHandle, DatagramEvent, EcnCodepoint, Endpoint,
                EndpointConfig, ServerConfig,
            };

            use super::{datagrams, frame, MAX_ROUNDS};

            struct Certified {
                cert: CertificateDer<'static>,
                server: Arc<ServerConfig>,
            }

            /// A self-signed certificate and the server config using it, made once: key
            /// generation would otherwise dominate every run.
            fn certified() -> &'static Certified {
                static CERTIFIED: OnceLock<Certified> = OnceLock::new();
                CERTIFIED.get_or_init(|| {
                    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])
                        .expect("self-signed certificate");
                    let cert = certified.cert.der().clone();
                    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                        certified.key_pair.serialize_der(),
                    ));
                    let server = ServerConfig::with_single_cert(vec![cert.clone()], key)
                        .expect("server config");
                    Certified {
                        cert,
                        server: Arc::new(server),
                    }
                })
            }

            fn endpoint(server: bool) -> Endpoint {
                Endpoint::new(
                    Arc::new(EndpointConfig::default()),
                    server.then(|| certified().server.clone()),
                    true,
                    Some([0; 32]),
                )
            }

            /// Runs what `connection` wants until it wants nothing more (or the round limit).
            fn drive(
                endpoint: &mut Endpoint,
                handle: ConnectionHandle,
                connection: &mut Connection,
                now: Instant,
                buf: &mut Vec<u8>,
            ) {
                for _ in 0..MAX_ROUNDS {
                    let mut busy = false;
                    while let Some(event) = connection.poll_endpoint_events() {
                        busy = true;
                        if let Some(event) = endpoint.handle_event(handle, event) {
                            connection.handle_event(event);
                        }
                    }
                    buf.clear();
                    if connection.poll_transmit(now, 1, buf).is_some() {
                        busy = true;
                    }
                    while connection.poll().is_some() {
                        busy = true;
                    }
                    if !busy {
                        break;
                    }
                }
            }

            /// Feeds the input's datagrams to a listening endpoint.
            pub fn fuzz(data: &[u8]) {
                let Some((flags, datagrams)) = datagrams(data) else {
                    return;
                };
                let remote = if flags & 0b100 == 0 {
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 4433)
                } else {
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd, 0, 0, 0, 0, 0, 0, 2)), 4433)
                };
                let ecn = (flags & 0b1000 != 0).then_some(EcnCodepoint::Ce);
                let mut endpoint = endpoint(true);
                let mut connections: HashMap<ConnectionHandle, Connection> = HashMap::new();
                let mut buf = Vec::new();
                let mut now = Instant::now();

                for datagram in datagrams {
                    now += Duration::from_millis(10);
                    let event =
                        endpoint.handle(now, remote, None, ecn, BytesMut::from(datagram), &mut buf);
                    match event {
                        Some(DatagramEvent::NewConnection(incoming)) => match flags & 0b11 {
                            0 => {
                                if let Ok((handle, connection)) =
                                    endpoint.accept(incoming, now, &mut buf, None)
                                {
                                    connections.insert(handle, connection);
                                }
                            }
                            1 => {
                                let _refusal = endpoint.refuse(incoming, &mut buf);
                            }
                            2 => {
                                if let Err(err) = endpoint.retry(incoming, &mut buf) {
                                    endpoint.ignore(err.into_incoming());
                                }
                            }
                            _ => endpoint.ignore(incoming),
                        },
                        Some(DatagramEvent::ConnectionEvent(handle, event)) => {
                            if let Some(connection) = connections.get_mut(&handle) {
                                connection.handle_event(event);
                            }
                        }
                        Some(DatagramEvent::Response(_)) | None => {}
                    }
                    for (handle, connection) in connections.iter_mut() {
                        drive(&mut endpoint, *handle, connection, now, &mut buf);
                    }
                }

                // The timers the input left armed: loss detection, idle timeout, draining.
                for (handle, connection) in connections.iter_mut() {
                    for _ in 0..MAX_ROUNDS {
                        let Some(at) = connection.poll_timeout() else {
                            break;
                        };
                        now = now.max(at);
                        connection.handle_timeout(now);
                        drive(&mut endpoint, *handle, connection, now, &mut buf);
                    }
                }
            }

            /// A client's first flight towards the endpoint, under each way of treating it.
            pub fn seeds() -> Vec<Vec<u8>> {
                let mut roots = $quinn::rustls::RootCertStore::empty();
                roots
                    .add(certified().cert.clone())
                    .expect("own certificate is a root");
                let client_config =
                    ClientConfig::with_root_certificates(Arc::new(roots)).expect("client config");
                let mut client = endpoint(false);
                let server = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4433);
                let now = Instant::now();
                let (_, mut connection) = client
                    .connect(now, client_config, server, "localhost")
                    .expect("client connects");
                let mut flight = Vec::new();
                let mut buf = Vec::new();
                while let Some(transmit) = connection.poll_transmit(now, 1, &mut buf) {
                    flight.push(buf[..transmit.size].to_vec());
                    buf.clear();
                }
                let mut seeds: Vec<Vec<u8>> = (0..4u8).map(|flags| frame(flags, &flight)).collect();
                let twice: Vec<Vec<u8>> = flight.iter().chain(&flight).cloned().collect();
                seeds.push(frame(0b1100, &twice));
                seeds
            }
        }
    };
}

endpoint_target!(quinn, quinn_proto);
endpoint_target!(iroh_quinn, iroh_quinn_proto);

/// Feeds datagrams to a listening endpoint of the quinn-proto fork (0.11).
pub fn fuzz_quinn_endpoint(data: &[u8]) {
    quinn::fuzz(data)
}

/// Feeds datagrams to a listening endpoint of the iroh-quinn-proto fork (0.13).
pub fn fuzz_iroh_quinn_endpoint(data: &[u8]) {
    iroh_quinn::fuzz(data)
}

/// Seeds of `quinn_endpoint`.
pub fn quinn_seeds() -> Vec<Vec<u8>> {
    quinn::seeds()
}

/// Seeds of `iroh_quinn_endpoint`.
pub fn iroh_quinn_seeds() -> Vec<Vec<u8>> {
    iroh_quinn::seeds()
}
