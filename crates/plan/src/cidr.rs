//! Deterministic, sticky subnet carving.
//!
//! Fresh carving walks tiers in list order and zones in zone order, giving each subnet the next
//! aligned block of its prefix length. A subnet that already exists keeps its block, and a new
//! one only takes free space, so adding a tier or a zone never moves an existing subnet.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// One subnet to place: explicit CIDR, existing CIDR, or carve by prefix length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Where the request came from, for error messages, e.g. `spec.tiers[1] (app) in us-east-1b`.
    pub label: String,
    pub prefix_len: u8,
    /// Set by the user: must fit, must not overlap.
    pub explicit: Option<Ipv4Net>,
    /// Where the subnet already is (observed); kept when its prefix still matches.
    pub existing: Option<Ipv4Net>,
}

/// Places every request inside `vpc`; `occupied` are blocks already used (for example subnets that
/// are about to be replaced) that new blocks must avoid.
pub fn carve(vpc: Ipv4Net, requests: &[Request], occupied: &[Ipv4Net]) -> Result<Vec<Ipv4Net>, String> {
    let mut taken: Vec<Ipv4Net> = occupied.to_vec();
    let mut placed: Vec<Option<Ipv4Net>> = vec![None; requests.len()];

    // Explicit and kept blocks first: they are fixed points the carved ones must flow around.
    for (i, req) in requests.iter().enumerate() {
        let fixed = req.explicit.or(req.existing.filter(|net| net.prefix_len() == req.prefix_len));
        let Some(net) = fixed else { continue };
        if !vpc.contains(&net) {
            return Err(format!("{}: {net} is outside the VPC block {vpc}", req.label));
        }
        if let Some((j, other)) =
            placed.iter().enumerate().find_map(|(j, p)| p.filter(|p| overlaps(*p, net)).map(|p| (j, p)))
        {
            return Err(format!("{}: {net} overlaps {other} of {}", req.label, requests[j].label));
        }
        placed[i] = Some(net);
        taken.push(net);
    }

    for (i, req) in requests.iter().enumerate() {
        if placed[i].is_some() {
            continue;
        }
        if req.prefix_len < vpc.prefix_len() {
            return Err(format!("{}: prefix length /{} is larger than the VPC block {vpc}", req.label, req.prefix_len));
        }
        let net = first_free(vpc, req.prefix_len, &taken)
            .ok_or_else(|| format!("{}: no free /{} block left in {vpc}", req.label, req.prefix_len))?;
        placed[i] = Some(net);
        taken.push(net);
    }
    Ok(placed.into_iter().map(|p| p.expect("every request placed")).collect())
}

/// The lowest aligned block of `prefix_len` inside `vpc` that overlaps nothing in `taken`.
fn first_free(vpc: Ipv4Net, prefix_len: u8, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    let size = 1u64 << (32 - u32::from(prefix_len));
    let start = u64::from(u32::from(vpc.network()));
    let end = u64::from(u32::from(vpc.broadcast())) + 1;
    let mut at = start;
    while at + size <= end {
        let candidate = Ipv4Net::new(Ipv4Addr::from(at as u32), prefix_len).ok()?;
        match taken.iter().filter(|t| overlaps(**t, candidate)).map(|t| u64::from(u32::from(t.broadcast())) + 1).max() {
            None => return Some(candidate),
            // Jump past the collision, then up to the next aligned boundary.
            Some(past) => at = past.div_ceil(size) * size,
        }
    }
    None
}

pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn carve_prefixes(vpc: &str, prefixes: &[u8]) -> Vec<String> {
        let reqs: Vec<Request> = prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| Request { label: format!("r{i}"), prefix_len: *p, explicit: None, existing: None })
            .collect();
        carve(net(vpc), &reqs, &[]).unwrap().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn carves_tier_by_tier_zone_by_zone_each_next_aligned_block() {
        // public /24 x3, app /20 x3, database /24 x3
        let got = carve_prefixes("10.20.0.0/16", &[24, 24, 24, 20, 20, 20, 24, 24, 24]);
        assert_eq!(
            got,
            [
                "10.20.0.0/24",
                "10.20.1.0/24",
                "10.20.2.0/24",
                "10.20.16.0/20",
                "10.20.32.0/20",
                "10.20.48.0/20",
                "10.20.3.0/24",
                "10.20.4.0/24",
                "10.20.5.0/24",
            ]
        );
    }

    #[test]
    fn existing_subnets_never_move_when_a_zone_is_added() {
        let vpc = net("10.20.0.0/16");
        let before = carve_prefixes("10.20.0.0/16", &[24, 24, 20, 20]);
        // Same tiers, one more zone each: existing keep their blocks, new ones take free space.
        let existing = |i: usize| Some(net(&before[i]));
        let reqs = vec![
            Request { label: "public a".into(), prefix_len: 24, explicit: None, existing: existing(0) },
            Request { label: "public b".into(), prefix_len: 24, explicit: None, existing: existing(1) },
            Request { label: "public c".into(), prefix_len: 24, explicit: None, existing: None },
            Request { label: "app a".into(), prefix_len: 20, explicit: None, existing: existing(2) },
            Request { label: "app b".into(), prefix_len: 20, explicit: None, existing: existing(3) },
            Request { label: "app c".into(), prefix_len: 20, explicit: None, existing: None },
        ];
        let got = carve(vpc, &reqs, &[]).unwrap();
        assert_eq!(got[0].to_string(), before[0]);
        assert_eq!(got[1].to_string(), before[1]);
        assert_eq!(got[3].to_string(), before[2]);
        assert_eq!(got[4].to_string(), before[3]);
        assert_eq!(got[2].to_string(), "10.20.2.0/24");
        assert_eq!(got[5].to_string(), "10.20.48.0/20");
    }

    #[test]
    fn a_changed_prefix_is_carved_afresh_around_the_old_block() {
        let vpc = net("10.20.0.0/16");
        let reqs = vec![Request {
            label: "app a".into(),
            prefix_len: 22,
            explicit: None,
            existing: Some(net("10.20.0.0/24")),
        }];
        let got = carve(vpc, &reqs, &[net("10.20.0.0/24")]).unwrap();
        assert_eq!(got[0].to_string(), "10.20.4.0/22");
    }

    #[test]
    fn explicit_blocks_are_honoured_and_carving_flows_around_them() {
        let vpc = net("10.0.0.0/16");
        let reqs = vec![
            Request { label: "a".into(), prefix_len: 24, explicit: Some(net("10.0.0.0/24")), existing: None },
            Request { label: "b".into(), prefix_len: 24, explicit: None, existing: None },
        ];
        let got = carve(vpc, &reqs, &[]).unwrap();
        assert_eq!(got[1].to_string(), "10.0.1.0/24");
    }

    #[test]
    fn errors_name_the_request() {
        let vpc = net("10.0.0.0/24");
        let too_big =
            vec![Request { label: "spec.tiers[0] (public)".into(), prefix_len: 20, explicit: None, existing: None }];
        assert!(carve(vpc, &too_big, &[]).unwrap_err().starts_with("spec.tiers[0] (public): prefix length /20"));
        let full: Vec<Request> = (0..5)
            .map(|i| Request { label: format!("spec.tiers[{i}]"), prefix_len: 26, explicit: None, existing: None })
            .collect();
        assert_eq!(carve(vpc, &full, &[]).unwrap_err(), "spec.tiers[4]: no free /26 block left in 10.0.0.0/24");
        let outside =
            vec![Request { label: "x".into(), prefix_len: 24, explicit: Some(net("10.1.0.0/24")), existing: None }];
        assert!(carve(vpc, &outside, &[]).unwrap_err().contains("outside the VPC block"));
        let overlap = vec![
            Request { label: "x".into(), prefix_len: 25, explicit: Some(net("10.0.0.0/25")), existing: None },
            Request { label: "y".into(), prefix_len: 26, explicit: Some(net("10.0.0.64/26")), existing: None },
        ];
        assert_eq!(carve(vpc, &overlap, &[]).unwrap_err(), "y: 10.0.0.64/26 overlaps 10.0.0.0/25 of x");
    }
}
