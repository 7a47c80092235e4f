//! Every test binary of this workspace runs where only loopback exists.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

#[test]
fn the_only_interface_is_loopback() {
    let ifaces = netns_check::interfaces().expect("read /proc/self/net/dev");
    assert_eq!(
        ifaces,
        vec!["lo".to_string()],
        "test binaries must run in a namespace with only lo"
    );
}

#[test]
fn there_is_no_route_off_the_machine() {
    // connect() on a UDP socket only picks a route; it sends nothing, so this is safe anywhere.
    // 192.0.2.1 is TEST-NET-1 (RFC 5737), never a real host.
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind");
    let err = socket
        .connect(SocketAddr::from(([192, 0, 2, 1], 9)))
        .expect_err("a route off this machine exists");
    assert_eq!(err.raw_os_error(), Some(libc_enetunreach()), "{err}");
}

#[test]
fn loopback_is_up_and_works() {
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a");
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind b");
    a.send_to(b"ping", b.local_addr().unwrap())
        .expect("send on lo");
    let mut buf = [0u8; 4];
    let (n, from) = b.recv_from(&mut buf).expect("receive on lo");
    assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
}

/// ENETUNREACH on Linux.
fn libc_enetunreach() -> i32 {
    101
}
