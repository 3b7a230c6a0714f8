use super::*;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

fn ms(n: i64) -> TimeDelta {
    TimeDelta::milliseconds(n)
}

#[test]
fn request_bucket_allows_a_full_burst_then_refills_one_per_interval() {
    let mut b = RequestBucket::new(60); // one per second
    let now = t0();
    for i in 0..60 {
        assert_eq!(b.remaining(now), 60 - i);
        b.check(now).unwrap();
        b.take(now);
    }
    assert_eq!(b.remaining(now), 0);
    assert_eq!(b.check(now), Err(Duration::from_secs(1)));
    // 400 ms later the next request is 600 ms away.
    assert_eq!(b.check(now + ms(400)), Err(Duration::from_millis(600)));
    assert!(b.check(now + ms(1000)).is_ok());
    assert_eq!(b.remaining(now + ms(2500)), 2);
    // A full minute of quiet refills it completely.
    assert_eq!(b.remaining(now + TimeDelta::seconds(60)), 60);
}

#[test]
fn request_bucket_survives_a_clock_that_steps_back() {
    let mut b = RequestBucket::new(2);
    let now = t0();
    b.take(now);
    b.take(now);
    // An hour backwards: at most one window's wait, not an hour's.
    let earlier = now - TimeDelta::hours(1);
    let wait = b.check(earlier).unwrap_err();
    assert!(wait <= Duration::from_secs(30), "{wait:?}");
}

#[test]
fn token_window_counts_settled_and_in_flight_and_expires_after_sixty_seconds() {
    let mut w = TokenWindow::new(1000);
    let now = t0();
    w.record(now, 600);
    w.record(now + ms(5_000), 300);
    w.reserve(50);
    assert_eq!(w.remaining(now + ms(5_000)), 50);
    assert!(w.check(now + ms(5_000), 50).is_ok());
    // 100 more needs the first entry (600, settled at t0) to expire: at t0 + 60 s.
    assert_eq!(
        w.check(now + ms(10_000), 100),
        Err(TokenRefusal::Wait(Duration::from_secs(50)))
    );
    assert!(w.check(now + ms(60_000), 100).is_ok());
    assert_eq!(w.remaining(now + ms(60_000)), 1000 - 300 - 50);
    w.release(50);
    assert_eq!(w.remaining(now + ms(65_000)), 1000);
}

#[test]
fn token_window_refuses_a_prompt_larger_than_the_limit_outright() {
    let mut w = TokenWindow::new(100);
    assert_eq!(w.check(t0(), 101), Err(TokenRefusal::TooLarge));
    assert!(w.check(t0(), 100).is_ok());
}

#[test]
fn token_window_blocked_by_in_flight_prompts_asks_for_a_short_wait() {
    let mut w = TokenWindow::new(100);
    w.reserve(90);
    assert_eq!(
        w.check(t0(), 20),
        Err(TokenRefusal::Wait(Duration::from_secs(1)))
    );
}

#[test]
fn settlements_in_one_slot_share_an_entry_stamped_with_the_latest() {
    let mut w = TokenWindow::new(1000);
    let now = t0();
    w.record(now, 100);
    w.record(now + ms(50), 100);
    w.record(now + ms(20), 100); // out of order: joins the newest entry
    assert_eq!(w.entries.len(), 1);
    w.record(now + ms(150), 100);
    assert_eq!(w.entries.len(), 2);
    // The first entry expires 60 s after its latest settlement (t0 + 50 ms), not earlier.
    assert_eq!(w.remaining(now + ms(60_049)), 600);
    assert_eq!(w.remaining(now + ms(60_050)), 900);
}
