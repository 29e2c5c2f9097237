//! IPv4 addresses and CIDR prefixes as the network RP and AKS validate them.

use std::net::Ipv4Addr;

/// An IPv4 prefix `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub addr: Ipv4Addr,
    pub len: u8,
}

/// Why a prefix string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CidrError {
    /// Not `a.b.c.d/n` at all.
    Format,
    /// Well-formed, but host bits are set; carries the prefix Azure suggests instead.
    HostBits(Cidr),
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let (addr, len) = s.split_once('/').ok_or(CidrError::Format)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| CidrError::Format)?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CidrError::Format);
        }
        let len: u8 = len.parse().map_err(|_| CidrError::Format)?;
        if len > 32 {
            return Err(CidrError::Format);
        }
        let c = Cidr { addr, len };
        if c.network() != addr {
            return Err(CidrError::HostBits(Cidr { addr: c.network(), len }));
        }
        Ok(c)
    }

    fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.len >= self.len && self.contains(other.network())
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.covers(other) || other.covers(self)
    }

    /// The `n`th address of the prefix (0 = network address), if inside it.
    pub fn nth(&self, n: u32) -> Option<Ipv4Addr> {
        let size = if self.len == 0 { u64::from(u32::MAX) + 1 } else { 1u64 << (32 - u32::from(self.len)) };
        (u64::from(n) < size).then(|| Ipv4Addr::from(u32::from(self.network()) + n))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Cidr::parse("10.0.0.0/22").map(|c| c.len), Ok(22));
        assert_eq!(Cidr::parse("0.0.0.0/0").map(|c| c.len), Ok(0));
        assert_eq!(Cidr::parse("10.0.0.0"), Err(CidrError::Format));
        assert_eq!(Cidr::parse("10.0.0.0/33"), Err(CidrError::Format));
        assert_eq!(Cidr::parse("10.0.0/8"), Err(CidrError::Format));
        assert_eq!(Cidr::parse("10.0.0.0/+8"), Err(CidrError::Format));
        match Cidr::parse("10.0.0.1/24") {
            Err(CidrError::HostBits(c)) => assert_eq!(c.to_string(), "10.0.0.0/24"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn containment() -> Result<(), CidrError> {
        let vnet = Cidr::parse("10.0.0.0/16")?;
        let aks = Cidr::parse("10.0.0.0/22")?;
        let fw = Cidr::parse("10.0.4.0/26")?;
        assert!(vnet.covers(&aks) && vnet.covers(&fw));
        assert!(!aks.overlaps(&fw));
        assert!(!aks.covers(&vnet));
        assert_eq!(aks.nth(4), Some(Ipv4Addr::new(10, 0, 0, 4)));
        assert_eq!(fw.nth(64), None);
        Ok(())
    }
}
