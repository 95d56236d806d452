//! Route 53 in the simulator: health checks with caller references (a repeated reference with
//! other settings is refused, as AWS does) and record changes applied as one batch.

use securecart_plan::route53::{ChangeAction, HealthCheck, Record, Step};

use super::{Sim, merge};

impl Sim {
    pub(super) fn route53(&mut self, step: &Step) -> Result<Option<String>, String> {
        let o = &mut self.observed.route53;
        Ok(match step {
            Step::CreateHealthCheck { config, tags, .. } => {
                let id = self.next("hc");
                // The engine sends the create intent's token; one per create here.
                let caller_reference = format!("{}{id}", self.token_prefix);
                self.observed.route53.health_checks.push(HealthCheck {
                    id: id.clone(),
                    caller_reference,
                    config: config.clone(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            Step::UpdateHealthCheck { id, config } => {
                let h = o.health_checks.iter_mut().find(|h| &h.id == id).ok_or("NoSuchHealthCheck")?;
                h.config.fqdn = config.fqdn.clone();
                h.config.port = config.port;
                h.config.path = config.path.clone();
                h.config.failure_threshold = config.failure_threshold;
                None
            }
            Step::DeleteHealthCheck { id } => {
                if o.records.iter().any(|r| r.health_check_id.as_ref() == Some(id)) {
                    return Err("HealthCheckInUse".into());
                }
                o.health_checks.retain(|h| &h.id != id);
                None
            }
            Step::SetTags { id, tags, .. } => {
                let h = o.health_checks.iter_mut().find(|h| &h.id == id).ok_or("NoSuchHealthCheck")?;
                merge(&mut h.tags, tags);
                None
            }
            Step::ChangeRecords { hosted_zone_id, changes } => {
                if o.hosted_zone_id.as_ref() != Some(hosted_zone_id) {
                    return Err("NoSuchHostedZone".into());
                }
                // One batch: all or nothing.
                let mut records = o.records.clone();
                for c in changes {
                    let same_key = |r: &Record| {
                        r.name == c.record.name
                            && r.record_type == c.record.record_type
                            && r.set_identifier == c.record.set_identifier
                    };
                    match c.action {
                        ChangeAction::Upsert => {
                            records.retain(|r| !same_key(r));
                            records.push(c.record.clone());
                        }
                        ChangeAction::Delete => {
                            if !records.contains(&c.record) {
                                return Err("InvalidChangeBatch: the record to delete does not match".into());
                            }
                            records.retain(|r| r != &c.record);
                        }
                    }
                }
                o.records = records;
                None
            }
        })
    }
}
