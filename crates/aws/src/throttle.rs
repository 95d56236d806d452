//! Client-side token buckets per AWS API category, so a creation storm is never throttled by
//! AWS itself. Defaults are half of AWS's published refill rates and bucket sizes; a scale
//! factor raises them (an emulator has no limits) or, at 0, turns them off. When AWS throttles
//! anyway (others share the account's budget), the category's rate halves, down to a twentieth
//! of its default, and every call it then lets through wins back a twentieth: sustained
//! throttling slows the controller down, a stray throttled call barely does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// (refill per second, bucket size) at scale 1.
fn published_half(service: &str, mutating: bool) -> (f64, f64) {
    match (service, mutating) {
        // EC2: mutating actions refill 5/s (bucket 200), non-mutating 20/s (bucket 100).
        ("ec2", true) => (2.5, 100.0),
        ("ec2", false) => (10.0, 50.0),
        // Route 53: 5 requests per second per account.
        ("route53", _) => (2.5, 5.0),
        // WAFv2: 1 request per second per action for most mutating actions.
        ("wafv2", true) => (0.5, 1.0),
        ("wafv2", false) => (2.5, 5.0),
        // Elastic Load Balancing: 10 TPS describe, about 5 TPS mutating per region.
        ("elasticloadbalancing", true) => (2.5, 10.0),
        ("elasticloadbalancing", false) => (5.0, 20.0),
        // Shield Advanced: low, fixed rates.
        ("shield", _) => (0.5, 2.0),
        // RDS and ElastiCache publish no per-action rates; their control planes throttle near
        // EC2's mutating rate, and subnet groups change rarely.
        ("rds" | "elasticache", true) => (1.0, 5.0),
        ("rds" | "elasticache", false) => (5.0, 20.0),
        // API Gateway: 10 requests per second per account for most control-plane calls, and
        // CreateResource/CreateDeployment far lower (1 per few seconds).
        ("apigateway" | "apigatewayv2", _) => (2.5, 5.0),
        // CloudWatch: PutMetricAlarm and DeleteAlarms 3 TPS, DescribeAlarms 9 TPS per region.
        ("cloudwatch", true) => (1.5, 3.0),
        ("cloudwatch", false) => (4.5, 9.0),
        // Global Accelerator publishes no per-action rates; its one control plane (us-west-2)
        // serializes an accelerator's changes, so mutating calls go slowly.
        ("globalaccelerator", true) => (1.0, 5.0),
        ("globalaccelerator", false) => (2.5, 10.0),
        // CloudFront publishes no per-action control-plane rates; its mutating calls
        // (UpdateDistribution above all) throttle at a few per second per account, reads higher.
        ("cloudfront", true) => (1.0, 3.0),
        ("cloudfront", false) => (2.5, 10.0),
        _ => (2.5, 10.0),
    }
}

/// Share of the default rate a category keeps at least, and wins back per call let through.
const FLOOR_AND_STEP: f64 = 0.05;

struct Bucket {
    default_rate: f64,
    refill_per_second: f64,
    capacity: f64,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(refill_per_second: f64, capacity: f64, now: Instant) -> Self {
        Self { default_rate: refill_per_second, refill_per_second, capacity, tokens: capacity, updated: now }
    }

    /// AWS throttled a call of this category: halve the rate and spend what is left.
    fn throttled(&mut self) {
        self.refill_per_second = (self.refill_per_second / 2.0).max(self.default_rate * FLOOR_AND_STEP);
        self.tokens = self.tokens.min(0.0);
    }

    /// Takes a token, or says how long to wait for one.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            let recovered = self.refill_per_second + self.default_rate * FLOOR_AND_STEP;
            self.refill_per_second = recovered.min(self.default_rate);
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.refill_per_second))
        }
    }
}

pub struct RateLimits {
    scale: f64,
    buckets: Mutex<HashMap<(String, bool), Bucket>>,
}

impl RateLimits {
    /// `scale` multiplies every default rate and bucket size; 0 disables limiting.
    pub fn new(scale: f64) -> Self {
        Self { scale, buckets: Mutex::default() }
    }

