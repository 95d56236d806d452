//! A small model of CloudFront as AWS behaves (not as the emulator does): just enough to run
//! the CloudFront planner's plans against, and strict where AWS is strict.
//!
//! - A create repeated with the same CallerReference and configuration answers the first
//!   distribution; with another configuration it is refused (DistributionAlreadyExists).
//! - Every change gives a new ETag; an update or delete whose IfMatch is not the current ETag is
//!   refused (PreconditionFailed).
//! - A change leaves the distribution InProgress until it has been observed `deploy_after`
//!   times, then Deployed.
//! - Only a disabled, deployed distribution can be deleted (DistributionNotDisabled); an origin
//!   access control a distribution signs with cannot be (OriginAccessControlInUse); names of
//!   access controls are unique, and so are aliases across distributions (CNAMEAlreadyExists).
//! - IDs and ETags are random, not sequential.
//!
//! Phases run in order; a `Ref::Created` resolves only to something an earlier phase created.

#![allow(dead_code)]

use std::collections::BTreeMap;

use securecart_plan::cloudfront::{
    AccessControlConfig, ConfigRefs, Distribution, DistributionConfig, Observed, OriginAccessControl, OriginKind, Step,
};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Plan, Ref, Tags};

pub struct Account {
    pub distributions: Vec<Distribution>,
    pub controls: Vec<OriginAccessControl>,
    /// Observations left until each InProgress distribution is Deployed, by ID.
    until_deployed: BTreeMap<String, u32>,
    pub deploy_after: u32,
    /// Every call applied, in order: `UpdateDistribution E3K...`.
    pub log: Vec<String>,
    /// The create of this component is applied but its answer never arrives.
    pub lose_create_response_of: Option<String>,
    seed: u64,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            distributions: Vec::new(),
            controls: Vec::new(),
            until_deployed: BTreeMap::new(),
            deploy_after: 2,
            log: Vec::new(),
            lose_create_response_of: None,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

/// What one applied step answered: the ID it created, if any.
pub type Created = BTreeMap<String, String>;

pub fn resolve(r: &Ref, created: &Created) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => {
            created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) not created by an earlier phase"))
        }
    }
}

impl Account {
    pub fn new() -> Self {
        Self::default()
    }

