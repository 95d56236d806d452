//! Ownership tags. Every AWS resource the controller creates carries all of these; it finds its
//! resources by them before creating anything, and never touches a resource without them.

pub const PREFIX: &str = "net.securecart.io/";
pub const OWNER_KIND: &str = "net.securecart.io/owner-kind";
pub const OWNER_NAMESPACE: &str = "net.securecart.io/owner-namespace";
pub const OWNER_NAME: &str = "net.securecart.io/owner-name";
/// The owner's UID: a deleted and re-created object never adopts a retained predecessor's resources.
pub const OWNER_UID: &str = "net.securecart.io/owner-uid";
/// A stable key naming the resource's role in its owner, e.g. `subnet/app/us-east-1b`.
pub const COMPONENT: &str = "net.securecart.io/component";
/// Tags AWS reserves; never diffed, never written.
pub const AWS_RESERVED_PREFIX: &str = "aws:";
