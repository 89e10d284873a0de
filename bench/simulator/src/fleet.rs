//! The simulated fleet's layout: which loopback address each host answers on, which hosts are
//! faulty and how, and the inventory and known_hosts files that point fleetprune at them.
//!
//! Serving SSH is [`crate::ssh`]'s job and the Docker API stand-in is [`crate::engine`]'s.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;

/// Hosts per third octet: addresses run 127.NET.B.1 .. 127.NET.B.250.
const HOSTS_PER_BLOCK: usize = 250;
/// The most hosts one `--net` holds.
pub const MAX_HOSTS: usize = 256 * HOSTS_PER_BLOCK;

/// How a simulated host misbehaves, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Healthy.
    None,
    /// Nothing listens: the inventory names a port without a listener, so the TCP connection
    /// is refused.
    Refused,
    /// Accepts TCP, never says a word (no SSH banner).
    BlackHole,
    /// Rejects the client key.
    AuthFailure,
    /// Every prune answers 409 "a prune operation is already running".
    Conflict,
    /// Prunes take `--slow-latency` instead of `--prune-latency`.
    Slow,
    /// Refuses stream-local forwarding, so the client falls back to `docker system dial-stdio`
    /// in an exec channel (not a failure).
    ExecOnly,
}

impl Fault {
    /// The names used in `--faults`, in the order shares are assigned.
    const NAMED: [(&'static str, Fault); 6] = [
        ("refused", Fault::Refused),
        ("blackhole", Fault::BlackHole),
        ("auth", Fault::AuthFailure),
        ("conflict", Fault::Conflict),
        ("slow", Fault::Slow),
        ("exec", Fault::ExecOnly),
    ];

    pub fn name(self) -> &'static str {
        Fault::NAMED
            .iter()
            .find(|(_, fault)| *fault == self)
            .map_or("ok", |(name, _)| name)
    }
}

/// `--faults refused=2,blackhole=1,...`: percent of hosts per fault.
#[derive(Debug, Clone, Default)]
pub struct FaultShares(Vec<(Fault, f64)>);

#[derive(Debug, thiserror::Error)]
pub enum FaultSharesError {
    #[error(
        "`{0}`: expected NAME=PERCENT, NAME one of refused, blackhole, auth, conflict, slow, exec"
    )]
    Syntax(String),
    #[error("`{0}`: the percentages add up to more than 100")]
    TooMuch(String),
}

impl FromStr for FaultShares {
    type Err = FaultSharesError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut shares = Vec::new();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let syntax = || FaultSharesError::Syntax(item.to_string());
            let (name, percent) = item.split_once('=').ok_or_else(syntax)?;
            let fault = Fault::NAMED
                .iter()
                .find(|(known, _)| *known == name.trim())
                .map(|(_, fault)| *fault)
                .ok_or_else(syntax)?;
            let percent: f64 = percent.trim().parse().map_err(|_| syntax())?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(syntax());
            }
            shares.push((fault, percent));
        }
        if shares.iter().map(|(_, p)| p).sum::<f64>() > 100.0 {
            return Err(FaultSharesError::TooMuch(text.to_string()));
        }
        Ok(FaultShares(shares))
    }
}

/// One simulated host.
#[derive(Debug, Clone)]
pub struct HostSpec {
    pub index: usize,
    pub name: String,
    pub address: Ipv4Addr,
    pub fault: Fault,
}

/// The whole simulated fleet.
#[derive(Debug)]
pub struct Fleet {
    pub hosts: Vec<HostSpec>,
    pub port: u16,
}

impl Fleet {
    /// Lays out `count` hosts on 127.`net`.B.C:`port` and spreads the faulty ones evenly (a
    /// fixed permutation, so the same arguments give the same faulty hosts every run).
    pub fn new(count: usize, net: u8, port: u16, shares: &FaultShares) -> Fleet {
        let mut faults = vec![Fault::None; count];
        // Visit hosts in a fixed scrambled order (multiplying by a prime coprime with `count`
        // when possible), handing out each fault's share in turn.
        let order = scrambled_order(count);
        let mut next = order.iter();
        for (fault, percent) in &shares.0 {
            let share = ((count as f64) * percent / 100.0).round() as usize;
            for index in next.by_ref().take(share) {
                faults[*index] = *fault;
            }
        }
        let hosts = faults
            .into_iter()
            .enumerate()
            .map(|(index, fault)| HostSpec {
                index,
                name: format!("sim{index:05}"),
                address: address(net, index),
                fault,
            })
            .collect();
        Fleet { hosts, port }
    }