    /// Random uppercase letters and digits, like CloudFront's IDs and ETags.
    fn random(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| {
                self.seed ^= self.seed << 13;
                self.seed ^= self.seed >> 7;
                self.seed ^= self.seed << 17;
                ALPHABET[(self.seed % ALPHABET.len() as u64) as usize] as char
            })
            .collect()
    }

    fn etag(&mut self) -> String {
        format!("E{}", self.random(13))
    }

    /// What the controller sees (everything: the search mode); changes in progress deploy as
    /// they are observed.
    pub fn observe(&mut self) -> Observed {
        let seen =
            Observed { distributions: self.distributions.clone(), origin_access_controls: self.controls.clone() };
        for d in &mut self.distributions {
            if let Some(n) = self.until_deployed.get_mut(&d.id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    d.status = "Deployed".into();
                    self.until_deployed.remove(&d.id);
                }
            }
        }
        seen
    }

    fn in_progress(&mut self, id: &str) {
        let n = self.deploy_after;
        if let Some(d) = self.distributions.iter_mut().find(|d| d.id == id) {
            d.status = "InProgress".into();
        }
        self.until_deployed.insert(id.to_string(), n);
    }

    /// Applies a plan phase by phase, `tokens` being the create intents' tokens by component;
    /// the first error stops it, like the executor. Returns what was created.
    pub fn apply(&mut self, plan: &Plan<Step>, tokens: &BTreeMap<String, String>) -> Result<Created, String> {
        let mut created = Created::new();
        for phase in plan.phases() {
            let mut made = Vec::new();
            for step in phase {
                self.log.push(format!("{} {}", step.action(), subject(step)));
                let token = step.creates().and_then(|c| tokens.get(c)).map(String::as_str);
                let id = self.run(step, &created, token).map_err(|e| format!("{step}: {e}"))?;
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    if self.lose_create_response_of.as_deref() == Some(c) {
                        self.lose_create_response_of = None;
                        return Err(format!("{step}: the answer was lost (it applied)"));
                    }
                    made.push((c.to_string(), id));
                }
            }
            created.extend(made);
        }
        Ok(created)
    }

    fn config_with(
        &self,
        config: &DistributionConfig,
        refs: &ConfigRefs,
        created: &Created,
    ) -> Result<DistributionConfig, String> {
        let mut config = config.clone();
        for origin in &mut config.origins {
            if let OriginKind::S3 { origin_access_control_id } = &mut origin.kind
                && let Some(r) = refs.origin_access_controls.get(&origin.id)
            {
                let id = resolve(r, created)?;
                if !self.controls.iter().any(|c| c.id == id) {
                    return Err(format!("NoSuchOriginAccessControl: {id}"));
                }
                *origin_access_control_id = Some(id);
            }
        }
        if let Some(acl) = &refs.web_acl {
            config.web_acl_id = Some(resolve(acl, created)?);
        }
        Ok(config)
    }

    fn check_aliases(&self, id: Option<&str>, config: &DistributionConfig) -> Result<(), String> {
        let taken = self
            .distributions
            .iter()
            .filter(|d| Some(d.id.as_str()) != id)
            .any(|d| d.config.aliases.iter().any(|a| config.aliases.contains(a)));
        if taken { Err("CNAMEAlreadyExists".into()) } else { Ok(()) }
    }

    fn distribution(&mut self, id: &str, etag: &str) -> Result<&mut Distribution, String> {
        let d = self.distributions.iter_mut().find(|d| d.id == id).ok_or("NoSuchDistribution")?;
        if d.etag != etag {
            return Err(format!("PreconditionFailed: IfMatch {etag} is not the current ETag {}", d.etag));
        }
        Ok(d)
    }

    fn run(&mut self, step: &Step, created: &Created, token: Option<&str>) -> Result<Option<String>, String> {
        Ok(match step {
            Step::CreateOriginAccessControl { config, .. } => {
                if self.controls.iter().any(|c| c.config.name == config.name) {
                    return Err("OriginAccessControlAlreadyExists".into());
                }
                let (id, etag) = (format!("E{}", self.random(13)), self.etag());
                self.controls.push(OriginAccessControl { id: id.clone(), etag, config: config.clone() });
                Some(id)
            }
            Step::UpdateOriginAccessControl { id, etag, config } => {
                let new = self.etag();
                let c = self.controls.iter_mut().find(|c| &c.id == id).ok_or("NoSuchOriginAccessControl")?;
                if &c.etag != etag {
                    return Err("PreconditionFailed".into());
                }
                c.config = config.clone();
                c.etag = new;
                None
            }
            Step::DeleteOriginAccessControl { id, etag, .. } => {
                let c = self.controls.iter().find(|c| &c.id == id).ok_or("NoSuchOriginAccessControl")?;
                if &c.etag != etag {
                    return Err("PreconditionFailed".into());
                }
                if self.distributions.iter().any(|d| d.uses_access_control(id)) {
                    return Err("OriginAccessControlInUse".into());
                }
                self.controls.retain(|c| &c.id != id);
                None
            }
            Step::CreateDistribution { config, refs, tags, .. } => {
                let token = token.ok_or("InvalidArgument: no CallerReference")?;
                let config = self.config_with(config, refs, created)?;
                if let Some(d) = self.distributions.iter().find(|d| d.caller_reference == token) {
                    // CloudFront's idempotency: the same request answers the same distribution.
                    return if d.config == config {
                        Ok(Some(d.id.clone()))
                    } else {
                        Err("DistributionAlreadyExists".into())
                    };
                }
                self.check_aliases(None, &config)?;
                let id = format!("E{}", self.random(13));
                let etag = self.etag();
                let domain_name = format!("d{}.cloudfront.net", self.random(13).to_ascii_lowercase());
                self.distributions.push(Distribution {
                    arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
                    id: id.clone(),
                    domain_name,
                    status: "InProgress".into(),
                    etag,
                    caller_reference: token.into(),
                    config,
                    tags: tags.clone(),
                });
                self.in_progress(&id);
                Some(id)
            }
            Step::UpdateDistribution { id, etag, config, refs } => {
                let config = self.config_with(config, refs, created)?;
                self.check_aliases(Some(id), &config)?;
                let new = self.etag();
                let d = self.distribution(id, etag)?;
                d.config = config;
                d.etag = new;
                self.in_progress(id);
                None
            }
            Step::SetTags { arn, tags, .. } => {
                let d = self.distributions.iter_mut().find(|d| &d.arn == arn).ok_or("NoSuchResource")?;
                d.tags.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                None
            }
            Step::DisableDistribution { id, etag } => {
                let new = self.etag();
                let d = self.distribution(id, etag)?;
                d.config.enabled = false;
                d.config.web_acl_id = None;
                d.etag = new;
                self.in_progress(id);
                None
            }
            Step::DeleteDistribution { id, etag } => {
                let d = self.distribution(id, etag)?;
                if d.config.enabled || d.status != "Deployed" {
                    return Err("DistributionNotDisabled".into());
                }
                self.distributions.retain(|d| &d.id != id);
                None
            }
        })
    }

    /// An out-of-band change through the console: a new ETag, InProgress again.
    pub fn change(&mut self, id: &str, f: impl FnOnce(&mut DistributionConfig)) {
        let new = self.etag();
        let d = self.distributions.iter_mut().find(|d| d.id == id).expect("distribution");
        f(&mut d.config);
        d.etag = new;
        self.in_progress(id);
    }

    /// A distribution made elsewhere with this caller reference and no tags.
    pub fn insert_untagged(&mut self, caller_reference: &str, config: DistributionConfig) -> String {
        let id = format!("E{}", self.random(13));
        let etag = self.etag();
        let domain_name = format!("d{}.cloudfront.net", self.random(13).to_ascii_lowercase());
        self.distributions.push(Distribution {
            arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
            id: id.clone(),
            domain_name,
            status: "Deployed".into(),
            etag,
            caller_reference: caller_reference.into(),
            config,
            tags: Tags::new(),
        });
        id
    }

    pub fn access_control(&self, name: &str) -> Option<&AccessControlConfig> {
        self.controls.iter().map(|c| &c.config).find(|c| c.name == name)
    }

    /// How many calls of `action` were applied.
    pub fn calls(&self, action: &str) -> usize {
        self.log.iter().filter(|l| l.split(' ').next() == Some(action)).count()
    }
}

fn subject(step: &Step) -> String {
    match step {
        Step::CreateOriginAccessControl { config, .. } => config.name.clone(),
        Step::UpdateOriginAccessControl { id, .. } | Step::DeleteOriginAccessControl { id, .. } => id.clone(),
        Step::CreateDistribution { config, .. } => config.comment.clone(),
        Step::UpdateDistribution { id, .. }
        | Step::DisableDistribution { id, .. }
        | Step::DeleteDistribution { id, .. } => id.clone(),
        Step::SetTags { arn, .. } => arn.clone(),
    }
}
