//! IPv4/IPv6 CIDR parsing, containment and overlap, and the syntax of Azure
//! service tags, for the rules that check address prefixes and cluster CIDRs.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 or IPv6 network in CIDR notation whose host bits are all zero,
/// which is the only form Azure accepts for route prefixes and AKS CIDRs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix_len: u8,
}

/// Why a string is not an acceptable CIDR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// A bare address such as `10.0.0.0`, with no `/length`.
    MissingPrefixLength,
    /// The part before the `/` is not an IPv4 or IPv6 address.
    InvalidAddress(String),
    /// The part after the `/` is not a number from 0 to `max`.
    InvalidPrefixLength { text: String, max: u8 },
    /// Bits beyond the prefix length are set, as in `10.0.0.1/24`; `network`
    /// is what was probably meant.
    HostBitsSet { network: Cidr },
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidrError::MissingPrefixLength => write!(f, "it has no prefix length"),
            CidrError::InvalidAddress(a) => write!(f, "`{a}` is not an IPv4 or IPv6 address"),
            CidrError::InvalidPrefixLength { text, max } => {
                write!(f, "the prefix length `{text}` is not a number from 0 to {max}")
            }
            CidrError::HostBitsSet { network } => write!(
                f,
                "bits beyond the prefix length are set; the network address for this prefix length is {network}"
            ),
        }
    }
}

/// Bit width of an address family: 32 for IPv4, 128 for IPv6.
fn width(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Rebuilds an address of the same family as `like` from its bits.
fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        // Only the low 32 bits are ever set for IPv4 (masks never widen).
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(u32::MAX))),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// The host part of an address family of `width` bits under `prefix_len`,
/// as a mask of ones.
fn host_mask(prefix_len: u8, width: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(prefix_len));
    if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

impl Cidr {
    /// Parses `address/length` strictly: the address must be IPv4 or IPv6,
    /// the length a decimal number within the family's width, and the host
    /// bits zero (Azure answers `10.0.0.1/24` with InvalidCIDRNotation).
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let Some((addr_text, len_text)) = text.split_once('/') else {
            return match text.parse::<IpAddr>() {
                Ok(_) => Err(CidrError::MissingPrefixLength),
                Err(_) => Err(CidrError::InvalidAddress(text.to_string())),
            };
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| CidrError::InvalidAddress(addr_text.to_string()))?;
        let max = width(addr);
        let bad_len = || CidrError::InvalidPrefixLength { text: len_text.to_string(), max };
        // `u8::from_str` would accept `+8`; only plain digits are CIDR syntax.
        if len_text.is_empty() || len_text.len() > 3 || !len_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_len());
        }
        let prefix_len: u8 = len_text.parse().map_err(|_| bad_len())?;
        if prefix_len > max {
            return Err(bad_len());
        }
        let bits = to_bits(addr);
        let host = host_mask(prefix_len, max);
        if bits & host != 0 {
            let network = Cidr { addr: from_bits(addr, bits & !host), prefix_len };
            return Err(CidrError::HostBitsSet { network });
        }
        Ok(Cidr { addr, prefix_len })
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether this is an IPv4 network.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether this prefix matches every address of its family
    /// (`0.0.0.0/0` or `::/0`), i.e. a default route.
    pub fn is_default_route(&self) -> bool {
        self.prefix_len == 0
    }

    /// The address `offset` places after the network address, if it is
    /// still inside the network (e.g. offset 10 of `10.0.0.0/16` is
    /// `10.0.0.10`, AKS's conventional DNS service IP).
    pub fn nth(&self, offset: u128) -> Option<IpAddr> {
        let host = host_mask(self.prefix_len, width(self.addr));
        (offset <= host).then(|| from_bits(self.addr, to_bits(self.addr) | offset))
    }

    /// Whether `ip` lies inside this network; addresses of the other family
    /// never do.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let host = host_mask(self.prefix_len, width(self.addr));
        to_bits(ip) & !host == to_bits(self.addr)
    }

    /// Whether the two networks share at least one address. Two CIDR blocks
    /// either are disjoint or one contains the other, so comparing under
    /// the shorter prefix is enough.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.is_ipv4() != other.is_ipv4() {
            return false;
        }
        let shorter = self.prefix_len.min(other.prefix_len);
        let host = host_mask(shorter, width(self.addr));
        (to_bits(self.addr) ^ to_bits(other.addr)) & !host == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// Whether `text` is meant as an IP address or CIDR rather than a name:
