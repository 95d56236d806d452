//! The objects of every kind and how they depend on each other. One watch and one cache per kind
//! (shared by its controller and by every kind that references it); from the references each
//! object declares, the engine derives
//! - the watches: a change to what an object publishes requeues exactly its users, and a
//!   user letting go of something it held (or its deletion) requeues what it uses;
//! - the users registry: who still uses an object, of every kind, and which AWS IDs they hold.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use securecart_api::conditions::PAUSED_ANNOTATION;
use tokio::sync::broadcast;

use super::admission::Admission;
use super::{Kind, Reference, error_policy, ready_state, reconcile};
use crate::context::{Context, Metrics};

/// A change worth telling other kinds about.
#[derive(Clone, Debug)]
struct Change {
    kind: &'static str,
    namespace: String,
    name: String,
    /// What the changed object references.
    references: Arc<Vec<Reference>>,
    /// What it publishes to its users changed.
    published: bool,
    /// It let go of something it held in what it references, or it is gone.
    holds: bool,
}

/// One user of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub kind: &'static str,
    pub name: String,
    /// AWS IDs it holds in the used object.
    pub holds: Vec<String>,
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// A kind's cache, as the registry asks it about users.
trait Index: Send + Sync {
    fn users(&self, kind: &str, namespace: &str, name: &str) -> Vec<User>;
}

impl<K: Kind> Index for Store<K> {
    fn users(&self, kind: &str, namespace: &str, name: &str) -> Vec<User> {
        self.state()
            .iter()
            .filter(|o| o.namespace().as_deref() == Some(namespace))
            .filter(|o| o.references().iter().any(|r| r.kind == kind && r.name == name))
            .map(|o| User { kind: K::KIND, name: o.name_any(), holds: o.holds() })
            .collect()
    }
}