    fn bucket<'b>(
        &self,
        buckets: &'b mut HashMap<(String, bool), Bucket>,
        service: &str,
        mutating: bool,
    ) -> &'b mut Bucket {
        buckets.entry((service.to_string(), mutating)).or_insert_with(|| {
            let (rate, size) = published_half(service, mutating);
            Bucket::new(rate * self.scale, (size * self.scale).max(1.0), Instant::now())
        })
    }

    /// AWS throttled one attempt of a call of this category.
    pub async fn throttled(&self, service: &str, mutating: bool) {
        if self.scale <= 0.0 {
            return;
        }
        let mut buckets = self.buckets.lock().await;
        let bucket = self.bucket(&mut buckets, service, mutating);
        bucket.throttled();
        tracing::debug!(
            service,
            mutating,
            refill_per_second = bucket.refill_per_second,
            "AWS throttled: client-side rate lowered"
        );
    }

    /// Waits for a token of the call's category; returns how long it waited.
    pub async fn acquire(&self, service: &str, mutating: bool) -> Duration {
        if self.scale <= 0.0 {
            return Duration::ZERO;
        }
        let mut waited = Duration::ZERO;
        loop {
            let wait = {
                let mut buckets = self.buckets.lock().await;
                self.bucket(&mut buckets, service, mutating).take(Instant::now())
            };
            match wait {
                None => return waited,
                Some(d) => {
                    waited += d;
                    tokio::time::sleep(d).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_serves_its_burst_then_refills_at_its_rate() {
        let start = Instant::now();
        let mut b = Bucket::new(2.0, 3.0, start);
        assert!((0..3).all(|_| b.take(start).is_none()), "the burst is served at once");
        let wait = b.take(start).expect("empty bucket");
        assert_eq!(wait, Duration::from_millis(500), "one token at 2/s");
        assert!(b.take(start + Duration::from_millis(500)).is_none());
        // Never more than its capacity, however long it idles.
        let later = start + Duration::from_secs(60);
        assert!((0..3).all(|_| b.take(later).is_none()));
        assert!(b.take(later).is_some());
    }

    #[test]
    fn throttling_halves_the_rate_down_to_a_floor_and_calls_let_through_win_it_back() {
        let start = Instant::now();
        let mut b = Bucket::new(10.0, 10.0, start);
        b.throttled();
        assert_eq!(b.refill_per_second, 5.0);
        assert_eq!(b.take(start), Some(Duration::from_millis(200)), "what was left is spent");
        for _ in 0..10 {
            b.throttled();
        }
        assert_eq!(b.refill_per_second, 0.5, "never below a twentieth of the default");
        // Each call let through wins back a twentieth; the default is the ceiling.
        let mut now = start;
        for _ in 0..40 {
            now += Duration::from_secs(10);
            assert!(b.take(now).is_none());
        }
        assert_eq!(b.refill_per_second, 10.0);
    }

    #[tokio::test]
    async fn a_stray_throttle_barely_slows_a_category_and_scale_zero_ignores_it() {
        let limits = RateLimits::new(1.0);
        limits.throttled("ec2", false).await;
        let rate = limits.buckets.lock().await[&("ec2".to_string(), false)].refill_per_second;
        assert_eq!(rate, 5.0, "halved from 10");
        let off = RateLimits::new(0.0);
        off.throttled("ec2", false).await;
        assert!(off.buckets.lock().await.is_empty());
    }

    #[tokio::test]
    async fn scale_zero_never_waits() {
        let limits = RateLimits::new(0.0);
        for _ in 0..1000 {
            assert_eq!(limits.acquire("wafv2", true).await, Duration::ZERO);
        }
    }

    #[tokio::test]
    async fn defaults_are_half_of_published_rates() {
        assert_eq!(published_half("ec2", true), (2.5, 100.0));
        assert_eq!(published_half("route53", true), (2.5, 5.0));
        assert_eq!(published_half("cloudwatch", true), (1.5, 3.0));
        assert_eq!(published_half("cloudwatch", false), (4.5, 9.0));
        let limits = RateLimits::new(1.0);
        // WAFv2 mutating: a bucket of one, so the second call waits about two seconds.
        assert_eq!(limits.acquire("wafv2", true).await, Duration::ZERO);
        let buckets = limits.buckets.lock().await;
        assert!(buckets[&("wafv2".to_string(), true)].tokens < 1.0);
    }
}