/// it contains `/` or `:` or starts with a digit. Service tags never do, so
/// this decides which syntax to hold a route prefix to (and which error to
/// report).
pub fn looks_like_address(text: &str) -> bool {
    text.contains('/') || text.contains(':') || text.starts_with(|c: char| c.is_ascii_digit())
}

/// Whether `text` has the syntax of an Azure service tag such as
/// `AzureCloud`, `Storage.WestEurope` or `AzureMonitor`: ASCII letters,
/// digits and dots, starting with a letter, with no empty dot-separated part.
/// Whether the tag exists is left to Azure.
pub fn is_service_tag(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_valid_cidrs() {
        for (text, len, v4) in [
            ("10.0.0.0/8", 8, true),
            ("0.0.0.0/0", 0, true),
            ("203.0.113.7/32", 32, true),
            ("10.240.0.0/16", 16, true),
            ("::/0", 0, false),
            ("fd00::/8", 8, false),
            ("2001:db8::/32", 32, false),
            ("2001:db8::1/128", 128, false),
        ] {
            let c = Cidr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(c.prefix_len(), len, "{text}");
            assert_eq!(c.is_ipv4(), v4, "{text}");
            assert_eq!(c.to_string(), text);
        }
    }

    #[test]
    fn rejects_invalid_cidrs() {
        let cases: &[(&str, CidrError)] = &[
            ("10.0.0.0", CidrError::MissingPrefixLength),
            ("fd00::", CidrError::MissingPrefixLength),
            ("10.0.0/8", CidrError::InvalidAddress("10.0.0".into())),
            ("10.0.0.256/8", CidrError::InvalidAddress("10.0.0.256".into())),
            ("", CidrError::InvalidAddress("".into())),
            ("/8", CidrError::InvalidAddress("".into())),
            (" 10.0.0.0/8", CidrError::InvalidAddress(" 10.0.0.0".into())),
            ("10.0.0.0/33", CidrError::InvalidPrefixLength { text: "33".into(), max: 32 }),
            ("10.0.0.0/", CidrError::InvalidPrefixLength { text: "".into(), max: 32 }),
            ("10.0.0.0/+8", CidrError::InvalidPrefixLength { text: "+8".into(), max: 32 }),
            ("10.0.0.0/-1", CidrError::InvalidPrefixLength { text: "-1".into(), max: 32 }),
            ("10.0.0.0/8/9", CidrError::InvalidPrefixLength { text: "8/9".into(), max: 32 }),
            ("10.0.0.0/99999", CidrError::InvalidPrefixLength { text: "99999".into(), max: 32 }),
            ("10.0.0.0/２", CidrError::InvalidPrefixLength { text: "２".into(), max: 32 }),
            ("fd00::/129", CidrError::InvalidPrefixLength { text: "129".into(), max: 128 }),
            ("fd00::/255", CidrError::InvalidPrefixLength { text: "255".into(), max: 128 }),
            ("fd00::/256", CidrError::InvalidPrefixLength { text: "256".into(), max: 128 }),
        ];
        for (text, want) in cases {
            assert_eq!(Cidr::parse(text).as_ref(), Err(want), "{text}");
        }
    }

    #[test]
    fn host_bits_set_reports_the_network() {
        for (text, network) in [
            ("10.0.0.1/24", "10.0.0.0/24"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("1.2.3.4/0", "0.0.0.0/0"),
            ("192.168.1.129/25", "192.168.1.128/25"),
            ("fd00::1/64", "fd00::/64"),
            ("2001:db8:ffff::/33", "2001:db8:8000::/33"),
            ("::1/0", "::/0"),
        ] {
            match Cidr::parse(text) {
                Err(CidrError::HostBitsSet { network: n }) => {
                    assert_eq!(n.to_string(), network, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let e = Cidr::parse("10.0.0.1/24").unwrap_err();
        assert!(e.to_string().ends_with("is 10.0.0.0/24"), "{e}");
    }

    #[test]
    fn containment() {
        let c = Cidr::parse("10.0.0.0/16").unwrap();
        assert!(c.contains(ip("10.0.0.10")));
        assert!(c.contains(ip("10.0.255.255")));
        assert!(!c.contains(ip("10.1.0.0")));
        assert!(!c.contains(ip("::ffff:10.0.0.10")));
        let all4 = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all4.contains(ip("255.255.255.255")));
        assert!(!all4.contains(ip("::1")));
        let v6 = Cidr::parse("fd00:10::/64").unwrap();
        assert!(v6.contains(ip("fd00:10::a")));
        assert!(!v6.contains(ip("fd00:11::a")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all6 = Cidr::parse("::/0").unwrap();
        assert!(all6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        let host = Cidr::parse("203.0.113.7/32").unwrap();
        assert!(host.contains(ip("203.0.113.7")));
        assert!(!host.contains(ip("203.0.113.8")));
    }

    #[test]
    fn nth_address() {
        let c = Cidr::parse("10.0.0.0/16").unwrap();
        assert_eq!(c.nth(10), Some(ip("10.0.0.10")));
        assert_eq!(c.nth(65535), Some(ip("10.0.255.255")));
        assert_eq!(c.nth(65536), None);
        assert_eq!(Cidr::parse("10.0.0.8/29").unwrap().nth(10), None);
        assert_eq!(Cidr::parse("fd00:10::/108").unwrap().nth(10), Some(ip("fd00:10::a")));
        assert_eq!(Cidr::parse("::/0").unwrap().nth(u128::MAX), Some(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().nth(u128::from(u32::MAX) + 1), None);
    }

    #[test]
    fn overlap() {
        let cases = [
            ("10.0.0.0/16", "10.0.0.0/16", true),
            ("10.0.0.0/16", "10.0.128.0/17", true),
            ("10.0.0.0/16", "10.1.0.0/16", false),
            ("10.0.0.0/8", "10.244.0.0/16", true),
            ("10.244.0.0/16", "10.0.0.0/16", false),
            ("0.0.0.0/0", "192.168.0.0/24", true),
            ("10.0.0.0/16", "fd00::/8", false),
            ("fd00::/8", "fd12:3456::/32", true),
            ("fd00::/16", "fd01::/16", false),
            ("::/0", "2001:db8::/32", true),
        ];
        for (a, b, want) in cases {
            let (a, b) = (Cidr::parse(a).unwrap(), Cidr::parse(b).unwrap());
            assert_eq!(a.overlaps(&b), want, "{a} vs {b}");
            assert_eq!(b.overlaps(&a), want, "{b} vs {a}");
        }
    }

    #[test]
    fn service_tag_syntax() {
        for tag in ["AzureCloud", "Storage.WestEurope", "AzureMonitor", "AzureCloud.eastus2", "Sql", "A1"] {
            assert!(is_service_tag(tag), "{tag}");
            assert!(!looks_like_address(tag), "{tag}");
        }
        for bad in [
            "",
            "1Azure",
            ".Storage",
            "Storage.",
            "Storage..WestEurope",
            "Azure Cloud",
            "Azure-Cloud",
            "Azure_Cloud",
            "Stórage",
        ] {
            assert!(!is_service_tag(bad), "{bad}");
        }
        for addr in ["10.0.0.0/8", "fd00::/8", "::/0", "10.0.0.1", "fe80::1"] {
            assert!(looks_like_address(addr), "{addr}");
        }
    }
}