/// What each object publishes now, by (kind, namespace, name).
type Published = Arc<Mutex<HashMap<(&'static str, String, String), u64>>>;

/// Every kind's cache, and what each object last published.
#[derive(Default)]
pub struct Registry {
    stores: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    indexes: Vec<Box<dyn Index>>,
    published: Published,
}

impl Registry {
    fn add<K: Kind>(&mut self, store: Store<K>) {
        self.stores.insert(TypeId::of::<K>(), Box::new(store.clone()));
        self.indexes.push(Box::new(store));
    }

    /// An object of kind `K`, from the cache.
    pub fn get<K: Kind>(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let store = self.stores.get(&TypeId::of::<K>())?.downcast_ref::<Store<K>>()?;
        store.get(&ObjectRef::new(name).within(namespace))
    }

    /// A digest of what the objects `references` name (in `namespace`) publish now: it changes
    /// when one of them publishes something new, appears or goes.
    pub fn published_digest(&self, namespace: &str, references: &[Reference]) -> u64 {
        let published = self.published.lock().expect("published digests");
        let seen: Vec<Option<u64>> = references
            .iter()
            .map(|r| published.get(&(r.kind, namespace.to_string(), r.name.clone())).copied())
            .collect();
        digest(&seen)
    }

    /// Objects of every kind that reference `kind/name` in `namespace`, sorted.
    pub fn users_of(&self, kind: &str, namespace: &str, name: &str) -> Vec<User> {
        let mut users: Vec<User> = self.indexes.iter().flat_map(|i| i.users(kind, namespace, name)).collect();
        users.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        users
    }
}

/// What every reconcile shares: the context and the registry.
pub struct Hub {
    pub ctx: Arc<Context>,
    pub registry: Registry,
    changes: broadcast::Sender<Change>,
    admissions: HashMap<&'static str, Admission>,
}

impl Hub {
    /// The queue of `kind`'s due reconciles.
    pub(super) fn admission(&self, kind: &str) -> &Admission {
        &self.admissions[kind]
    }
}

type Starter = Box<dyn FnOnce(Arc<Hub>) -> BoxFuture<'static, ()> + Send>;

/// The kinds to run, each registered with its API; then `run`.
pub struct Engine {
    ctx: Arc<Context>,
    registry: Registry,
    changes: broadcast::Sender<Change>,
    kinds: Vec<&'static str>,
    starters: Vec<Starter>,
}

/// Starts building an engine on `ctx`.
pub fn run(ctx: Arc<Context>) -> Engine {
    Engine {
        ctx,
        registry: Registry::default(),
        changes: broadcast::channel(4096).0,
        kinds: Vec::new(),
        starters: Vec::new(),
    }
}

impl Engine {
    /// Adds a kind: its watch and cache, and its controller, triggered by its own spec
    /// changes and by the changes of what it references and of what references it.
    pub fn kind<K: Kind>(mut self, api: Api<K>) -> Self {
        let (reader, writer) = reflector::store_shared(1024);
        let subscriber = writer.subscribe().expect("a shared store can be subscribed");
        self.registry.add::<K>(reader.clone());
        let changes = self.changes.clone();
        let published = self.registry.published.clone();
        self.kinds.push(K::KIND);
        self.starters.push(Box::new(move |hub| {
            Box::pin(async move {
                tokio::spawn(publish::<K>(api, writer, changes, published));
                let seen = SeenKeys::default();
                tokio::spawn(count_objects(reader.clone(), hub.ctx.metrics.clone(), seen.clone()));
                let triggers = dependency_triggers::<K>(&hub, reader.clone());
                // No limit here: every due reconcile waits its turn in the kind's admission.
                Controller::for_shared_stream(spec_changes(subscriber, seen), reader)
                    .with_config(controller::Config::default().concurrency(0))
                    .reconcile_on(triggers)
                    .shutdown_on_signal()
                    .run(reconcile::<K>, error_policy::<K>, hub)
                    .for_each(|result| async move {
                        if let Err(e) = result {
                            tracing::debug!(kind = K::KIND, error = %e, "reconcile loop");
                        }
                    })
                    .await;
            })
        }));
        self
    }

    /// Runs every kind's controller until shutdown, at most `concurrency` reconciles of a kind
    /// at once (0: no limit).
    pub async fn start(self, concurrency: u16) {
        let admissions: HashMap<_, _> = self.kinds.iter().map(|k| (*k, Admission::new(concurrency))).collect();
        let closing: Vec<Admission> = admissions.values().cloned().collect();
        // The controllers finish what runs; what only waits for its turn stops at once.
        tokio::spawn(async move {
            crate::shutdown_signal().await;
            closing.iter().for_each(Admission::close);
        });
        let hub = Arc::new(Hub { ctx: self.ctx, registry: self.registry, changes: self.changes, admissions });
        futures::future::join_all(self.starters.into_iter().map(|s| s(hub.clone()))).await;
    }
}

fn digest(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// What an object last told other kinds: its published digest, and what it holds in the
/// objects it references.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    published: u64,
    holds: std::collections::BTreeSet<String>,
    references: u64,
    deleting: bool,
}

impl Seen {
    fn of<K: Kind>(obj: &K) -> Self {
        Seen {
            published: obj.published(),
            holds: obj.holds().into_iter().collect(),
            references: digest(&obj.references()),
            deleting: obj.meta().deletion_timestamp.is_some(),
        }
    }

    /// Whether this version lets go of something `before` held (an ID, its references, or itself
    /// by being deleted): only that can unblock what it uses, which waits for its users to move
    /// off before it removes anything. A user starting to hold more (a creation storm of load
    /// balancers in one VpcTier) requeues nothing; the used object reads who holds what afresh
    /// whenever it reconciles.
    fn releases(&self, before: &Seen) -> bool {
        (self.deleting && !before.deleting)
            || self.references != before.references
            || before.holds.iter().any(|id| !self.holds.contains(id))
    }
}

/// Drives the kind's watch into its cache, telling other kinds what changed for them.
async fn publish<K: Kind>(
    api: Api<K>,
    writer: reflector::store::Writer<K>,
    changes: broadcast::Sender<Change>,
    published_now: Published,
) {
    // The cache keeps every object; managed fields are most of an object's size and unused.
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut K| o.managed_fields_mut().clear())
        .reflect_shared(writer);
    let mut stream = std::pin::pin!(stream);
    let mut last: HashMap<String, Seen> = HashMap::new();
    while let Some(event) = stream.next().await {
        let (obj, deleted) = match event {
            Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => (o, false),
            Ok(watcher::Event::Delete(o)) => (o, true),
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(kind = K::KIND, error = %e, "watch failed; retrying");
                continue;
            }
        };
        let uid = obj.uid().unwrap_or_default();
        let key = (K::KIND, obj.namespace().unwrap_or_default(), obj.name_any());
        let now = Seen::of(&obj);
        match deleted {
            true => published_now.lock().expect("published digests").remove(&key),
            false => published_now.lock().expect("published digests").insert(key, now.published),
        };
        let before = if deleted { last.remove(&uid) } else { last.insert(uid, now.clone()) };
        let (published, holds) = match before {
            _ if deleted => (true, true),
            Some(b) => (b.published != now.published, now.releases(&b)),
            None => (true, false),
        };
        if !(published || holds) {
            continue;
        }
        // No receiver yet (controllers starting) is fine: they list everything when they start.
        let _ = changes.send(Change {
            kind: K::KIND,
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            references: Arc::new(obj.references()),
            published,
            holds,
        });
    }
}