    /// How many hosts have each fault, for the startup line.
    pub fn fault_counts(&self) -> Vec<(Fault, usize)> {
        let mut counts = std::collections::BTreeMap::new();
        for host in &self.hosts {
            *counts.entry(host.fault).or_insert(0) += 1;
        }
        counts.into_iter().collect()
    }

    /// An Ansible YAML inventory in the shape fleetprune reads: one `all.vars` block with the
    /// user and key, and the hosts spread over `groups` child groups.
    pub fn inventory_yaml(&self, user: &str, client_key: &Path, groups: usize) -> String {
        let groups = groups.max(1);
        let mut yaml = String::new();
        let _ = writeln!(
            yaml,
            "# generated by fleetprune-sim (a simulator, for benchmarks only)"
        );
        let _ = writeln!(yaml, "all:\n  vars:");
        let _ = writeln!(yaml, "    ansible_user: {user}");
        let _ = writeln!(
            yaml,
            "    ansible_ssh_private_key_file: {}",
            client_key.display()
        );
        let _ = writeln!(yaml, "  children:");
        for group in 0..groups {
            let _ = writeln!(yaml, "    simgroup{group:03}:\n      hosts:");
            for host in self.hosts.iter().skip(group).step_by(groups) {
                let _ = writeln!(
                    yaml,
                    "        {}:\n          ansible_host: {}\n          ansible_port: {}",
                    host.name,
                    host.address,
                    self.port_of(host)
                );
            }
        }
        yaml
    }

    /// The port the inventory names for `host`: a refused host's is one where nothing listens.
    pub fn port_of(&self, host: &HostSpec) -> u16 {
        if host.fault == Fault::Refused {
            self.port.wrapping_add(1)
        } else {
            self.port
        }
    }

    /// One known_hosts line per host, all with the fleet's shared host key.
    pub fn known_hosts(&self, host_key_line: &str) -> String {
        let mut text = String::new();
        for host in &self.hosts {
            let port = self.port_of(host);
            let name = if port == 22 {
                host.address.to_string()
            } else {
                format!("[{}]:{port}", host.address)
            };
            let _ = writeln!(text, "{name} {host_key_line}");
        }
        text
    }
}

fn address(net: u8, index: usize) -> Ipv4Addr {
    let block = u8::try_from(index / HOSTS_PER_BLOCK).unwrap_or(u8::MAX);
    // index % 250 + 1 is at most 250: fits in a u8.
    let last = (index % HOSTS_PER_BLOCK + 1) as u8;
    Ipv4Addr::new(127, net, block, last)
}

fn scrambled_order(count: usize) -> Vec<usize> {
    const STEP: usize = 7919;
    if count == 0 {
        return Vec::new();
    }
    if gcd(STEP, count) == 1 {
        (0..count).map(|i| (i * STEP) % count).collect()
    } else {
        (0..count).collect()
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_shares_are_assigned_to_distinct_hosts() {
        let shares: FaultShares = "refused=10,auth=5,exec=5".parse().unwrap();
        let fleet = Fleet::new(1000, 77, 2222, &shares);
        let counts = fleet.fault_counts();
        assert_eq!(
            counts,
            vec![
                (Fault::None, 800),
                (Fault::Refused, 100),
                (Fault::AuthFailure, 50),
                (Fault::ExecOnly, 50)
            ]
        );
    }

    #[test]
    fn addresses_stay_in_the_loopback_net_and_are_unique() {
        let fleet = Fleet::new(10_000, 77, 2222, &FaultShares::default());
        let unique: std::collections::HashSet<_> = fleet.hosts.iter().map(|h| h.address).collect();
        assert_eq!(unique.len(), 10_000);
        assert!(fleet.hosts.iter().all(|h| h.address.is_loopback()));
        assert_eq!(fleet.hosts[250].address, Ipv4Addr::new(127, 77, 1, 1));
    }

    #[test]
    fn bad_fault_shares_are_refused() {
        assert!("nonsense=1".parse::<FaultShares>().is_err());
        assert!("refused=60,auth=60".parse::<FaultShares>().is_err());
    }
}
