//! Runs a plan as its dependency graph: every step starts as soon as the steps it waits for are
//! done, a bounded number at a time, each handed the IDs of what the steps before it created.
//! After the first failure no further step starts (those running finish), since what follows
//! may depend on it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use securecart_plan::intent::Outcome;
use securecart_plan::plan::{Ordered, PlanStep};
use securecart_plan::{Output, Plan};
use tracing::Instrument as _;

use crate::AwsError;
use crate::sdk::{STEP, StepCalls};

/// Steps running at once, per plan.
const CONCURRENCY: usize = 8;

/// A step that ran.
#[derive(Clone, Debug)]
pub struct Executed {
    /// Its index in the plan.
    pub index: usize,
    pub action: &'static str,
    pub summary: String,
    pub output: Output,
    /// The SDK sent a request more than once: an earlier attempt may have applied too.
    pub retried: bool,
}

/// A step that failed.
#[derive(Clone, Debug)]
pub struct Failed {
    pub index: usize,
    pub error: AwsError,
    pub retried: bool,
}

/// What executing a plan did, in the order it happened.
#[derive(Debug, Default)]
pub struct Execution {
    pub executed: Vec<Executed>,
    pub failed: Vec<Failed>,
}

impl Execution {
    /// The first failure, which the reconcile reports.
    pub fn error(&self) -> Option<&AwsError> {
        self.failed.first().map(|f| &f.error)
    }

    /// What is known of each create the plan holds: confirmed, answered after a retry (an
    /// earlier attempt may have applied too), unknown (failed in a way that may have applied) or
    /// not created (refused, or never started).
    pub fn create_outcomes<S: PlanStep>(&self, plan: &Plan<S>) -> BTreeMap<String, Outcome> {
        let mut out = BTreeMap::new();
        for (i, step) in plan.steps.iter().enumerate() {
            let Some(component) = step.creates() else { continue };
            let outcome = if let Some(e) = self.executed.iter().find(|e| e.index == i) {
                match (e.retried, &e.output.id) {
                    (false, _) => Outcome::Confirmed,
                    (true, Some(id)) => Outcome::AnsweredAfterRetry(id.clone()),
                    (true, None) => Outcome::Unknown,
                }
            } else if let Some(f) = self.failed.iter().find(|f| f.index == i) {
                if f.retried || f.error.outcome_unknown() { Outcome::Unknown } else { Outcome::NotCreated }
            } else {
                Outcome::NotCreated
            };
            out.insert(component.to_string(), outcome);
        }
        out
    }

    /// The executed steps with their outputs, in the order they ran, for folding into a model.
    pub fn outputs<'p, S>(&self, plan: &'p Plan<S>) -> Vec<(&'p S, &Output)> {
        self.executed.iter().map(|e| (&plan.steps[e.index], &e.output)).collect()
    }
}

type Running<'a> = Pin<Box<dyn Future<Output = (usize, Result<Output, AwsError>, Arc<StepCalls>)> + Send + 'a>>;