/// The last trigger key seen per object UID; pruned to the cache's objects.
type SeenKeys = Arc<Mutex<HashMap<String, u64>>>;

/// The kind's own objects, only when something a reconcile acts on changed: the spec
/// (generation), deletion, finalizers or the pause annotation. Status writes, the controller's
/// own included, trigger nothing.
fn spec_changes<K: Kind>(
    objects: impl Stream<Item = Arc<K>> + Send + 'static,
    seen: SeenKeys,
) -> impl Stream<Item = Arc<K>> + Send {
    objects.filter(move |o| {
        let key = digest(&(
            o.meta().generation,
            o.meta().deletion_timestamp.is_some(),
            &o.meta().finalizers,
            o.annotations().get(PAUSED_ANNOTATION),
        ));
        let changed = seen.lock().expect("trigger keys").insert(o.uid().unwrap_or_default(), key) != Some(key);
        std::future::ready(changed)
    })
}

/// Requeues of `K` objects caused by other objects: a used object publishing something new
/// requeues its users; a user letting go of what it held, or going, requeues what it uses.
fn dependency_triggers<K: Kind>(hub: &Hub, store: Store<K>) -> impl Stream<Item = ObjectRef<K>> + Send + 'static {
    let receiver = hub.changes.subscribe();
    let changes = futures::stream::unfold(receiver, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(change) => return Some((change, rx)),
                // Missed changes are caught by the periodic requeue of every object.
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(missed = n, "dependency changes lagged"),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    changes.flat_map(move |change| {
        let mut refs: Vec<ObjectRef<K>> = Vec::new();
        if change.published {
            refs.extend(
                store
                    .state()
                    .iter()
                    .filter(|o| o.namespace().as_deref() == Some(change.namespace.as_str()))
                    .filter(|o| o.references().iter().any(|r| r.kind == change.kind && r.name == change.name))
                    .map(|o| ObjectRef::from_obj(&**o)),
            );
        }
        if change.holds {
            refs.extend(
                change
                    .references
                    .iter()
                    .filter(|r| r.kind == K::KIND)
                    .map(|r| ObjectRef::new(&r.name).within(&change.namespace)),
            );
        }
        futures::stream::iter(refs)
    })
}

/// How often the objects gauge is refreshed from the cache.
const OBJECT_COUNT_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps `securecart_objects{kind,ready}` in step with the cache of `K`, and forgets the trigger
/// keys of objects that are gone.
async fn count_objects<K: Kind>(store: Store<K>, metrics: Metrics, seen: SeenKeys) {
    loop {
        let mut counts = [("True", 0i64), ("False", 0), ("Unknown", 0)];
        let objects = store.state();
        let live: std::collections::HashSet<String> = objects.iter().filter_map(|o| o.uid()).collect();
        seen.lock().expect("trigger keys").retain(|uid, _| live.contains(uid));
        for obj in objects {
            let state = ready_state(&*obj);
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == state) {
                entry.1 += 1;
            }
        }
        for (state, n) in counts {
            metrics.objects.with_label_values(&[K::KIND, state]).set(n);
        }
        tokio::time::sleep(OBJECT_COUNT_PERIOD).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_named_by_kind_and_name() {
        let u = User { kind: "LoadBalancerPolicy", name: "storefront".into(), holds: vec![] };
        assert_eq!(u.to_string(), "LoadBalancerPolicy storefront");
    }

    fn seen(holds: &[&str], references: u64, deleting: bool) -> Seen {
        Seen { published: 0, holds: holds.iter().map(|h| h.to_string()).collect(), references, deleting }
    }

    #[test]
    fn holding_more_requeues_nothing_letting_go_does() {
        let before = seen(&["subnet-a", "subnet-b"], 1, false);
        assert!(!seen(&["subnet-a", "subnet-b", "subnet-c"], 1, false).releases(&before), "holding more");
        assert!(!seen(&["subnet-b", "subnet-a"], 1, false).releases(&before), "the same, in another order");
        assert!(seen(&["subnet-a", "subnet-c"], 1, false).releases(&before), "moved off subnet-b");
        assert!(seen(&[], 1, false).releases(&before), "holds nothing any more");
        assert!(seen(&["subnet-a", "subnet-b"], 2, false).releases(&before), "references another object");
        assert!(seen(&["subnet-a", "subnet-b"], 1, true).releases(&before), "being deleted");
        assert!(!seen(&["subnet-a", "subnet-b"], 1, true).releases(&seen(&["subnet-a", "subnet-b"], 1, true)));
    }
}