/// Runs `plan` with `run`, which performs one step given the IDs created so far.
pub async fn execute<'p, S, F, Fut>(region: &str, plan: &'p Plan<S>, run: F) -> Execution
where
    S: Ordered + Sync,
    F: Fn(&'p S, Arc<HashMap<String, String>>) -> Fut,
    Fut: Future<Output = Result<Output, AwsError>> + Send + 'p,
{
    let deps = plan.dependencies();
    let n = plan.steps.len();
    let (mut started, mut done) = (vec![false; n], vec![false; n]);
    let mut created: HashMap<String, String> = HashMap::new();
    let mut execution = Execution::default();
    let mut running: FuturesUnordered<Running<'p>> = FuturesUnordered::new();
    loop {
        if execution.failed.is_empty() {
            let known = Arc::new(created.clone());
            for i in 0..n {
                if running.len() >= CONCURRENCY {
                    break;
                }
                if started[i] || !deps[i].iter().all(|&d| done[d]) {
                    continue;
                }
                started[i] = true;
                let calls = Arc::new(StepCalls::default());
                // Each step's calls are children of its span, itself a child of the caller's
                // (the reconcile), whichever of the concurrent steps is being polled.
                let step = &plan.steps[i];
                let span = tracing::info_span!(
                    "plan step",
                    otel.name = %format_args!("step {}", step.action()),
                    action = step.action(),
                    resource = step.resource(),
                    step = %step,
                    outcome = tracing::field::Empty,
                    otel.status_code = tracing::field::Empty,
                );
                let future = STEP.scope(calls.clone(), run(step, known.clone())).instrument(span.clone());
                running.push(Box::pin(
                    async move {
                        let result = future.await;
                        span.record("outcome", result.as_ref().map_or_else(|e| e.kind.label(), |_| "ok"));
                        if result.is_err() {
                            span.record("otel.status_code", "error");
                        }
                        (i, result, calls)
                    }
                    .in_current_span(),
                ));
            }
        }
        let Some((i, result, calls)) = running.next().await else { break };
        let step = &plan.steps[i];
        let retried = calls.retried();
        let result = match result {
            Err(e) if retried && step.creates().is_none() && e.done_by_an_earlier_attempt() => {
                tracing::info!(region, action = step.action(), step = %step, code = %e.code, "AWS step done by an earlier attempt whose answer was lost");
                Ok(Output::default())
            }
            Err(e) if retried => Err(e.after_retry()),
            other => other,
        };
        match result {
            Ok(output) => {
                done[i] = true;
                if let (Some(component), Some(id)) = (step.creates(), &output.id) {
                    created.insert(component.to_string(), id.clone());
                }
                tracing::info!(region, action = step.action(), step = %step, id = output.id.as_deref().unwrap_or(""), attempts = calls.attempts(), "AWS step done");
                execution.executed.push(Executed {
                    index: i,
                    action: step.action(),
                    summary: step.to_string(),
                    output,
                    retried,
                });
            }
            Err(error) => {
                tracing::warn!(region, action = step.action(), step = %step, error = %error, attempts = calls.attempts(), "AWS step failed");
                execution.failed.push(Failed { index: i, error, retried });
            }
        }
    }
    execution
}

/// The ID behind a reference: as observed, or as created by an earlier step.
pub fn resolve(r: &securecart_plan::Ref, created: &HashMap<String, String>) -> Result<String, AwsError> {
    match r {
        securecart_plan::Ref::Id(id) => Ok(id.clone()),
        securecart_plan::Ref::Created(c) => created
            .get(c)
            .cloned()
            .ok_or_else(|| AwsError::malformed("ResolveReference", &format!("{c} was not created by an earlier step"))),
    }
}

#[cfg(test)]
mod tests {
    use securecart_plan::network::Step;

    use super::*;

    fn create_vpc(component: &str) -> Step {
        Step::CreateVpc { component: component.into(), cidr_block: "10.0.0.0/16".into(), tags: Default::default() }
    }

    fn ran(index: usize, id: Option<&str>, retried: bool) -> Executed {
        let output = Output { id: id.map(str::to_string), fields: Default::default() };
        Executed { index, action: "CreateVpc", summary: String::new(), output, retried }
    }

    fn create_route() -> Step {
        use securecart_plan::Ref;
        use securecart_plan::network::RouteTarget;
        Step::CreateRoute {
            route_table: Ref::Id("rtb-1".into()),
            destination: "0.0.0.0/0".into(),
            target: RouteTarget::InternetGateway(Ref::Id("igw-1".into())),
        }
    }

    /// Runs `steps`, each answered `code` after `attempts` attempts.
    async fn answered(steps: Vec<Step>, code: &'static str, attempts: u32) -> Execution {
        let plan = Plan { steps, ..Default::default() };
        execute("us-east-1", &plan, |_step, _known| async move {
            STEP.with(|s| s.record(attempts));
            Err(AwsError {
                kind: crate::error::classify(code),
                operation: "Op",
                code: code.into(),
                message: String::new(),
            })
        })
        .await
    }

    #[tokio::test]
    async fn a_retried_route_answered_already_exists_was_added_by_the_lost_attempt() {
        let retried = answered(vec![create_route()], "RouteAlreadyExists", 2).await;
        assert!(retried.failed.is_empty(), "{:?}", retried.failed);
        assert_eq!(retried.executed.len(), 1);
        assert!(retried.executed[0].retried);

        let first = answered(vec![create_route()], "RouteAlreadyExists", 1).await;
        assert_eq!(first.executed.len(), 0, "at the first attempt the route is someone else's");
        assert_eq!(first.error().map(|e| e.code.as_str()), Some("RouteAlreadyExists"));
    }

    #[tokio::test]
    async fn a_create_refused_as_a_conflict_after_a_retry_is_unknown_not_terminal() {
        let retried = answered(vec![create_vpc("subnet")], "InvalidSubnet.Conflict", 3).await;
        let error = retried.error().expect("it failed");
        assert_eq!(error.kind, crate::ErrorKind::Retryable, "the conflict is most likely its own first attempt");
        assert!(retried.executed.is_empty(), "a create is never taken as done without its ID");
        let plan = Plan { steps: vec![create_vpc("subnet")], ..Default::default() };
        assert_eq!(retried.create_outcomes(&plan)["subnet"], Outcome::Unknown);

        let first = answered(vec![create_vpc("subnet")], "InvalidSubnet.Conflict", 1).await;
        assert_eq!(first.error().map(|e| e.kind), Some(crate::ErrorKind::Terminal), "a real overlap");
    }

    #[test]
    fn a_create_answered_after_a_retry_is_known_by_its_answer() {
        let plan = Plan { steps: ["a", "b", "c", "d"].map(create_vpc).to_vec(), ..Default::default() };
        let error = |code: &str| AwsError {
            kind: crate::ErrorKind::Throttled,
            operation: "CreateVpc",
            code: code.into(),
            message: String::new(),
        };
        let execution = Execution {
            executed: vec![ran(0, Some("vpc-0a"), false), ran(1, Some("vpc-1b"), true), ran(2, None, true)],
            failed: vec![Failed { index: 3, error: error("Throttling"), retried: false }],
        };
        let outcomes = execution.create_outcomes(&plan);
        assert_eq!(outcomes["a"], Outcome::Confirmed);
        assert_eq!(outcomes["b"], Outcome::AnsweredAfterRetry("vpc-1b".into()));
        assert_eq!(outcomes["c"], Outcome::Unknown, "retried and nothing to show for it");
        assert_eq!(outcomes["d"], Outcome::NotCreated, "refused at the first attempt");
    }
}
